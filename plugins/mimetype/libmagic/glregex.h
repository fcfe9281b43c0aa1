/*
 * Included before each libmagic source: regcomp() and friends are gnulib's (glibc's engine, as in
 * Debian's `file`), built with the same options as libgnu.a, rather than wasi-libc's (musl's TRE).
 */
#define _REGEX_INCLUDE_LIMITS_H 1
#define _REGEX_LARGE_OFFSETS 1
#define regcomp rpl_regcomp
#define regexec rpl_regexec
#define regerror rpl_regerror
#define regfree rpl_regfree
