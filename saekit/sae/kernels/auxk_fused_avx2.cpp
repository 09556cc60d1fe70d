// AuxK's kernels (auxk_fused.inc) compiled for the avx2 path.
#define SAEKIT_PATH saekit_avx2
#define SAEKIT_TARGET __attribute__((target("avx2,fma")))
#include "auxk_fused.inc"
