// The row top-k (row_topk_generic.inc) compiled for the portable path.
#define SAEKIT_PATH saekit_portable
#define SAEKIT_TARGET 
#include "row_topk_generic.inc"
