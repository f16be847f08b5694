// 128-weight blocks through the AVX2 kernels (this file is built with -mavx2, see
// tests/CMakeLists.txt); skipped on a CPU without AVX2.
#if defined(__x86_64__)
#define P128_SUITE P128RowsAvx2
#define P128_REQUIRE() \
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2"
#include "p128_rows_test.h"
#endif
