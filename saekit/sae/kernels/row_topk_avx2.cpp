// The row top-k (row_topk_generic.inc) compiled for the avx2 path.
#define SAEKIT_PATH saekit_avx2
#define SAEKIT_TARGET __attribute__((target("avx2,fma")))
#include "row_topk_generic.inc"
