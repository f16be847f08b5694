// 128-weight blocks through the plain C loop (this file is built without AVX2).
#define P128_SUITE P128RowsPlainC
#include "p128_rows_test.h"
