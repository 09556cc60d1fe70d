// AuxK's kernels (auxk_fused.inc) compiled for the avx512 path.
#define SAEKIT_PATH saekit_avx512
#define SAEKIT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#include "auxk_fused.inc"
