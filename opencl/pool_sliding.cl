/*
 * clpool: windowed 2-D average pooling of NHWC tensors by sliding sums in private memory, for
 * large windows on CPU devices (dilation 1): one kernel, no scratch buffer, a few steps per output
 * whatever the window.
 *
 * A work item owns VEC channels of a tile of outputs: a band of output rows [oy0, oy0 + band) by
 * a run of output columns [ox0, ox0 + tileCols), whose windows read the input columns [xa, xb)
 * (at most TILE_IN of them). It keeps one column sum per input column in private memory (cs):
 * the sum of that column over the current output row's window rows. Going down the band, the rows
 * that leave the window are subtracted from cs and the rows that enter it added; along each output
 * row a running sum s slides over cs the same way (columns leaving subtracted, entering added),
 * and each output is s divided by pool2d's divisor. So every input element is loaded, converted
 * and added once and subtracted once, whatever KH and KW are.
 *
 * Exactness. The sums are in double, and subtracting what was added is not exact: each addition
 * or subtraction errs by at most u*|its result| (u = 2^-53), and every exact partial here is a
 * signed sum of distinct input elements of the tile, so at most M, the sum of |x| over the tile's
 * elements (accumulated as they are added). An output's sum s is its columns' cs added once and
 * subtracted at most once along the row (each cs after at most 2*R steps, R the rows the band
 * reads), after at most 2*(xb - xa) steps of s: within (4*R + 2*(xb - xa) + 4)*u*M. Where that
 * bound (times 1 + 2^-20 for second-order terms and M's own rounding) is at most 1e-6 in every lane
 * of the work item, each result is within 1e-6*div*max(1, |avg|) of its exact sum (div >= 1), a
 * quarter of SEMANTICS.md's tolerance, as the CPU path certifies. Otherwise (large values, NaN or
 * infinities, whose inf - inf would reach windows that do not hold them) the work item does its
 * tile again with additions only: per output row, each column's sum over the window's rows afresh,
 * then each output's sum over its window's columns afresh, in double as pool2d sums.
 *
 * Required macros: those of pool2d_nhwc.cl (MODE_AVG; KH, KW, SH, SW, PAD_T, PAD_B, PAD_L, PAD_R,
 * COUNT_INCLUDE_PAD, VEC, ACC_DOUBLE = 1; DH = DW = 1) and
 *   TILE_IN  input columns a tile may read (the private array's length)
 *
 * Kernel pool_sliding arguments: in, out, H, W, C, OH, OW, band (output rows per tile), tileCols
 * (output columns per tile), bands (tiles per item down), tiles (tiles per item across), items
 * (N * bands * tiles * C / VEC). Range: flat, items rounded up to the work group (one work-group
 * function whatever the tensor); a work item's channels vary fastest.
 */

#if !defined(MODE_AVG) || !ACC_DOUBLE
#error "sliding sums are for averages with double sums"
#endif

/* The divisor's factors along each axis for a window starting at a, as pool2d forms them. */
#if COUNT_INCLUDE_PAD
#define ROW_FACTOR(a) TAPS_BEFORE((a), KH, 1, H + PAD_B)
#define COL_FACTOR(a) TAPS_BEFORE((a), KW, 1, W + PAD_R)
#else
#define ROW_FACTOR(a) (min((a) + KH, H) - max((a), 0))
#define COL_FACTOR(a) (min((a) + KW, W) - max((a), 0))
#endif

__kernel void pool_sliding(__global const storage_t *restrict in, __global storage_t *restrict out,
                           const int H, const int W, const int C, const int OH, const int OW,
                           const int band, const int tileCols, const int bands, const int tiles,
                           const int items)
{
    const int flat = (int)get_global_id(0);
    if (flat >= items) {
        return;
    }
    const int lanes = C / VEC;
    int rest = flat / lanes;
    const int c = (flat - rest * lanes) * VEC;
    const int t = rest % tiles;
    rest /= tiles;
    const int b = rest % bands;
    const int n = rest / bands;

    const int oy0 = b * band;
    const int oy1 = min(oy0 + band, OH);
    const int ox0 = t * tileCols;
    const int ox1 = min(ox0 + tileCols, OW);
    /* The tile's input columns (every window covers one, checked on the host). */
    const int xa = max(ox0 * SW - PAD_L, 0);
    const int xb = min((ox1 - 1) * SW - PAD_L + KW, W);
    const int rowStride = W * C;
    __global const storage_t *item = in + n * H * rowStride + c;

    accv cs[TILE_IN];
    for (int x = 0; x < xb - xa; ++x) {
        cs[x] = (accv)(0);
    }
    accv m = (accv)(0);
    /* The rows summed in cs: [lo, hi). */
    int lo = max(oy0 * SH - PAD_T, 0);
    int hi = lo;
    for (int oy = oy0; oy < oy1; ++oy) {
        const int ya = oy * SH - PAD_T;
        const int r0 = max(ya, 0);
        const int r1 = min(ya + KH, H);
        if (r0 >= hi) {
            /* No row of the last window is in this one (a stride beyond the window). */
            for (int x = 0; x < xb - xa; ++x) {
                cs[x] = (accv)(0);
            }
            lo = hi = r0;
        }
        for (; lo < r0; ++lo) {
            __global const storage_t *row = item + lo * rowStride + xa * C;
            for (int x = 0; x < xb - xa; ++x) {
                cs[x] -= TO_ACC(LOADV(row, x * C));
            }
        }
        for (; hi < r1; ++hi) {
            __global const storage_t *row = item + hi * rowStride + xa * C;
            for (int x = 0; x < xb - xa; ++x) {
                const accv v = TO_ACC(LOADV(row, x * C));
                cs[x] += v;
                m += fabs(v);
            }
        }
        const accv rowFactor = (accv)ROW_FACTOR(ya);
        const int o = ((n * OH + oy) * OW) * C + c;
        accv s = (accv)(0);
        /* The columns summed in s: [clo, chi), absolute. */
        int clo = xa;
        int chi = xa;
        for (int ox = ox0; ox < ox1; ++ox) {
            const int xs = ox * SW - PAD_L;
            const int c0 = max(xs, 0);
            const int c1 = min(xs + KW, W);
            if (c0 >= chi) {
                s = (accv)(0);
                clo = chi = c0;
            }
            for (; clo < c0; ++clo) {
                s -= cs[clo - xa];
            }
            for (; chi < c1; ++chi) {
                s += cs[chi - xa];
            }
            STOREV(TO_FLOAT(s / (rowFactor * (accv)COL_FACTOR(xs))), out, o + ox * C);
        }
    }

    /* The certificate (see the header); NaN and infinities fail it. */
    const double steps = 4.0 * (double)(hi - max(oy0 * SH - PAD_T, 0)) + 2.0 * (double)(xb - xa) + 4.0;
    const accv bound = m * (steps * 0x1p-53 * (1 + 0x1p-20));
#if VEC == 1
    if (bound <= 1e-6) {
        return;
    }
#else
    if (all(bound <= (accv)(1e-6))) {
        return;
    }
#endif
    /* Additions only: each output row's column sums afresh, then each output's window. */
    for (int oy = oy0; oy < oy1; ++oy) {
        const int ya = oy * SH - PAD_T;
        const int r0 = max(ya, 0);
        const int r1 = min(ya + KH, H);
        for (int x = 0; x < xb - xa; ++x) {
            accv sum = (accv)(0);
            for (int y = r0; y < r1; ++y) {
                sum += TO_ACC(LOADV(item, y * rowStride + (xa + x) * C));
            }
            cs[x] = sum;
        }
        const accv rowFactor = (accv)ROW_FACTOR(ya);
        const int o = ((n * OH + oy) * OW) * C + c;
        for (int ox = ox0; ox < ox1; ++ox) {
            const int xs = ox * SW - PAD_L;
            const int c1 = min(xs + KW, W);
            accv s = (accv)(0);
            for (int x = max(xs, 0); x < c1; ++x) {
                s += cs[x - xa];
            }
            STOREV(TO_FLOAT(s / (rowFactor * (accv)COL_FACTOR(xs))), out, o + ox * C);
        }
    }
}
