/*
 * What the mimetype plugin calls in libmagic.wasm: one magic_set per instance, loaded from the
 * compiled database the host copies in, and magic_buffer() on bytes the host copies in.
 */
#include <stddef.h>
#include <stdlib.h>

#include "magic.h"

static magic_t ms;

__attribute__((export_name("stoq_alloc"))) void *stoq_alloc(size_t size) {
  return malloc(size);
}

__attribute__((export_name("stoq_free"))) void stoq_free(void *pointer) { free(pointer); }

/* Opens libmagic with `flags` and the compiled database at `db`, which must stay allocated. */
__attribute__((export_name("stoq_open"))) int stoq_open(int flags, void *db, size_t size) {
  ms = magic_open(flags);
  if (ms == NULL) return -1;
  void *buffers[1] = {db};
  size_t sizes[1] = {size};
  return magic_load_buffers(ms, buffers, sizes, 1);
}

/* libmagic's answer for `size` bytes at `bytes`, or NULL (then stoq_error() says why). */
__attribute__((export_name("stoq_buffer"))) const char *stoq_buffer(const void *bytes,
                                                                    size_t size) {
  return magic_buffer(ms, bytes, size);
}

__attribute__((export_name("stoq_error"))) const char *stoq_error(void) {
  const char *error = magic_error(ms);
  return error == NULL ? "" : error;
}
