// AuxK's kernels (auxk_fused.inc) compiled for the portable path.
#define SAEKIT_PATH saekit_portable
#define SAEKIT_TARGET 
#include "auxk_fused.inc"
