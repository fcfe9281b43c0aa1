/*
 * What libmagic's and gnulib's code links to but a buffer scan in one thread never calls: the
 * file-system checks (fsmagic.c, left out), the temporary files of decompression (libmagic's
 * MAGIC_COMPRESS, not set), and C11 locks for gnulib's locale code (one thread, so no-ops).
 */
#include <errno.h>

struct stat;
struct magic_set;

int file_fsmagic(struct magic_set *ms, const char *path, struct stat *info) {
  (void)ms;
  (void)path;
  (void)info;
  return 0;
}

char *mktemp(char *template) {
  template[0] = '\0';
  return template;
}

int dup2(int from, int to) {
  (void)from;
  (void)to;
  errno = ENOSYS;
  return -1;
}

typedef struct {
  int unused;
} mtx_t;
typedef int once_flag;

int mtx_init(mtx_t *mutex, int type) {
  (void)mutex;
  (void)type;
  return 0;
}

int mtx_lock(mtx_t *mutex) {
  (void)mutex;
  return 0;
}

int mtx_unlock(mtx_t *mutex) {
  (void)mutex;
  return 0;
}

void call_once(once_flag *flag, void (*function)(void)) {
  if (!*flag) {
    *flag = 1;
    function();
  }
}
