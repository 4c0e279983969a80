/*
 * clpool: backward of windowed 2-D max and avg pooling of ONE-CHANNEL tensors (N, H, W, 1) on CPU
 * devices: the channels-first planes that the host lowers channels-first backward to, which
 * backward_nhwc.cl's pool2d_backward would run one element per work item (its lanes are
 * channels), 5-10x slower on PoCL.
 *
 * Row loop, as pool_planar.cl's ROWLOOP 1: one work item owns one input row (n, y) and walks it
 * along W, VEC adjacent elements at a time (the last vector may overlap the one before: it
 * recomputes the same bits; a row shorter than VEC is one vector with its lanes past W masked).
 * Each lane is pool2d_backward's gather for its element, done in the same order (taps ty, then
 * tx) with the same arithmetic; a candidate output that does not contain the lane's element
 * (pool2d_backward skips it) adds +0 instead, which leaves the sum and its compensation bits
 * unchanged (neither is ever -0: both start at +0 and round to nearest). Max adds a candidate's
 * gradient where its argmax tap (pool2d_argmax, run beforehand at VEC 1) is the lane's element,
 * avg gradient / divisor. So the result equals pool2d_backward's bit for bit. Two shortcuts take
 * the interior of a row where the general vector's masks and gathers are not needed: windows
 * that tile the row (KW == SW, 1 or 2, no left padding: grad_split, one gradient per output
 * spread to its elements) and other stride-2 windows (grad_pair, the elements by parity).
 *
 * Required macros: pool2d_backward's (KernelOptions.pool's set), VEC > 1 the lanes along W, and
 * ROWLOOP 1 (common.cl's LOADU / STOREU).
 *
 * Kernel backward_rows: arg (max: pool2d_argmax's taps, built with VEC 1; avg: not read), gout
 * (N, OH, OW, 1), gin (N, H, W, 1), H, W, OH, OW, rows (= N * H). Global range (rows rounded
 * up to the work group); work items past the end return.
 */

#if !ROWLOOP || VEC == 1
#error "backward_rows runs ROWLOOP 1, VEC > 1"
#endif

#if ACC_DOUBLE
#define INT_TO_ACC(x) CAT(convert_double, VEC)(x)
#else
#define INT_TO_ACC(x) CAT(convert_float, VEC)(x)
#endif

#if SW == 2 && VEC == 8
typedef struct __attribute__((packed)) { float4 v; } float4_u;
typedef struct __attribute__((packed)) { int4 v; } int4_u;
#endif

/* Row tap ty of a candidate output of input row y: -1 when neither it nor a later ty can be one
   (the output row would be above the first), 0 when it is not one, else 1 with the output row in
   *oy and the divisor's row factor (avg; the taps inside the input, or with COUNT_INCLUDE_PAD
   inside the padded input) in *rowTaps. */
inline int candidate_row(const int y, const int ty, const int H, const int OH, int *oy, int *rowTaps)
{
    const int py = y + PAD_T - ty * DH;
    if (py < 0) {
        return -1;
    }
    if (py % SH != 0 || py / SH >= OH) {
        return 0;
    }
    *oy = py / SH;
    const int y0 = *oy * SH - PAD_T;
#if COUNT_INCLUDE_PAD
    *rowTaps = TAPS_BEFORE(y0, KH, DH, H + PAD_B);
#else
    *rowTaps = TAPS_INSIDE(y0, KH, DH, H);
#endif
    return 1;
}

#if defined(MODE_AVG)
/* The divisor's column factor of outputs whose windows start at columns x0, as pool2d_backward. */
#if COUNT_INCLUDE_PAD
#define COL_TAPS(x0, W) TAPS_BEFORE((x0), (intv)(KW), (intv)(DW), (intv)((W) + PAD_R))
#else
#define COL_TAPS(x0, W)                                                                       \
    (min((intv)(KW), ((intv)((W) - 1) - (x0)) / (intv)(DW) + (intv)(1))                      \
     - select((intv)(0), (-(x0) + (intv)(DW - 1)) / (intv)(DW), (x0) < (intv)(0)))
#endif

/* sum += g / div, as pool2d_backward: in double, or the rounded quotient plus the exact remainder
   (an fma) divided by div in the compensation. */
#if ACC_DOUBLE
#define ADD_QUOTIENT(s, g, div) ACC_ADD(s, TO_ACC(g) / (div))
#else
#define ADD_QUOTIENT(s, g, div)                       \
    do {                                              \
        const floatv q_ = (g) / (div);                \
        ACC_ADD(s, q_);                               \
        s##_comp += fma(-q_, (div), (g)) / (div);     \
    } while (0)
#endif
#endif

/* The gradients of the lanes' outputs ol (row orow), +0 where a lane has none (ok false). */
inline floatv gather_grad(__global const storage_t *restrict gout, const int orow, const intv_lanes ol, const intv ok)
{
    floatv_lanes t;
    for (int i = 0; i < VEC; ++i) {
        t.e[i] = LOAD1(gout, orow + ol.e[i]);
    }
    return select((floatv)(0.0f), t.v, ok);
}

/* The input gradient of elements x .. x+VEC-1 of row y of item n (lanes at or past W masked). */
inline void grad_vec(__global const int *restrict argIn, __global const storage_t *restrict gout,
                     __global storage_t *restrict gin,
                     const int n, const int y, const int x, const int H, const int W, const int OH, const int OW)
{
    const intv xs = (intv)(x) + LANE_INDEX;
    const intv inside = xs < (intv)(W);
    ACC_INIT(sum);

    /* ty: this row's tap in the candidate output's window, the same for every lane. */
    for (int ty = 0; ty < KH; ++ty) {
        int oy, rowTaps;
        const int cand = candidate_row(y, ty, H, OH, &oy, &rowTaps);
        if (cand < 0) {
            break;
        }
        if (cand == 0) {
            continue;
        }
        const int orow = (n * OH + oy) * OW;

        for (int tx = 0; tx < KW; ++tx) {
            const intv px = xs + (intv)(PAD_L - tx * DW);
            const intv ok = inside & (px >= (intv)(0)) & (px % (intv)(SW) == (intv)(0)) & (px / (intv)(SW) < (intv)(OW));
            if (!any(ok)) {
                continue; /* +0 in every lane */
            }
            intv_lanes ol;
            ol.v = select((intv)(0), px / (intv)(SW), ok);
            const intv ox = ol.v;
            floatv g;
#if defined(MODE_MAX)
            intv_lanes arg;
#endif
#if SW == 1
            if (all(ok)) {
                g = LOADU(gout, orow + ox.s0); /* stride 1: the lanes' outputs are adjacent */
#if defined(MODE_MAX)
                arg.v = ((__global const intv_u *)(argIn + orow + ox.s0))->v;
#endif
            } else
#elif SW == 2 && VEC == 8
            /* Stride 2 (DenseNet's transitions, ResNet's stem): the lanes of one parity read four
               adjacent outputs, from the first valid lane's; one half-width load where all four
               exist, its elements duplicated into lane pairs. */
            const int b = x + PAD_L - tx * DW;
            const int first = (b + (b & 1)) / 2;
            if (b + (b & 1) >= 0 && first + VEC / 2 <= OW && x + VEC <= W) {
#if STORAGE == 0
                const float4 h = ((__global const float4_u *)(gout + orow + first))->v;
                g = select((floatv)(0.0f), (floatv)(h.s0, h.s0, h.s1, h.s1, h.s2, h.s2, h.s3, h.s3), ok);
#else
                g = gather_grad(gout, orow, ol, ok);
#endif
#if defined(MODE_MAX)
                const int4 a = ((__global const int4_u *)(argIn + orow + first))->v;
                arg.v = (intv)(a.s0, a.s0, a.s1, a.s1, a.s2, a.s2, a.s3, a.s3);
#endif
            } else
#endif
            {
                g = gather_grad(gout, orow, ol, ok);
#if defined(MODE_MAX)
                for (int i = 0; i < VEC; ++i) {
                    arg.e[i] = argIn[orow + ol.e[i]];
                }
#endif
            }
#if defined(MODE_MAX)
            /* Only the winner's gradient, as pool2d_backward: the argmax tap is this lane's. */
            ACC_ADD(sum, TO_ACC(select((floatv)(0.0f), g, ok & (arg.v == (intv)(ty * KW + tx)))));
#else /* MODE_AVG */
            const intv x0 = ox * (intv)(SW) - (intv)(PAD_L);
            /* As pool2d_backward: the divisor's factors multiplied in the accumulator type. */
            const accv div = (accv)((acc1)rowTaps) * INT_TO_ACC(select((intv)(1), COL_TAPS(x0, W), ok));
            ADD_QUOTIENT(sum, g, div);
#endif
        }
    }

    const floatv r = TO_FLOAT(ACC_TOTAL(sum));
    const int at = (n * H + y) * W + x;
    if (x + VEC <= W) {
        STOREU(r, gin, at);
    } else {
        floatv_lanes t;
        t.v = r;
        for (int i = 0; i < W - x; ++i) {
            STORE1(t.e[i], gin, at + i);
        }
    }
}

#if SW == 2 && VEC == 8
/* Stride 2, the interior of a row: elements x .. x+15, where every candidate output of every
   element lies inside the output row (x >= pair_from(), x + 15 + PAD_L < 2*OW, x + 16 <= W).
   The lanes of one result are the elements of one parity, x+r, x+r+2, ..., so a column tap tx is
   a candidate for all of them or for none (b below is even or odd), and their outputs are 8
   adjacent ones: one vector load of the gradients (and taps), no masks. Each element gets
   grad_vec's terms in grad_vec's order, less the +0 terms, which change no bits; so the same
   results. The two parities are interleaved into two vector stores. With EDGE (a constant after
   inlining) the same for the row's last 16 elements, whose last candidates may lie past the
   output row: those lanes add +0 (avg's divisor 1 there), as grad_vec's masks do, and are read
   one at a time where the vector would leave the launch's gradients (outEnd). On ResNet-50's
   stem (112 columns) this replaces the two masked vectors at the row's ends, which took 13% of
   the samples against 22% for the pairs. */
#if KH * KW <= 64
#define PAIR_UNROLL _Pragma("unroll")
#else
#define PAIR_UNROLL
#endif
/* Input row y's candidate output rows, found once a row for all its pairs: for each row tap ty
   the offset (n * OH + oy) * OW of its output row in the gradients, -1 where it has none
   (candidate_row's 0 or -1: a -1 there is -1 for every later ty too, so skipping each is its
   break), and avg's row factor. */
typedef struct {
    int orow[KH];
    int taps[KH];
} cand_rows;

inline __attribute__((always_inline)) void row_candidates(cand_rows *c, const int n, const int y, const int H,
                                                          const int OH, const int OW)
{
    PAIR_UNROLL
    for (int ty = 0; ty < KH; ++ty) {
        int oy = 0, rowTaps = 0;
        const int cand = candidate_row(y, ty, H, OH, &oy, &rowTaps);
        c->orow[ty] = cand > 0 ? (n * OH + oy) * OW : -1;
        c->taps[ty] = rowTaps;
    }
}

inline __attribute__((always_inline)) floatv grad_parity(
        __global const int *restrict argIn, __global const storage_t *restrict gout, const cand_rows *c,
        const int x, const int W, const int OW, const int EDGE, const int outEnd)
{
    ACC_INIT(sum);
    /* ty: this row's tap in the candidate output's window, the same for every lane. */
    PAIR_UNROLL
    for (int ty = 0; ty < KH; ++ty) {
        const int orow = c->orow[ty];
        if (orow < 0) {
            continue;
        }
#if defined(MODE_AVG)
        const int rowTaps = c->taps[ty];
#endif
        PAIR_UNROLL
        for (int tx = 0; tx < KW; ++tx) {
            const int b = x + PAD_L - tx * DW;
            if (b & 1) {
                continue;
            }
            const int o = orow + b / 2;
            floatv g;
#if defined(MODE_MAX)
            intv arg;
#endif
            /* EDGE (the row's last pair): lanes whose output is past the row add +0, and where the
               vector would leave the launch's gradients the lanes are gathered. */
            const intv ok = EDGE ? (intv)(b / 2) + LANE_INDEX < (intv)(OW) : (intv)(-1);
            if (!EDGE || o + VEC <= outEnd) {
                g = LOADU(gout, o);
#if defined(MODE_MAX)
                arg = ((__global const intv_u *)(argIn + o))->v;
#endif
            } else {
                intv_lanes ol;
                ol.v = select((intv)(0), (intv)(b / 2) + LANE_INDEX, ok);
                g = gather_grad(gout, orow, ol, ok);
#if defined(MODE_MAX)
                intv_lanes a;
                for (int i = 0; i < VEC; ++i) {
                    a.e[i] = argIn[orow + ol.e[i]];
                }
                arg = a.v;
#endif
            }
#if defined(MODE_MAX)
            ACC_ADD(sum, TO_ACC(select((floatv)(0.0f), g, ok & (arg == (intv)(ty * KW + tx)))));
#else /* MODE_AVG */
            const intv x0 = ((intv)(b / 2) + LANE_INDEX) * (intv)(2) - (intv)(PAD_L);
            const accv div = (accv)((acc1)rowTaps) * INT_TO_ACC(select((intv)(1), COL_TAPS(x0, W), ok));
            ADD_QUOTIENT(sum, select((floatv)(0.0f), g, ok), div);
#endif
        }
    }
    return TO_FLOAT(ACC_TOTAL(sum));
}

/* The first x from which pairs may run: for both parities every column tap whose b is even (the
   candidates) has b >= 0. (KW-1)*DW - PAD_L suffices; smaller x may too, where the taps that
   would reach before the row are of the other parity (ResNet's stem, 3x3 s2 p1: x = 0). */
inline int pair_from(void)
{
    for (int x = 0; x < (KW - 1) * DW - PAD_L; ++x) {
        int fits = 1;
        for (int r = 0; r < 2; ++r) {
            for (int tx = 0; tx < KW; ++tx) {
                const int b = x + r + PAD_L - tx * DW;
                fits &= (b & 1) || b >= 0;
            }
        }
        if (fits) {
            return x;
        }
    }
    return max(0, (KW - 1) * DW - PAD_L);
}

inline __attribute__((always_inline)) void grad_pair(
        __global const int *restrict argIn, __global const storage_t *restrict gout, __global storage_t *restrict gin,
        const cand_rows *c, const int n, const int y, const int x, const int H, const int W, const int OW,
        const int EDGE, const int outEnd)
{
    const floatv e = grad_parity(argIn, gout, c, x, W, OW, EDGE, outEnd);
    const floatv o = grad_parity(argIn, gout, c, x + 1, W, OW, EDGE, outEnd);
    const int at = (n * H + y) * W + x;
    STOREU(((floatv)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3)), gin, at);
    STOREU(((floatv)(e.s4, o.s4, e.s5, o.s5, e.s6, o.s6, e.s7, o.s7)), gin, at + VEC);
}
#endif

#if KW == SW && (SW == 1 || (SW == 2 && VEC == 8)) && DW == 1 && PAD_L == 0
#define SPLIT 1
/* Windows that tile the row, one or two columns wide (the depth pass of a 3-D pool lowered to
   two passes; DenseNet's transitions and the 2x2 max of U-Net, SegNet, VGG): element x has one
   candidate column, output x / SW (tap x % SW), for each candidate row. The SPAN = SW * VEC
   elements x .. x+SPAN-1 (x a multiple of SW, x + SPAN <= min(W, SW*OW)) are VEC adjacent
   outputs: each gradient (and argmax tap) is loaded once and, for avg, divided once, then goes
   to its SW elements. The terms of each element and their order are grad_vec's less its +0
   ones, which change no bits, so the same results; with SW 2 one load and one division where
   grad_pair does two of each, and no masks or lane tests as in grad_vec. */
#define SPAN (SW * VEC)
inline void grad_split(__global const int *restrict argIn, __global const storage_t *restrict gout,
                       __global storage_t *restrict gin,
                       const int n, const int y, const int x, const int H, const int W, const int OH, const int OW)
{
    ACC_INIT(even);
#if defined(MODE_MAX) && SW == 2
    ACC_INIT(odd);
#endif
    for (int ty = 0; ty < KH; ++ty) {
        int oy, rowTaps;
        const int cand = candidate_row(y, ty, H, OH, &oy, &rowTaps);
        if (cand < 0) {
            break;
        }
        if (cand == 0) {
            continue;
        }
        const int o = (n * OH + oy) * OW + x / SW;
        const floatv g = LOADU(gout, o);
#if defined(MODE_MAX)
        /* The output's gradient goes to the element whose tap its argmax is, if any. */
        const intv arg = ((__global const intv_u *)(argIn + o))->v;
        ACC_ADD(even, TO_ACC(select((floatv)(0.0f), g, arg == (intv)(ty * KW))));
#if SW == 2
        ACC_ADD(odd, TO_ACC(select((floatv)(0.0f), g, arg == (intv)(ty * KW + 1))));
#endif
#else /* MODE_AVG: the elements of an output add the same quotient */
        const intv x0 = ((intv)(x / SW) + LANE_INDEX) * (intv)(SW);
        const accv div = (accv)((acc1)rowTaps) * INT_TO_ACC(COL_TAPS(x0, W));
        ADD_QUOTIENT(even, g, div);
#endif
    }
    const floatv e = TO_FLOAT(ACC_TOTAL(even));
    const int at = (n * H + y) * W + x;
#if SW == 1
    STOREU(e, gin, at);
#else
#if defined(MODE_MAX)
    const floatv d = TO_FLOAT(ACC_TOTAL(odd));
#else
    const floatv d = e;
#endif
    STOREU(((floatv)(e.s0, d.s0, e.s1, d.s1, e.s2, d.s2, e.s3, d.s3)), gin, at);
    STOREU(((floatv)(e.s4, d.s4, e.s5, d.s5, e.s6, d.s6, e.s7, d.s7)), gin, at + VEC);
#endif
}
#endif

__kernel void backward_rows(__global const int *restrict argIn, __global const storage_t *restrict gout,
                            __global storage_t *restrict gin,
                            const int H, const int W, const int OH, const int OW, const int rows)
{
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int n = row / H;
    const int y = row - n * H;
    int x = 0;
#if SPLIT
    /* Elements past SW*OW have no candidate column (grad_vec gives them +0). */
    const int xEnd = min(W, SW * OW);
    for (; x + SPAN <= xEnd; x += SPAN) {
        grad_split(argIn, gout, gin, n, y, x, H, W, OH, OW);
    }
    if (x < xEnd && xEnd >= SPAN && xEnd % SW == 0) { /* the last SPAN, overlapping: the same bits */
        grad_split(argIn, gout, gin, n, y, xEnd - SPAN, H, W, OH, OW);
        x = xEnd;
    }
#elif SW == 2 && VEC == 8
    /* The interior in pairs of vectors (grad_pair) from the first x whose candidate outputs all
       lie at or after the row's first (pair_from), then the row's last 16 elements as one pair
       with its lanes past the output row masked (EDGE), the rest a vector at a time. */
    const int xLo = pair_from();
    const int xHi = min(W, 2 * OW - PAD_L) - 2 * VEC;
    const int outEnd = (rows / H) * OH * OW;
    for (; x < xLo && x < W - VEC; x += VEC) {
        grad_vec(argIn, gout, gin, n, y, x, H, W, OH, OW);
    }
    cand_rows c;
    row_candidates(&c, n, y, H, OH, OW);
    for (; x <= xHi; x += 2 * VEC) {
        grad_pair(argIn, gout, gin, &c, n, y, x, H, W, OW, 0, outEnd);
    }
    if (x < W && x >= xLo && W - 2 * VEC >= xLo) { /* overlapping the pair before: the same bits */
        grad_pair(argIn, gout, gin, &c, n, y, W - 2 * VEC, H, W, OW, 1, outEnd);
        x = W;
    }
#endif
    for (; x < W - VEC; x += VEC) {
        grad_vec(argIn, gout, gin, n, y, x, H, W, OH, OW);
    }
    if (x < W) { /* the pairs may have ended the row */
        grad_vec(argIn, gout, gin, n, y, W >= VEC ? W - VEC : 0, H, W, OH, OW);
    }
}
