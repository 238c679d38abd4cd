// Per-row next-token sums over float32 logits, in WebAssembly SIMD (f64x2), for lib/scoring/row_stats_wasm.ts.
// Bit-identical to the JavaScript kernel of lib/scoring/position_stats.ts (rowSumsJs): the same exp (the table
// and constants are written into memory by the JavaScript side, so both read the same doubles), the same
// operation order, no fused multiply-add, and the same four running sums (lane i mod 4).
//
// Build: tools/build_row_stats_wasm.sh (clang --target=wasm32 -msimd128; writes row_stats_module.ts).

#include <wasm_simd128.h>

// Constants written by init(): the exp's step, rounding shifter, ln 2 split and polynomial coefficients.
static double INV_STEP, SHIFTER, LN2_HI, LN2_LO, HALF, C3, C4, C5, C6, UNDERFLOW, VECTOR_LIMIT;
static const double *TWO_J;  // 2^(j/64), 64 entries
static const double *POW2;   // 2^q for q in [-1100, 0], index q + 1100

/** Reads the constants and tables (see row_stats_wasm.ts for the layout). */
__attribute__((export_name("init"))) void init(const double *consts, const double *two_j, const double *pow2) {
  INV_STEP = consts[0];
  SHIFTER = consts[1];
  LN2_HI = consts[2];
  LN2_LO = consts[3];
  HALF = consts[4];
  C3 = consts[5];
  C4 = consts[6];
  C5 = consts[7];
  C6 = consts[8];
  UNDERFLOW = consts[9];
  VECTOR_LIMIT = consts[10];
  TWO_J = two_j;
  POW2 = pow2;
}

/** exp(d) for d <= 0: the scalar original (lib/scoring/exp_non_positive.ts), for lanes below VECTOR_LIMIT. */
static double exp_scalar(double d) {
  if (d < UNDERFLOW) return 0.0;
  double kf = (d * INV_STEP + SHIFTER) - SHIFTER;
  double r = (d - kf * LN2_HI) - kf * LN2_LO;
  int k = (int)kf;
  double t = TWO_J[k & 63] * POW2[(k >> 6) + 1100];
  return t + t * (r + r * r * (HALF + r * (C3 + r * (C4 + r * (C5 + r * C6)))));
}

/** The exp's constants as vectors, loaded once per row (kept in locals: no reload per entry). */
typedef struct {
  v128_t inv, sh, hi, lo, half, c3, c4, c5, c6, limit, mask63, bias, high_bits;
  const double *two_j;
} ExpConsts;

static inline ExpConsts exp_consts(void) {
  ExpConsts c = {wasm_f64x2_splat(INV_STEP), wasm_f64x2_splat(SHIFTER), wasm_f64x2_splat(LN2_HI),
                 wasm_f64x2_splat(LN2_LO),   wasm_f64x2_splat(HALF),    wasm_f64x2_splat(C3),
                 wasm_f64x2_splat(C4),       wasm_f64x2_splat(C5),      wasm_f64x2_splat(C6),
                 wasm_f64x2_splat(VECTOR_LIMIT), wasm_i64x2_splat(63),
                 // encoding of the shifter 1.5 * 2^52 (0x4338000000000000) minus 1023 * 64
                 wasm_i64x2_splat(0x4338000000000000LL - 1023 * 64), wasm_i64x2_splat(~63LL), TWO_J};
  return c;
}

/**
 * exp of two lanes d <= 0 with VECTOR_LIMIT <= d (so that 2^q is a normal number, built from its exponent bits):
 * the same operations as exp_scalar, lane by lane.
 */
static inline v128_t exp2_lanes(v128_t d, const ExpConsts *c) {
  v128_t kd = wasm_f64x2_add(wasm_f64x2_mul(d, c->inv), c->sh);
  v128_t kf = wasm_f64x2_sub(kd, c->sh);
  v128_t r = wasm_f64x2_sub(wasm_f64x2_sub(d, wasm_f64x2_mul(kf, c->hi)), wasm_f64x2_mul(kf, c->lo));
  // kd = 1.5 * 2^52 + k exactly, so the low bits of its encoding hold k: j = k & 63 from them, and 2^q
  // (q = k >> 6 >= -1022) from k + 1023 * 64 >= 0, whose bits above the sixth are the biased exponent q + 1023.
  // (A truncating conversion, or an arithmetic 64-bit shift, would compile to scalar or emulated code.)
  v128_t j = wasm_v128_and(kd, c->mask63);
  v128_t two_j = wasm_f64x2_make(c->two_j[wasm_i64x2_extract_lane(j, 0)], c->two_j[wasm_i64x2_extract_lane(j, 1)]);
  v128_t biased = wasm_i64x2_sub(kd, c->bias);  // k + 1023 * 64, from the encoding of kd
  v128_t pow2 = wasm_i64x2_shl(wasm_v128_and(biased, c->high_bits), 46);
  v128_t t = wasm_f64x2_mul(two_j, pow2);
  v128_t p = wasm_f64x2_add(c->c5, wasm_f64x2_mul(r, c->c6));
  p = wasm_f64x2_add(c->c4, wasm_f64x2_mul(r, p));
  p = wasm_f64x2_add(c->c3, wasm_f64x2_mul(r, p));
  p = wasm_f64x2_add(c->half, wasm_f64x2_mul(r, p));
  p = wasm_f64x2_add(r, wasm_f64x2_mul(wasm_f64x2_mul(r, r), p));
  return wasm_f64x2_add(t, wasm_f64x2_mul(t, p));
}

/** exp of two lanes d <= 0: vector path when both lanes allow it, else lane by lane. */
static inline v128_t exp2(v128_t d, const ExpConsts *c) {
  if (__builtin_expect(wasm_i64x2_all_true(wasm_f64x2_ge(d, c->limit)), 1)) return exp2_lanes(d, c);
  return wasm_f64x2_make(exp_scalar(wasm_f64x2_extract_lane(d, 0)), exp_scalar(wasm_f64x2_extract_lane(d, 1)));
}

/** Running sums by lane: z (exps) and s (exp times d) of entries i mod 4 = 0, 1 (a) and 2, 3 (b). */
typedef struct {
  v128_t za, zb, sa, sb;
} Sums;

/** d = x - max of block b, entries 4b, 4b + 1 (a) and 4b + 2, 4b + 3 (b). */
static inline void block_d(const float *x, int b, v128_t vm, v128_t *da, v128_t *db) {
  v128_t v = wasm_v128_load(x + 4 * b);
  *da = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(v), vm);
  *db = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)), vm);
}

/** Blocks [from, to): exps stored (when `exps`), summed; `checked`: lanes may need the scalar path. */
static inline __attribute__((always_inline)) void exp_blocks(const float *x, double *exps, int from, int to,
                                                             v128_t vm, const ExpConsts *c, Sums *acc,
                                                             const int checked) {
  v128_t za = acc->za, zb = acc->zb, sa = acc->sa, sb = acc->sb;
  for (int b = from; b < to; b++) {
    v128_t da, db;
    block_d(x, b, vm, &da, &db);
    v128_t ea = checked ? exp2(da, c) : exp2_lanes(da, c);
    v128_t eb = checked ? exp2(db, c) : exp2_lanes(db, c);
    if (exps) {
      wasm_v128_store(exps + 4 * b, ea);
      wasm_v128_store(exps + 4 * b + 2, eb);
    }
    za = wasm_f64x2_add(za, ea);
    zb = wasm_f64x2_add(zb, eb);
    sa = wasm_f64x2_add(sa, wasm_f64x2_mul(ea, da));
    sb = wasm_f64x2_add(sb, wasm_f64x2_mul(eb, db));
  }
  acc->za = za;
  acc->zb = zb;
  acc->sa = sa;
  acc->sb = sb;
}

/** The block holding the argmax (lane `lane`): its exp (exactly 1) is stored but its lane adds 0. */
static void exp_best_block(const float *x, double *exps, int b, int lane, v128_t vm, const ExpConsts *c,
                           Sums *acc) {
  v128_t da, db;
  block_d(x, b, vm, &da, &db);
  v128_t ea = exp2(da, c), eb = exp2(db, c);
  if (exps) {
    wasm_v128_store(exps + 4 * b, ea);
    wasm_v128_store(exps + 4 * b + 2, eb);
  }
  v128_t ka = wasm_i64x2_make(lane == 0 ? 0 : -1, lane == 1 ? 0 : -1);
  v128_t kb = wasm_i64x2_make(lane == 2 ? 0 : -1, lane == 3 ? 0 : -1);
  ea = wasm_v128_and(ea, ka);
  eb = wasm_v128_and(eb, kb);
  da = wasm_v128_and(da, ka);
  db = wasm_v128_and(db, kb);
  acc->za = wasm_f64x2_add(acc->za, ea);
  acc->zb = wasm_f64x2_add(acc->zb, eb);
  acc->sa = wasm_f64x2_add(acc->sa, wasm_f64x2_mul(ea, da));
  acc->sb = wasm_f64x2_add(acc->sb, wasm_f64x2_mul(eb, db));
}

/** One chain of the first pass: per lane the maximum, its first index and the minimum of the blocks it read. */
typedef struct {
  v128_t max, at, min, next;  // next: the indices of the chain's next block
} MaxChain;

/** A chain whose first block starts at index `first` (its blocks are every other block of four). */
static inline MaxChain max_chain(int first) {
  MaxChain c = {wasm_f32x4_splat(-__builtin_inff()), wasm_i32x4_make(first, first + 1, first + 2, first + 3),
                wasm_f32x4_splat(__builtin_inff()), wasm_i32x4_make(first, first + 1, first + 2, first + 3)};
  return c;
}

/** Reads the chain's next block `v`: a strictly larger value (so the first index on a tie) and the minimum. */
static inline void max_chain_add(MaxChain *c, v128_t v) {
  c->min = wasm_f32x4_pmin(v, c->min);
  v128_t gt = wasm_f32x4_gt(v, c->max);
  c->max = wasm_v128_bitselect(v, c->max, gt);
  c->at = wasm_v128_bitselect(c->next, c->at, gt);
  c->next = wasm_i32x4_add(c->next, wasm_i32x4_splat(8));
}

/** Results of row_stats, read by the JavaScript side. */
typedef struct {
  int best;     // first index of the largest logit
  int status;   // 0: sums valid; 1: NaN, +Infinity or no finite maximum (the caller reruns the row in JS)
  double max;   // the largest logit
  double rest;  // sum of exp(x - max) over every entry but best, lanes i mod 4 summed (z0 + z1) + (z2 + z3)
  double s;     // sum of exp(x - max) * (x - max), same lanes (NaN when a -Infinity logit met exp = 0)
} RowResult;

/**
 * One row of `vocab` float32 logits at `x`: the maximum and its first index, the two sums, and (when `sink` is
 * not 0) the row's exps written to `exps` and exps / (1 + rest) added into `sink` entry by entry. The sink is
 * left untouched when the status is not 0.
 */
__attribute__((export_name("row_stats"))) void row_stats(const float *x, int vocab, double *exps, double *sink,
                                                           RowResult *out) {
  // Pass 1: maximum and first argmax per lane (i mod 4), the minimum, NaNs flagged. Two independent chains, even
  // and odd blocks, so that each block's compare-and-select does not wait for the previous block's; merged per
  // lane below (the larger maximum, the lower index on a tie: the first argmax, as one chain finds it). pmin is
  // one instruction; it differs from min only for NaN and for the sign of a zero, which change nothing here
  // (a NaN row is flagged, and the minimum only decides whether exps may underflow).
  int blocks = vocab >> 2;
  MaxChain even = max_chain(0), odd = max_chain(4);
  v128_t nan = wasm_i32x4_splat(0);
  int b = 0;
  for (; b + 1 < blocks; b += 2) {
    v128_t v = wasm_v128_load(x + 4 * b), v1 = wasm_v128_load(x + 4 * b + 4);
    max_chain_add(&even, v);
    max_chain_add(&odd, v1);
    nan = wasm_v128_or(nan, wasm_v128_or(wasm_f32x4_ne(v, v), wasm_f32x4_ne(v1, v1)));
  }
  if (b < blocks) {  // an odd count: the last block on the even chain
    v128_t v = wasm_v128_load(x + 4 * b);
    max_chain_add(&even, v);
    nan = wasm_v128_or(nan, wasm_f32x4_ne(v, v));
  }
  // Per lane: the odd chain's maximum when larger, or equal at a lower index.
  v128_t take_odd = wasm_v128_or(wasm_f32x4_gt(odd.max, even.max),
                                 wasm_v128_and(wasm_f32x4_eq(odd.max, even.max), wasm_i32x4_lt(odd.at, even.at)));
  v128_t vmax = wasm_v128_bitselect(odd.max, even.max, take_odd);
  v128_t vidx = wasm_v128_bitselect(odd.at, even.at, take_odd);
  v128_t vmin = wasm_f32x4_pmin(odd.min, even.min);
  float max = -__builtin_inff();
  int best = 0;
  for (int l = 0; l < 4; l++) {
    float m;
    int i;
    switch (l) {  // lane indices must be constants
      case 0: m = wasm_f32x4_extract_lane(vmax, 0); i = wasm_i32x4_extract_lane(vidx, 0); break;
      case 1: m = wasm_f32x4_extract_lane(vmax, 1); i = wasm_i32x4_extract_lane(vidx, 1); break;
      case 2: m = wasm_f32x4_extract_lane(vmax, 2); i = wasm_i32x4_extract_lane(vidx, 2); break;
      default: m = wasm_f32x4_extract_lane(vmax, 3); i = wasm_i32x4_extract_lane(vidx, 3); break;
    }
    if (l >= vocab) break;
    if (m > max || (m == max && i < best)) {
      max = m;
      best = i;
    }
  }
  int has_nan = wasm_v128_any_true(nan);
  for (int i = blocks * 4; i < vocab; i++) {
    float v = x[i];
    if (v != v) has_nan = 1;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  out->best = best;
  out->max = max;
  if (has_nan || !(max > -__builtin_inff() && max < __builtin_inff())) {
    out->status = 1;
    return;
  }

  // Pass 2: exps and the two sums, lanes (i mod 4); the argmax's lane adds 0 (its exp, exactly 1, is not summed).
  const double m = max;
  float min = wasm_f32x4_extract_lane(vmin, 0);
  for (int l = 1; l < 4; l++) {
    float v = l == 1 ? wasm_f32x4_extract_lane(vmin, 1)
                     : l == 2 ? wasm_f32x4_extract_lane(vmin, 2) : wasm_f32x4_extract_lane(vmin, 3);
    if (v < min) min = v;
  }
  // Every d >= min - max: when that is above the vector limit no lane needs the scalar path (most rows).
  const int checked = !((double)min - m >= VECTOR_LIMIT);
  const v128_t vm = wasm_f64x2_splat(m);
  Sums acc = {wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0)};
  const ExpConsts c = exp_consts();
  int bb = best >> 2;
  if (bb >= blocks) bb = blocks;  // the argmax is in the scalar tail
  if (checked) {
    exp_blocks(x, exps, 0, bb, vm, &c, &acc, 1);
    if (bb < blocks) exp_best_block(x, exps, bb, best & 3, vm, &c, &acc);
    exp_blocks(x, exps, bb + 1, blocks, vm, &c, &acc, 1);
  } else {
    exp_blocks(x, exps, 0, bb, vm, &c, &acc, 0);
    if (bb < blocks) exp_best_block(x, exps, bb, best & 3, vm, &c, &acc);
    exp_blocks(x, exps, bb + 1, blocks, vm, &c, &acc, 0);
  }
  const v128_t za = acc.za, zb = acc.zb, sa = acc.sa, sb = acc.sb;
  double z[4] = {wasm_f64x2_extract_lane(za, 0), wasm_f64x2_extract_lane(za, 1), wasm_f64x2_extract_lane(zb, 0),
                 wasm_f64x2_extract_lane(zb, 1)};
  double s[4] = {wasm_f64x2_extract_lane(sa, 0), wasm_f64x2_extract_lane(sa, 1), wasm_f64x2_extract_lane(sb, 0),
                 wasm_f64x2_extract_lane(sb, 1)};
  for (int i = blocks * 4; i < vocab; i++) {
    double d = (double)x[i] - m;
    double e = exp_scalar(d);
    if (exps) exps[i] = e;
    if (i == best) continue;
    z[i & 3] += e;
    s[i & 3] += e * d;
  }
  double rest = (z[0] + z[1]) + (z[2] + z[3]);
  out->rest = rest;
  out->s = (s[0] + s[1]) + (s[2] + s[3]);
  if (rest != rest) {
    out->status = 1;
    return;
  }
  out->status = 0;

  // Pass 3: the row's probabilities into the sink.
  if (sink) {
    const double inv_z = 1.0 / (1.0 + rest);
    const v128_t vz = wasm_f64x2_splat(inv_z);
    int pairs = vocab >> 1;
    for (int p = 0; p < pairs; p++) {
      v128_t acc = wasm_v128_load(sink + 2 * p);
      wasm_v128_store(sink + 2 * p, wasm_f64x2_add(acc, wasm_f64x2_mul(wasm_v128_load(exps + 2 * p), vz)));
    }
    if (vocab & 1) sink[vocab - 1] += exps[vocab - 1] * inv_z;
  }
}

/** Restores the min-heap property of h[0, n) below position i (the sampler's siftDown, on floats). */
static void sift_down(float *h, int n, int i) {
  float x = h[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h[c + 1] < h[c]) c++;
    if (h[c] >= x) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

/** One entry of the top-k scan: recorded when it reaches the heap's minimum, which it replaces when above it. */
static inline int top_k_entry(const float *x, int i, float *heap, int k, int *ids, int recorded) {
  float v = x[i];
  if (v >= heap[0]) {
    ids[recorded++] = i;
    if (v > heap[0]) {
      heap[0] = v;
      sift_down(heap, k, 0);
    }
  }
  return recorded;
}

/**
 * Top-k's kept set of a row without NaN (1 <= k < vocab): every index whose logit is >= the k-th largest, in index
 * order, written to `ids` (room for `vocab`); returns how many. The algorithm of the sampler's topKCandidates
 * (lib/sampling/sampler.ts), with blocks of four entries below the heap's minimum skipped at once: the minimum
 * only rises, so such entries are never recorded by the entry-by-entry scan either.
 */
__attribute__((export_name("top_k"))) int top_k(const float *x, int vocab, int k, float *heap, int *ids) {
  for (int i = 0; i < k; i++) {
    heap[i] = x[i];
    ids[i] = i;
  }
  int recorded = k;
  for (int i = (k >> 1) - 1; i >= 0; i--) sift_down(heap, k, i);
  int i = k;
  for (; i < vocab && (i & 3) != 0; i++) recorded = top_k_entry(x, i, heap, k, ids, recorded);
  // Sixteen entries at a time while whole runs of them lie below the minimum (most of a row, once the heap fills
  // with large logits), then four.
  for (; i + 16 <= vocab; i += 16) {
    const v128_t t = wasm_f32x4_splat(heap[0]);
    v128_t any = wasm_v128_or(wasm_v128_or(wasm_f32x4_ge(wasm_v128_load(x + i), t),
                                           wasm_f32x4_ge(wasm_v128_load(x + i + 4), t)),
                              wasm_v128_or(wasm_f32x4_ge(wasm_v128_load(x + i + 8), t),
                                           wasm_f32x4_ge(wasm_v128_load(x + i + 12), t)));
    if (!wasm_v128_any_true(any)) continue;
    for (int j = i; j < i + 16; j++) recorded = top_k_entry(x, j, heap, k, ids, recorded);
  }
  for (; i + 4 <= vocab; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    if (!wasm_v128_any_true(wasm_f32x4_ge(v, wasm_f32x4_splat(heap[0])))) continue;
    for (int j = i; j < i + 4; j++) recorded = top_k_entry(x, j, heap, k, ids, recorded);
  }
  for (; i < vocab; i++) recorded = top_k_entry(x, i, heap, k, ids, recorded);
  const float threshold = heap[0];
  int m = 0;
  for (int j = 0; j < recorded; j++) {
    if (x[ids[j]] >= threshold) ids[m++] = ids[j];
  }
  return m;
}
