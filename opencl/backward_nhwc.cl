/*
 * clpool: backward of windowed 2-D max and avg pooling over NHWC float32 tensors: the gradient
 * with respect to the input, given the gradient with respect to the output.
 *
 * Gather, not scatter: pool2d_backward forms VEC adjacent channels of one INPUT pixel by looping
 * over the outputs whose windows contain it (output oy has tap ty at row y when
 * oy*SH - PAD_T + ty*DH == y; the same for columns), summing their contributions. Every input
 * element is written by exactly one work item: no atomics, no races, and elements no window
 * reaches get 0. Sizes are runtime arguments, so a new tensor size never recompiles.
 *
 * Two layouts of the same per-lane work, as pool2d_nhwc.cl's, chosen by the host from the device:
 *   CLOOP 0 (GPUs): one work item per VEC channels of one pixel (neighbouring work items read
 *           neighbouring channels).
 *   CLOOP 1 (CPU devices such as PoCL): one work item per pixel, looping over C VEC channels at a
 *           time; the work-group size then does not depend on C (one work-group function per
 *           kernel), and PoCL runs one work-group loop iteration per pixel instead of per vector
 *           (about 2x faster on DenseNet's avg backward).
 *
 * Max runs in two passes: pool2d_argmax first writes, per output element, the tap (jy*KW + jx)
 * its window's maximum came from, and pool2d_backward then adds an output's gradient where that
 * tap is this element. So each window is scanned once, not once per element it contains.
 *
 * Required macros (the host passes KernelOptions.pool's set; LP_P is not used):
 *   MODE_MAX | MODE_AVG     exactly one is defined (LP has no backward)
 *   KH, KW        window
 *   SH, SW        stride
 *   DH, DW        dilation
 *   PAD_T, PAD_L  leading padding (rows, columns)
 *   PAD_B, PAD_R  trailing padding (used by the count_include_pad divisor)
 *   COUNT_INCLUDE_PAD  0 or 1 (avg)
 *   VEC           channels per step: 1, 2, 4, 8 or 16; the host ensures C % VEC == 0
 *   ACC_DOUBLE    1: accumulate in double (device has cl_khr_fp64); 0: compensated float sums
 *   CLOOP         0 or 1, the layout above
 *   AVG_ROWS_R    (optional, pool2d_avg_backward_rows only) input rows per work item: 1 (default),
 *                 or 2 where SH == DH == 1
 *
 * The host prepends common.cl (vector types, MAX_UPDATE, accumulators).
 *
 * Kernels (W and OW rounded up to the work group in the ranges; the items past the end return):
 *   pool2d_argmax (max only): in (N, H, W, C), arg (N, OH, OW, C) int, H, W, C, OH, OW.
 *     Global range (C / VEC, OW, N * OH); CLOOP 1: (OW, N * OH).
 *   pool2d_backward: arg (max: pool2d_argmax's output; avg: not read, any buffer), gout
 *     (N, OH, OW, C), gin (N, H, W, C), H, W, C, OH, OW. Global range (C / VEC, W, N * H);
 *     CLOOP 1: (W, N * H).
 *   pool2d_avg_backward_rows (CLOOP 1, avg, ACC_DOUBLE, SW == DW == 1; below): gout, gin, H, W,
 *     C, OH, OW, items = N * ceil(H / AVG_ROWS_R). Global range (items rounded up to the group).
 *
 * Semantics (SEMANTICS.md, "Backward"):
 *   max: each output's argmax is found with MAX_UPDATE itself, the forward rule (a strictly
 *        larger value, or the first NaN, replaces), over the same scan order (rows, then
 *        columns), so it is the first maximum, or the first NaN; the output's gradient is added
 *        where that argmax is this element. A window of -inf picks its first element.
 *   avg: each candidate output adds gradient / divisor, the divisor as in pool2d_nhwc.cl.
 *
 * Cost: an input element has about ceil(KH/SH)*ceil(KW/SW) candidate outputs, each one load of
 * the gradient (and, for max, of the argmax); the argmax pass loads each window once.
 */

#if !defined(MODE_MAX) && !defined(MODE_AVG)
#error "define MODE_MAX or MODE_AVG"
#endif

/* Effective window extents. */
#define EH ((KH - 1) * DH + 1)
#define EW ((KW - 1) * DW + 1)

/* Raw bits of a floatv as intv: MAX_UPDATE replaces m only by a different value, so a change
   of bits says "this tap won". */
#if VEC == 1
#define AS_INTV(x) as_int(x)
#else
#define AS_INTV(x) CAT(as_int, VEC)(x)
#endif

/* The argmax (tap index jy*KW + jx, per lane) follows m through MAX_UPDATE. */
#define ARGMAX_UPDATE(m, arg, v, tap)                                                     \
    do {                                                                                  \
        const intv before_ = AS_INTV(m);                                                  \
        MAX_UPDATE(m, v);                                                                 \
        (arg) = select((arg), (intv)(tap), (intv)(AS_INTV(m) != before_));               \
    } while (0)

#if VEC == 1
#define LOAD_ARG(p, off) ((p)[off])
#define STORE_ARG(v, p, off) ((p)[off] = (v))
#else
#define LOAD_ARG(p, off) CAT(vload, VEC)(0, (p) + (off))
#define STORE_ARG(v, p, off) CAT(vstore, VEC)((v), 0, (p) + (off))
#endif

#if defined(MODE_MAX)
/* The argmax taps of output (n, oy, ox), channels c .. c+VEC-1. */
inline void argmax_one(__global const storage_t *restrict in, __global int *restrict argOut,
                       const int H, const int W, const int C, const int OH, const int OW,
                       const int n, const int oy, const int ox, const int c)
{
    const int y0 = oy * SH - PAD_T;
    const int jy0 = y0 >= 0 ? 0 : (-y0 + DH - 1) / DH;
    const int jy1 = min(KH, (H - 1 - y0) / DH + 1);
    const int x0 = ox * SW - PAD_L;
    const int jx0 = x0 >= 0 ? 0 : (-x0 + DW - 1) / DW;
    const int jx1 = min(KW, (W - 1 - x0) / DW + 1);

    floatv m = (floatv)(-INFINITY);
    intv arg = (intv)(jy0 * KW + jx0);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = ((n * H + y0 + jy * DH) * W) * C + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const floatv v = LOADV(in, rowBase + (x0 + jx * DW) * C);
            ARGMAX_UPDATE(m, arg, v, jy * KW + jx);
        }
    }
    STORE_ARG(arg, argOut, ((n * OH + oy) * OW + ox) * C + c);
}

__kernel void pool2d_argmax(__global const storage_t *restrict in, __global int *restrict argOut,
                            const int H, const int W, const int C, const int OH, const int OW)
{
    const int ox = PIXEL_COL();
    const int noy = PIXEL_ROW();
    if (ox >= OW) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int n = noy / OH;
    const int oy = noy - n * OH;
    FOR_CHANNELS(c, C) {
        argmax_one(in, argOut, H, W, C, OH, OW, n, oy, ox, c);
    }
}
#endif

/* The gradient of input element (n, y, x), channels c .. c+VEC-1: the gather. */
inline void backward_one(__global const int *restrict argIn, __global const storage_t *restrict gout,
                         __global storage_t *restrict gin,
                         const int H, const int W, const int C, const int OH, const int OW,
                         const int n, const int y, const int x, const int c)
{
    ACC_INIT(sum);

    /* ty: this row's tap in the candidate output's window. py = oy * SH falls as ty grows. */
    for (int ty = 0; ty < KH; ++ty) {
        const int py = y + PAD_T - ty * DH;
        if (py < 0) {
            break;
        }
        if (py % SH != 0 || py / SH >= OH) {
            continue;
        }
        const int oy = py / SH;
#if defined(MODE_AVG)
        const int y0 = oy * SH - PAD_T;
        const int jy0 = y0 >= 0 ? 0 : (-y0 + DH - 1) / DH;
        const int jy1 = min(KH, (H - 1 - y0) / DH + 1);
#endif

        for (int tx = 0; tx < KW; ++tx) {
            const int px = x + PAD_L - tx * DW;
            if (px < 0) {
                break;
            }
            if (px % SW != 0 || px / SW >= OW) {
                continue;
            }
            const int ox = px / SW;
            const int o = ((n * OH + oy) * OW + ox) * C + c;
            const floatv g = LOADV(gout, o);

#if defined(MODE_MAX)
            /* Only the winner's gradient is added: a NaN or infinite gradient of an output whose
               argmax lies elsewhere does not reach this element. */
            const intv arg = LOAD_ARG(argIn, o);
            const floatv mine = select((floatv)(0.0f), g, (intv)(arg == (intv)(ty * KW + tx)));
            ACC_ADD(sum, TO_ACC(mine));

#else /* MODE_AVG */
            const int x0 = ox * SW - PAD_L;
            const int jx0 = x0 >= 0 ? 0 : (-x0 + DW - 1) / DW;
            const int jx1 = min(KW, (W - 1 - x0) / DW + 1);
            /* In the accumulator type, as in pool2d_nhwc.cl: the product of two axis extents can
               exceed 2^31 (with count_include_pad even for a one-element input). */
#if COUNT_INCLUDE_PAD
            const accv div = (accv)TAPS_BEFORE(y0, KH, DH, H + PAD_B) * (accv)TAPS_BEFORE(x0, KW, DW, W + PAD_R);
#else
            const accv div = (accv)(jy1 - jy0) * (accv)(jx1 - jx0);
#endif
#if ACC_DOUBLE
            ACC_ADD(sum, TO_ACC(g) / div);
#else
            /* g / div rounded, plus the exact remainder g - q*div (an fma) divided by div: the
               quotient's rounding error is compensated too. A non-finite q makes the sum
               non-finite, and ACC_TOTAL then ignores the compensation. */
            const floatv q = g / div;
            ACC_ADD(sum, q);
            sum_comp += fma(-q, div, g) / div;
#endif
#endif
        }
    }

    STOREV(TO_FLOAT(ACC_TOTAL(sum)), gin, ((n * H + y) * W + x) * C + c);
}

/* Windows that tile the input (KH == SH, KW == SW, dilation 1, no leading padding: DenseNet's
   transitions, the 2x2 max of U-Net and SegNet, the passes of a 3-D pool lowered to two), on CPU
   devices: each input element has at most one candidate output, found by two divisions per pixel,
   not per channel step, and its gradient is that output's term alone. +0 plus the term, as the
   gather's sum starting at +0 gives (so -0 becomes +0). Avg's term is fl(dy / divisor) in float:
   the double quotient rounded to float is the same value (53 >= 2*24 + 2 bits, and the divisor, at
   most 2^24, is exact in float), so only with double sums, where the gather stores exactly that. */
#if CLOOP && DH == 1 && DW == 1 && KH == SH && KW == SW && PAD_T == 0 && PAD_L == 0 \
    && (defined(MODE_MAX) || ACC_DOUBLE) && KH * KW <= (1 << 24)
#define TILED 1
inline void backward_tiled(__global const int *restrict argIn, __global const storage_t *restrict gout,
                           __global storage_t *restrict gin,
                           const int H, const int W, const int C, const int OH, const int OW,
                           const int n, const int y, const int x)
{
    const int oy = y / SH;
    const int ox = x / SW;
    const int g0 = ((n * H + y) * W + x) * C;
    if (oy >= OH || ox >= OW) {
        FOR_CHANNELS(c, C) {
            STOREV((floatv)(0.0f), gin, g0 + c); /* no window reaches this element */
        }
        return;
    }
    const int o0 = ((n * OH + oy) * OW + ox) * C;
#if defined(MODE_MAX)
    const intv tap = (intv)((y - oy * SH) * KW + (x - ox * SW));
#else
    const int y0 = oy * SH;
    const int x0 = ox * SW;
#if COUNT_INCLUDE_PAD
    const float div = (float)(TAPS_BEFORE(y0, KH, 1, H + PAD_B) * TAPS_BEFORE(x0, KW, 1, W + PAD_R));
#else
    const float div = (float)(min(KH, H - y0) * min(KW, W - x0));
#endif
#endif
    FOR_CHANNELS(c, C) {
        const floatv g = LOADV(gout, o0 + c);
#if defined(MODE_MAX)
        const floatv term = select((floatv)(0.0f), g, (intv)(LOAD_ARG(argIn, o0 + c) == tap));
#else
        const floatv term = g / (floatv)(div);
#endif
        STOREV((floatv)(0.0f) + term, gin, g0 + c);
    }
}
#else
#define TILED 0
#endif

/* Averages of stride 1 along W on CPU devices with double sums (the Inception 3x3 s1): input
   columns x and x+1 share all but one candidate output column, so pool2d_avg_backward_rows walks
   AVG_ROWS_R input rows (n, y ..) along W per VEC channels and forms each candidate output's
   quotient dy / divisor once per column step, not once per tap (KH*KW per element): the items
   keep the last KW columns' quotients. With AVG_ROWS_R 2 (the host's choice where SH == DH == 1)
   the two rows' candidate output rows overlap in all but one, so KH + 1 quotients a column step
   serve two elements. Each element then sums the same doubles in pool2d_backward's order (ty,
   then tx), with +0 in the place of a candidate that is not one (its sum starts at +0 and rounds
   to nearest, so it is never -0 and adding +0 leaves it unchanged): the same bits, NaN payloads
   aside (which of two NaNs an addition keeps is the compiler's operand order, in either kernel). */
#if CLOOP && defined(MODE_AVG) && ACC_DOUBLE && SW == 1 && DW == 1
#define AVG_ROWS 1
#ifndef AVG_ROWS_R
#define AVG_ROWS_R 1
#endif
#if AVG_ROWS_R != 1 && (AVG_ROWS_R != 2 || SH != 1 || DH != 1)
#error "AVG_ROWS_R is 1, or 2 with SH == DH == 1"
#endif
/* Candidate output rows of a work item: u = 0 .. QROWS - 1; row r of the item takes tap ty from u = ty + R - 1 - r. */
#define QROWS (KH + AVG_ROWS_R - 1)

/* The quotients of output column ox (window start x0 = ox - PAD_L) for the QROWS candidate rows. */
inline void avg_column(__global const storage_t *restrict gout, accv q[QROWS], const int oyOf[QROWS],
                       const double rowDiv[QROWS], const int W, const int C, const int OW,
                       const int rowBase, const int ox, const int c)
{
    if (ox < 0 || ox >= OW) {
#pragma unroll
        for (int u = 0; u < QROWS; ++u) {
            q[u] = (accv)(0.0);
        }
        return;
    }
    const int x0 = ox - PAD_L;
#if COUNT_INCLUDE_PAD
    const double colTaps = (double)TAPS_BEFORE(x0, KW, 1, W + PAD_R);
#else
    const double colTaps = (double)TAPS_INSIDE(x0, KW, 1, W);
#endif
#pragma unroll
    for (int u = 0; u < QROWS; ++u) {
        if (oyOf[u] < 0) {
            q[u] = (accv)(0.0);
        } else {
            /* pool2d_backward's divisor: the two factors' product in double. */
            const accv div = (accv)(rowDiv[u]) * (accv)(colTaps);
            q[u] = TO_ACC(LOADV(gout, ((rowBase + oyOf[u]) * OW + ox) * C + c)) / div;
        }
    }
}

/* gout (N, OH, OW, C), gin (N, H, W, C), H, W, C, OH, OW, items = N * ceil(H / AVG_ROWS_R).
   Global range (items rounded up to the work group); work items past the end return. */
__kernel void pool2d_avg_backward_rows(__global const storage_t *restrict gout, __global storage_t *restrict gin,
                                       const int H, const int W, const int C, const int OH, const int OW,
                                       const int items)
{
    const int item = (int)get_global_id(0);
    if (item >= items) {
        return;
    }
    const int itemsPerImage = (H + AVG_ROWS_R - 1) / AVG_ROWS_R;
    const int n = item / itemsPerImage;
    const int y = (item - n * itemsPerImage) * AVG_ROWS_R;
    /* Candidate output row u (-1: none) and the divisor's row factor, as pool2d_backward. */
    int oyOf[QROWS];
    double rowDiv[QROWS];
#pragma unroll
    for (int u = 0; u < QROWS; ++u) {
        const int py = y + (AVG_ROWS_R - 1) + PAD_T - u * DH;
        oyOf[u] = -1;
        rowDiv[u] = 1.0;
        if (py >= 0 && py % SH == 0 && py / SH < OH) {
            const int oy = py / SH;
            const int y0 = oy * SH - PAD_T;
            oyOf[u] = oy;
#if COUNT_INCLUDE_PAD
            rowDiv[u] = (double)TAPS_BEFORE(y0, KH, DH, H + PAD_B);
#else
            rowDiv[u] = (double)TAPS_INSIDE(y0, KH, DH, H);
#endif
        }
    }
    const int rowBase = n * OH;
    const int inBase = (n * H + y) * W;
    FOR_CHANNELS(c, C) {
        /* q[tx][u]: the quotients of output column x + PAD_L - tx (tap tx of input column x). */
        accv q[KW][QROWS];
#pragma unroll
        for (int tx = KW - 1; tx >= 1; --tx) {
            avg_column(gout, q[tx], oyOf, rowDiv, W, C, OW, rowBase, PAD_L - tx, c);
        }
        for (int x = 0; x < W; ++x) {
            avg_column(gout, q[0], oyOf, rowDiv, W, C, OW, rowBase, x + PAD_L, c);
#pragma unroll
            for (int r = 0; r < AVG_ROWS_R; ++r) {
                if (AVG_ROWS_R == 1 || y + r < H) {
                    ACC_INIT(sum);
#pragma unroll
                    for (int ty = 0; ty < KH; ++ty) {
#pragma unroll
                        for (int tx = 0; tx < KW; ++tx) {
                            ACC_ADD(sum, q[tx][ty + AVG_ROWS_R - 1 - r]);
                        }
                    }
                    STOREV(TO_FLOAT(ACC_TOTAL(sum)), gin, (inBase + r * W + x) * C + c);
                }
            }
#pragma unroll
            for (int tx = KW - 1; tx >= 1; --tx) {
#pragma unroll
                for (int u = 0; u < QROWS; ++u) {
                    q[tx][u] = q[tx - 1][u];
                }
            }
        }
    }
}
#else
#define AVG_ROWS 0
#endif

__kernel void pool2d_backward(__global const int *restrict argIn, __global const storage_t *restrict gout,
                              __global storage_t *restrict gin,
                              const int H, const int W, const int C, const int OH, const int OW)
{
    const int x = PIXEL_COL();
    const int ny = PIXEL_ROW();
    if (x >= W) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int n = ny / H;
    const int y = ny - n * H;
#if TILED
    backward_tiled(argIn, gout, gin, H, W, C, OH, OW, n, y, x);
#else
    FOR_CHANNELS(c, C) {
        backward_one(argIn, gout, gin, H, W, C, OH, OW, n, y, x, c);
    }
#endif
}
