/* trace.h: one traced value per line, in the form evidence's parse-trace stage reads
 *
 *     TRACE_C: key v1 v2 ...
 *
 * Numbers are printed with %.15g (a NaN as "nan", whatever its sign bit), the same digits as the
 * port-side helpers print (port/trace.mjs prints C's %.15g digit for digit), so both sides agree
 * on the format by construction and only the numbers can differ.
 *
 *     TRACE("pix0_vector_meters", x, y, z);   one or more numbers, each converted to double
 *     TRACE_INT("steps", steps);              one or more integers, printed exactly (long long)
 *     TRACE_VEC("rotation", m, 9);            n doubles from an array (a matrix: row-major)
 *     TRACE_VECF("weights", w, n);            n floats from an array
 *
 * Before including it:  #define TRACE_PREFIX "TRACE_CPP"  labels another program's lines (or pass
 * -DTRACE_PREFIX='"TRACE_CPP"'); #define TRACE_STREAM stderr  writes elsewhere than stdout;
 * #define TRACE_OFF  compiles every TRACE away. Header only; C99 or later, and C++11 or later.
 * Each line is flushed as it is written, so a crash loses none of the lines before it. Lines of
 * two threads may interleave: trace from one thread.
 */
#ifndef EVIDENCE_TRACE_H
#define EVIDENCE_TRACE_H

#include <stddef.h>
#include <stdio.h>

#ifndef TRACE_PREFIX
#define TRACE_PREFIX "TRACE_C"
#endif
#ifndef TRACE_STREAM
#define TRACE_STREAM stdout
#endif

static inline void trace_number_(FILE *f, double v) {
  /* glibc prints a NaN with its sign bit set as "-nan"; the other helpers print "nan". */
  if (v != v) fputs(" nan", f);
  else fprintf(f, " %.15g", v);
}

static inline void trace_doubles(const char *key, const double *v, size_t n) {
  FILE *f = TRACE_STREAM;
  fprintf(f, "%s: %s", TRACE_PREFIX, key);
  for (size_t i = 0; i < n; i++) trace_number_(f, v[i]);
  fputc('\n', f);
  fflush(f);
}

static inline void trace_floats(const char *key, const float *v, size_t n) {
  FILE *f = TRACE_STREAM;
  fprintf(f, "%s: %s", TRACE_PREFIX, key);
  for (size_t i = 0; i < n; i++) trace_number_(f, (double)v[i]);
  fputc('\n', f);
  fflush(f);
}

static inline void trace_integers(const char *key, const long long *v, size_t n) {
  FILE *f = TRACE_STREAM;
  fprintf(f, "%s: %s", TRACE_PREFIX, key);
  for (size_t i = 0; i < n; i++) fprintf(f, " %lld", v[i]);
  fputc('\n', f);
  fflush(f);
}

#if defined(TRACE_OFF)
#define TRACE(key, ...) ((void)0)
#define TRACE_INT(key, ...) ((void)0)
#define TRACE_VEC(key, v, n) ((void)0)
#define TRACE_VECF(key, v, n) ((void)0)
#elif defined(__cplusplus)
/* C++ has no compound literals: a variadic template makes the same array. */
template <typename... T>
inline void trace_values_(const char *key, T... v) {
  const double values[] = {static_cast<double>(v)...};
  trace_doubles(key, values, sizeof...(T));
}
template <typename... T>
inline void trace_ints_(const char *key, T... v) {
  const long long values[] = {static_cast<long long>(v)...};
  trace_integers(key, values, sizeof...(T));
}
#define TRACE(key, ...) trace_values_((key), __VA_ARGS__)
#define TRACE_INT(key, ...) trace_ints_((key), __VA_ARGS__)
#define TRACE_VEC(key, v, n) trace_doubles((key), (v), (size_t)(n))
#define TRACE_VECF(key, v, n) trace_floats((key), (v), (size_t)(n))
#else
/* The values become one array; sizeof does not evaluate its operand, so each argument is evaluated once. */
#define TRACE(key, ...) \
  trace_doubles((key), (const double[]){__VA_ARGS__}, sizeof((const double[]){__VA_ARGS__}) / sizeof(double))
#define TRACE_INT(key, ...) \
  trace_integers((key), (const long long[]){__VA_ARGS__}, sizeof((const long long[]){__VA_ARGS__}) / sizeof(long long))
#define TRACE_VEC(key, v, n) trace_doubles((key), (v), (size_t)(n))
#define TRACE_VECF(key, v, n) trace_floats((key), (v), (size_t)(n))
#endif

#endif /* EVIDENCE_TRACE_H */
