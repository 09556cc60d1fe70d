// AuxK's loss and its gradients for the CPU (float32, AVX-512), one pass each: the sampled rows'
// code over their top dead latents is decoded against the residual, and from the saved error
// every weight row the code touched gets its gradient. Built and loaded by
// saekit/sae/compiled.py; the autograd path of saekit/sae/topk.py is the reference.
//
// With d_in 64 and batch 1024 AuxK was about a third of a training step, nearly all of it the
// fixed cost of ~60 small PyTorch operations (and their autograd nodes) on 8k code entries; here
// it is two calls.
#include <immintrin.h>

#include <cstdint>

namespace {

__attribute__((target("avx512f"))) inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
}

// out[0..n) += a * x[0..n)
__attribute__((target("avx512f"))) inline void axpy(float a, const float* x, float* out,
                                                    int64_t n) {
  const __m512 scale = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 sum = _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(m, x + i),
                                 _mm512_maskz_loadu_ps(m, out + i));
    _mm512_mask_storeu_ps(out + i, m, sum);
  }
}

__attribute__((target("avx512f"))) inline float dot(const float* a, const float* b, int64_t n) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), sum);
  }
  return _mm512_reduce_add_ps(sum);
}

}  // namespace

extern "C" {

// error[r] = sum_j relu(pre[r, j]) * W_dec[indices[r, j]] - residual[r] for `rows` rows of a
// code with k entries a row (all arrays contiguous); returns the sum of the squared errors.
__attribute__((target("avx512f"))) double saekit_auxk_forward(
    const float* pre, const int64_t* indices, int64_t rows, int64_t k, const float* W_dec,
    const float* residual, int64_t d_out, float* error) {
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    float* e = error + r * d_out;
    for (int64_t i = 0; i < d_out; ++i) e[i] = -residual[r * d_out + i];
    for (int64_t j = 0; j < k; ++j) {
      float value = pre[r * k + j];
      if (value > 0) axpy(value, W_dec + indices[r * k + j] * d_out, e, d_out);
    }
    total += dot(e, e, d_out);
  }
  return total;
}

// The gradients of scale * sum(error^2) (error from saekit_auxk_forward), added into
// grad_W_dec [d_sae, d_out], grad_W_enc_t [d_sae, d_in] (W_enc's gradient, transposed) and
// grad_b_enc [d_sae]; x holds the rows' encoder inputs [rows, d_in]. A latent at or below zero
// passes no gradient (the ReLU's).
__attribute__((target("avx512f"))) void saekit_auxk_backward(
    const float* pre, const int64_t* indices, int64_t rows, int64_t k, const float* W_dec,
    const float* error, int64_t d_out, const float* x, int64_t d_in, float scale,
    float* grad_W_dec, float* grad_W_enc_t, float* grad_b_enc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* e = error + r * d_out;
    for (int64_t j = 0; j < k; ++j) {
      float value = pre[r * k + j];
      if (!(value > 0)) continue;
      int64_t latent = indices[r * k + j];
      axpy(2 * scale * value, e, grad_W_dec + latent * d_out, d_out);
      float grad_pre = 2 * scale * dot(e, W_dec + latent * d_out, d_out);
      axpy(grad_pre, x + r * d_in, grad_W_enc_t + latent * d_in, d_in);
      grad_b_enc[latent] += grad_pre;
    }
  }
}
}
