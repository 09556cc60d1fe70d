// The C interface of saekit's CPU kernels: each function takes the path to run (0 portable,
// 1 AVX2 + FMA, 2 AVX-512; saekit/sae/kernels/compiled.py picks the best the CPU supports, or
// the one SAEKIT_KERNEL_PATH names) and calls that path's version.
#include "kernels.h"

namespace {

bool supported(int path) {
  switch (path) {
    case 0:
      return true;
    case 1:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case 2:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    default:
      return false;
  }
}

}  // namespace

extern "C" {

int saekit_path_supported(int path) { return supported(path); }

// x: `rows` rows of `cols` entries, row r at x + r * row_stride entries; bfloat16 when `bf16`,
// else float32. out: rows x k column indices, each row's k largest in no particular order.
// Returns 0; 1 when a row holds NaN (out is then incomplete); -1 when `stripes` does not fit or
// the path cannot run here. One thread: after PyTorch's own parallel regions its OpenMP workers
// spin on the other cores, and a second thread here made the training step slower (measured).
int saekit_topk_rows(int path, const void* x, int bf16, int64_t rows, int64_t cols,
                     int64_t row_stride, int k, int stripes, int64_t* out) {
  if (k < 1 || stripes % 16 || stripes > SAEKIT_MAX_STRIPES || stripes < 2 * k || k > cols ||
      !supported(path))
    return -1;
  auto run = path == 2 ? saekit_avx512::topk_rows
             : path == 1 ? saekit_avx2::topk_rows
                         : saekit_portable::topk_rows;
  return run(x, bf16, rows, cols, row_stride, k, stripes, out);
}

double saekit_auxk_forward(int path, const float* pre, const int64_t* indices, int64_t rows,
                           int64_t k, const float* W_dec, const float* residual, int64_t d_out,
                           float* error) {
  auto run = path == 2 && supported(2) ? saekit_avx512::auxk_forward
             : path == 1 && supported(1) ? saekit_avx2::auxk_forward
                                         : saekit_portable::auxk_forward;
  return run(pre, indices, rows, k, W_dec, residual, d_out, error);
}

void saekit_auxk_backward(int path, const float* pre, const int64_t* indices, int64_t rows,
                          int64_t k, const float* W_dec, const float* error, int64_t d_out,
                          const float* x, int64_t d_in, float scale, float* grad_W_dec,
                          float* grad_W_enc_t, float* grad_b_enc) {
  auto run = path == 2 && supported(2) ? saekit_avx512::auxk_backward
             : path == 1 && supported(1) ? saekit_avx2::auxk_backward
                                         : saekit_portable::auxk_backward;
  run(pre, indices, rows, k, W_dec, error, d_out, x, d_in, scale, grad_W_dec, grad_W_enc_t,
      grad_b_enc);
}
}
