// 128-weight blocks through the AVX-512 VNNI kernel (this file is built with
// -march=x86-64-v4 -mavx512vnni, see tests/CMakeLists.txt); skipped on a CPU without them.
#if defined(__x86_64__)
#define P128_SUITE P128RowsAvx512Vnni
#define P128_REQUIRE()                                                                                          \
  if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) \
  GTEST_SKIP() << "this CPU has no AVX-512 VNNI"
#include "p128_rows_test.h"
#endif
