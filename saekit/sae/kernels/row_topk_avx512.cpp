// The k largest entries of each row of a float32 or bfloat16 matrix: the AVX-512 path (the AVX2
// and portable paths, row_topk_generic.inc, run the same algorithm). Built and loaded by
// saekit/sae/kernels/compiled.py, called through dispatch.cpp from row_topk.py; PyTorch's top-k
// is the reference and the fallback.
//
// PyTorch's CPU top-k runs a selection (nth_element / partial_sort) over every entry of a row,
// whose data-dependent branches mispredict: ~5 ns an entry. Here entries are compared as
// order-preserving unsigned keys, and each row costs two branch-free vector passes and a small
// selection:
//   1. the maxima of `stripes` interleaved stripes (columns j = g mod stripes), stripes >= 2k;
//   2. t, the k-th largest of those maxima: k stripes have a maximum >= t, so at least k entries
//      are >= t and every entry of the top k is;
//   3. the entries >= t (a little over k) are compressed into a buffer, and a threshold found
//      among them by counting (`kth_threshold`): the top k are the candidates above it, then
//      ties at it in column order.
// Rows narrower than four columns a stripe skip steps 1-2 (every entry is a candidate). A row
// holding NaN is reported (return 1) so that the caller can use PyTorch's top-k, which ranks
// NaN first.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace {

constexpr int MAX_STRIPES = SAEKIT_MAX_STRIPES;
constexpr int ACCUMULATORS = 64;  // stripes x copies for the maxima pass (>= 4 vectors in flight)
static_assert(ACCUMULATORS <= MAX_STRIPES, "the maxima buffer holds every copy");

// Order-preserving keys: a > b as floats (no NaN) iff key(a) > key(b) as unsigned integers, with
// -0.0 just below +0.0. Every comparison below is on keys.
inline uint32_t key_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits ^ (uint32_t(int32_t(bits) >> 31) | 0x80000000u);
}

template <bool BF16>
inline float load1(const void* row, int j) {
  if (BF16) {
    uint32_t wide = uint32_t(static_cast<const uint16_t*>(row)[j]) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
  }
  return static_cast<const float*>(row)[j];
}

// Sixteen entries from column j as keys; NaN lanes are added to `nan`.
template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) inline __m512i load_keys(const void* row, int j,
                                                                    __mmask16& nan) {
  __m512i bits;
  if (BF16) {
    auto half = reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + j);
    bits = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(half)), 16);
  } else {
    bits = _mm512_castps_si512(_mm512_loadu_ps(static_cast<const float*>(row) + j));
  }
  __m512 x = _mm512_castsi512_ps(bits);
  nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  __m512i sign = _mm512_srai_epi32(bits, 31);
  return _mm512_xor_si512(bits, _mm512_or_si512(sign, _mm512_set1_epi32(int(0x80000000u))));
}

// How many of keys[0..n) (n a multiple of 16) exceed `candidate`.
__attribute__((target("avx512f,avx512bw"))) inline int count_above(const uint32_t* keys, int n,
                                                                  uint32_t candidate) {
  const __m512i c = _mm512_set1_epi32(int(candidate));
  int above = 0;
  for (int j = 0; j < n; j += 16)
    above += __builtin_popcount(_mm512_cmpgt_epu32_mask(_mm512_loadu_si512(keys + j), c));
  return above;
}

// A key T with at least k of keys[0..n) >= T and at most k above it (n a multiple of 16, padded
// with key 0): so the top k are every key above T and ties at T. Up to QUADRATIC_KEYS keys, the
// k-th largest: the smallest key with fewer than k keys above it (n independent counts); beyond,
// the k-th largest bit by bit from the top (32 counts, each depending on the last), stopping at
// the first prefix that exactly k keys reach.
constexpr int QUADRATIC_KEYS = 32;
__attribute__((target("avx512f,avx512bw"))) uint32_t kth_threshold(const uint32_t* keys, int n,
                                                                   int k) {
  if (n <= QUADRATIC_KEYS) {
    uint32_t kth = UINT32_MAX;
    for (int i = 0; i < n; ++i)
      kth = count_above(keys, n, keys[i]) < k ? std::min(kth, keys[i]) : kth;
    return kth;
  }
  uint32_t prefix = 0;  // the largest prefix so far that at least k keys reach
  for (int bit = 31; bit >= 0; --bit) {
    uint32_t trial = prefix | (1u << bit);
    int reaching = count_above(keys, n, trial - 1);
    if (reaching == k) return trial;
    prefix = reaching > k ? trial : prefix;
  }
  return prefix;
}

struct Scratch {
  alignas(64) uint32_t maxima[MAX_STRIPES];
  std::vector<uint32_t> keys;  // the candidates (every entry of a row, at worst), 16 spare
  std::vector<int32_t> columns;
  std::vector<int32_t> picked;  // the k columns kept (ties may overshoot by up to 15), 16 spare
  explicit Scratch(int64_t cols) : keys(cols + 32), columns(cols + 32), picked(cols + 48) {}
};

// Steps 1-2: the threshold key t, the k-th largest stripe maximum. Narrow stripe sets keep
// several copies of their maxima (`copies` consecutive stripe blocks at a time), so that at least
// four vectors are in flight rather than one chain of maxima. NaN is caught by the next pass.
template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) uint32_t stripe_threshold(const void* row, int cols,
                                                                       int k, int stripes,
                                                                       Scratch& s) {
  uint32_t* maxima = s.maxima;
  const int copies = std::max(1, ACCUMULATORS / stripes), span = copies * stripes;
  for (int g = 0; g < span; g += 16) _mm512_store_si512(maxima + g, _mm512_setzero_si512());
  __mmask16 nan = 0;
  int j = 0;
  for (; j + span <= cols; j += span)
    for (int g = 0; g < span; g += 16)
      _mm512_store_si512(maxima + g, _mm512_max_epu32(_mm512_load_si512(maxima + g),
                                                      load_keys<BF16>(row, j + g, nan)));
  for (; j + 16 <= cols; j += 16)  // whole vectors left, still on stripe boundaries
    _mm512_store_si512(maxima + j % span, _mm512_max_epu32(_mm512_load_si512(maxima + j % span),
                                                           load_keys<BF16>(row, j, nan)));
  for (; j < cols; ++j) maxima[j % span] = std::max(maxima[j % span], key_of(load1<BF16>(row, j)));
  for (int c = 1; c < copies; ++c)
    for (int g = 0; g < stripes; g += 16)
      _mm512_store_si512(maxima + g, _mm512_max_epu32(_mm512_load_si512(maxima + g),
                                                      _mm512_load_si512(maxima + c * stripes + g)));
  return kth_threshold(maxima, stripes, k);  // k stripes reach it
}

// Step 3: the entries whose key is >= threshold into scratch; returns how many, or -1 when the
// row holds NaN.
template <bool BF16>
__attribute__((target("avx512f,avx512bw"))) int compress_candidates(const void* row, int cols,
                                                                    uint32_t threshold,
                                                                    Scratch& s) {
  uint32_t* keys = s.keys.data();
  int32_t* columns = s.columns.data();
  const __m512i t = _mm512_set1_epi32(int(threshold));
  const __m512i sixteen = _mm512_set1_epi32(16);
  __m512i column = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __mmask16 nan = 0;
  int count = 0, j = 0;
  for (; j + 16 <= cols; j += 16) {
    __m512i key = load_keys<BF16>(row, j, nan);
    __mmask16 keep = _mm512_cmpge_epu32_mask(key, t);
    // compress into registers, then a full store: a compressing store to memory is slow on
    // some CPUs, and the buffer has 16 spare slots
    _mm512_storeu_si512(keys + count, _mm512_maskz_compress_epi32(keep, key));
    _mm512_storeu_si512(columns + count, _mm512_maskz_compress_epi32(keep, column));
    count += __builtin_popcount(keep);
    column = _mm512_add_epi32(column, sixteen);
  }
  bool scalar_nan = false;
  for (; j < cols; ++j) {
    float x = load1<BF16>(row, j);
    keys[count] = key_of(x);
    columns[count] = j;
    count += keys[count] >= threshold;
    scalar_nan |= std::isnan(x);
  }
  return nan || scalar_nan ? -1 : count;
}

// The k largest of the candidates into out: all above the threshold, then ties at it, in column
// order (compressed sixteen at a time into `picked`, which has 16 spare slots).
__attribute__((target("avx512f,avx512bw"))) void pick_top(Scratch& s, int count, int k,
                                                          int64_t* out) {
  uint32_t* keys = s.keys.data();
  const int32_t* columns = s.columns.data();
  int32_t* picked = s.picked.data();
  int padded = (count + 15) / 16 * 16;
  for (int i = count; i < padded; ++i) keys[i] = 0;  // below every key but a negative NaN's
  const __m512i cut = _mm512_set1_epi32(int(kth_threshold(keys, padded, k)));
  int taken = 0;
  for (int j = 0; j < padded; j += 16) {
    __mmask16 above = _mm512_cmpgt_epu32_mask(_mm512_loadu_si512(keys + j), cut);
    _mm512_storeu_si512(picked + taken,
                        _mm512_maskz_compress_epi32(above, _mm512_loadu_si512(columns + j)));
    taken += __builtin_popcount(above);
  }
  for (int j = 0; j < padded && taken < k; j += 16) {
    __mmask16 tie = _mm512_cmpeq_epu32_mask(_mm512_loadu_si512(keys + j), cut);
    _mm512_storeu_si512(picked + taken,
                        _mm512_maskz_compress_epi32(tie, _mm512_loadu_si512(columns + j)));
    taken += __builtin_popcount(tie);
  }
  for (int i = 0; i < k; ++i) out[i] = picked[i];
}

// Rows narrower than NARROW stripes a stripe filter too little: every entry is a candidate there.
constexpr int NARROW = 4;

template <bool BF16>
bool row_topk(const void* row, int cols, int k, int stripes, Scratch& s, int64_t* out) {
  uint32_t threshold = 0;
  if (cols >= NARROW * stripes) threshold = stripe_threshold<BF16>(row, cols, k, stripes, s);
  int count = compress_candidates<BF16>(row, cols, threshold, s);
  if (count < 0) return false;
  pick_top(s, count, k, out);
  return true;
}

}  // namespace

namespace saekit_avx512 {

// x: `rows` rows of `cols` entries, row r at x + r * row_stride entries; bfloat16 when `bf16`,
// else float32. out: rows x k column indices, each row's k largest in no particular order.
// Returns 0; 1 when a row holds NaN (out is then incomplete). The caller checks the arguments.
int topk_rows(const void* x, int bf16, int64_t rows, int64_t cols, int64_t row_stride, int k,
              int stripes, int64_t* out) {
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

}  // namespace saekit_avx512
