// The entry points each path of saekit's CPU kernels defines (namespaces saekit_avx512,
// saekit_avx2, saekit_portable); dispatch.cpp exports them to Python by path number.
#pragma once
#include <cstdint>

// The most stripe maxima a row's top-k ranks (2k rounded up to 16, so k <= 128).
constexpr int SAEKIT_MAX_STRIPES = 256;

#define SAEKIT_DECLARE_PATH(NS)                                                                  \
  namespace NS {                                                                                 \
  int topk_rows(const void* x, int bf16, int64_t rows, int64_t cols, int64_t row_stride, int k,  \
                int stripes, int64_t* out);                                                      \
  double auxk_forward(const float* pre, const int64_t* indices, int64_t rows, int64_t k,         \
                      const float* W_dec, const float* residual, int64_t d_out, float* error);   \
  void auxk_backward(const float* pre, const int64_t* indices, int64_t rows, int64_t k,          \
                     const float* W_dec, const float* error, int64_t d_out, const float* x,      \
                     int64_t d_in, float scale, float* grad_W_dec, float* grad_W_enc_t,          \
                     float* grad_b_enc);                                                         \
  }

SAEKIT_DECLARE_PATH(saekit_avx512)
SAEKIT_DECLARE_PATH(saekit_avx2)
SAEKIT_DECLARE_PATH(saekit_portable)
