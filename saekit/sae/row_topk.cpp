// The k largest entries of each row of a float32 or bfloat16 matrix, for the CPU (AVX-512).
// Built and loaded by saekit/sae/row_topk.py; PyTorch's top-k is the reference and the fallback.
//
// PyTorch's CPU top-k runs a selection (nth_element / partial_sort) over every entry of a row,
// whose data-dependent branches mispredict: ~5 ns an entry. Here each row costs two branch-free
// vector passes and a small selection:
//   1. the maxima of `stripes` interleaved stripes (columns j = g mod stripes), stripes >= 2k;
//   2. t, the k-th largest of those maxima: k stripes have a maximum >= t, so at least k entries
//      are >= t and every entry of the top k is;
//   3. the entries >= t (a little over k) are compressed into a buffer, and the k largest of them
//      are picked by counting, for each, the candidates above it (no data-dependent branch).
// Ties at the k-th value are taken in column order. A row holding NaN is reported (return 1)
// so that the caller can use PyTorch's top-k, which ranks NaN first.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr int MAX_STRIPES = 256;

inline float bf16_to_float(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) inline __m512 load16(const void* row, int j) {
  if (BF16) {
    auto bits = reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + j);
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(bits));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  return _mm512_loadu_ps(static_cast<const float*>(row) + j);
}

template <bool BF16>
inline float load1(const void* row, int j) {
  if (BF16) return bf16_to_float(static_cast<const uint16_t*>(row)[j]);
  return static_cast<const float*>(row)[j];
}

// The k-th largest of values[0..n) (n a multiple of 16; padding is -inf): the smallest value
// with fewer than k values above it.
__attribute__((target("avx512f,avx512bw"))) float kth_largest(const float* values, int n, int k) {
  float kth = INFINITY;
  for (int i = 0; i < n; ++i) {
    __m512 candidate = _mm512_set1_ps(values[i]);
    int above = 0;
    for (int j = 0; j < n; j += 16) {
      __mmask16 greater = _mm512_cmp_ps_mask(_mm512_loadu_ps(values + j), candidate, _CMP_GT_OQ);
      above += __builtin_popcount(greater);
    }
    kth = above < k ? std::min(kth, values[i]) : kth;
  }
  return kth;
}

struct Scratch {
  alignas(64) float maxima[MAX_STRIPES];
  std::vector<float> values;  // the candidates (every entry of a row, at worst), 16 spare
  std::vector<int32_t> columns;
  explicit Scratch(int64_t cols) : values(cols + 32), columns(cols + 32) {}
};

// Steps 1-2: the threshold t; false when the row holds NaN.
template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) bool stripe_threshold(const void* row, int cols, int k,
                                                                   int stripes, float* maxima,
                                                                   float* threshold) {
  for (int g = 0; g < stripes; g += 16) _mm512_store_ps(maxima + g, _mm512_set1_ps(-INFINITY));
  __mmask16 nan = 0;
  int j = 0;
  for (; j + stripes <= cols; j += stripes) {
    for (int g = 0; g < stripes; g += 16) {
      __m512 x = load16<BF16>(row, j + g);
      nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
      _mm512_store_ps(maxima + g, _mm512_max_ps(_mm512_load_ps(maxima + g), x));
    }
  }
  for (int g = 0; j < cols; ++j, ++g) {
    float x = load1<BF16>(row, j);
    nan |= std::isnan(x);
    maxima[g] = std::max(maxima[g], x);
  }
  *threshold = kth_largest(maxima, stripes, k);
  return !nan;
}

// Step 3: the entries >= threshold into scratch; returns how many.
template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) int compress_candidates(const void* row, int cols,
                                                                    float threshold, Scratch& s) {
  float* values = s.values.data();
  int32_t* columns = s.columns.data();
  const __m512 t = _mm512_set1_ps(threshold);
  const __m512i sixteen = _mm512_set1_epi32(16);
  __m512i column = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int count = 0, j = 0;
  for (; j + 16 <= cols; j += 16) {
    __m512 x = load16<BF16>(row, j);
    __mmask16 keep = _mm512_cmp_ps_mask(x, t, _CMP_GE_OQ);
    // compress into registers, then a full store: a compressing store to memory is slow on
    // some CPUs, and the buffer has 16 spare slots
    _mm512_storeu_ps(values + count, _mm512_maskz_compress_ps(keep, x));
    _mm512_storeu_si512(columns + count, _mm512_maskz_compress_epi32(keep, column));
    count += __builtin_popcount(keep);
    column = _mm512_add_epi32(column, sixteen);
  }
  for (; j < cols; ++j) {
    float x = load1<BF16>(row, j);
    values[count] = x;
    columns[count] = j;
    count += x >= threshold;
  }
  return count;
}

// The k largest of the candidates into out: all above the k-th value, then ties at it.
__attribute__((target("avx512f,avx512bw"))) void pick_top(Scratch& s, int count, int k,
                                                          int64_t* out) {
  float* values = s.values.data();
  const int32_t* columns = s.columns.data();
  int padded = (count + 15) / 16 * 16;
  for (int i = count; i < padded; ++i) values[i] = -INFINITY;
  float kth = kth_largest(values, padded, k);
  int taken = 0;
  for (int i = 0; i < count; ++i) {
    out[taken] = columns[i];
    taken += values[i] > kth;
  }
  for (int i = 0; i < count && taken < k; ++i) {
    out[taken] = columns[i];
    taken += values[i] == kth;
  }
}

template <bool BF16>
bool row_topk(const void* row, int cols, int k, int stripes, Scratch& s, int64_t* out) {
  float threshold;
  if (!stripe_threshold<BF16>(row, cols, k, stripes, s.maxima, &threshold)) return false;
  pick_top(s, compress_candidates<BF16>(row, cols, threshold, s), k, out);
  return true;
}

}  // namespace

extern "C" {

int saekit_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

// x: `rows` rows of `cols` entries, row r at x + r * row_stride entries; bfloat16 when `bf16`,
// else float32. out: rows x k column indices, each row's k largest in no particular order.
// Returns 0; 1 when a row holds NaN (out is then incomplete); -1 when `stripes` does not fit.
// One thread: after PyTorch's own parallel regions its OpenMP workers spin on the other cores,
// and a second thread here made the training step slower, not faster (measured).
int saekit_topk_rows(const void* x, int bf16, int64_t rows, int64_t cols, int64_t row_stride,
                     int k, int stripes, int64_t* out) {
  if (k < 1 || stripes % 16 || stripes > MAX_STRIPES || stripes < 2 * k || stripes > cols)
    return -1;
  const int64_t row_bytes = row_stride * (bf16 ? 2 : 4);
  Scratch scratch(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const void* row = static_cast<const char*>(x) + r * row_bytes;
    bool ok = bf16 ? row_topk<true>(row, int(cols), k, stripes, scratch, out + r * k)
                   : row_topk<false>(row, int(cols), k, stripes, scratch, out + r * k);
    if (!ok) return 1;
  }
  return 0;
}
}
