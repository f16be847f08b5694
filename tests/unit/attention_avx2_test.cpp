// The attention value sum through the AVX2 kernel (this file is built with -mavx2, see
// tests/CMakeLists.txt); skipped on a CPU without AVX2.
#if defined(__x86_64__)
#define VALUE_SUM_SUITE ValueSumAvx2
#define VALUE_SUM_REQUIRE() \
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2"
#include "attention_value_sum_test.h"
#endif
