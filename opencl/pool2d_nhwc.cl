/*
 * clpool: windowed 2-D pooling (max, avg, lp) over NHWC float32 tensors.
 *
 * Two layouts of the same computation, chosen by the host from the device type:
 *   CLOOP 0 (GPUs): one work item computes VEC adjacent channels of one output pixel, so
 *           neighbouring work items read neighbouring channels (coalesced).
 *           Global range (C / VEC, OW rounded up to the work group, N * OH).
 *   CLOOP 1 (CPU devices such as PoCL): one work item computes OPX adjacent output pixels of one
 *           row, looping over all channels VEC at a time; the work-group size then does not
 *           depend on C, so the driver compiles one work-group function per kernel.
 *           Global range (ceil(OW / OPX) rounded up to the work group, N * OH).
 * Work items past the end of a row (the rounding) return at once.
 *
 * Only the window taps that lie inside the input are visited: the tap range is computed once per
 * output, and the inner loops carry no bounds checks. Windows wholly inside the input (the
 * interior, nearly every window of a large tensor) take a path whose loops have compile-time
 * bounds, so the compiler unrolls them and shares loads between the OPX outputs of a work item.
 * Sizes are runtime arguments, so a new tensor size never recompiles.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.KernelOptions):
 *   MODE_MAX | MODE_AVG | MODE_LP     exactly one is defined
 *   KH, KW        window
 *   SH, SW        stride
 *   DH, DW        dilation
 *   PAD_T, PAD_L  leading padding (rows, columns)
 *   PAD_B, PAD_R  trailing padding (used by the count_include_pad divisor)
 *   COUNT_INCLUDE_PAD  0 or 1 (avg)
 *   VEC           channels per step: 1, 2, 4, 8 or 16; the host ensures C % VEC == 0 (lp: 1,
 *                 except LP_SQUARE with ACC_DOUBLE)
 *   ACC_DOUBLE    1: accumulate in double (device has cl_khr_fp64); 0: compensated float sums
 *   LP_P          exponent as a float literal (lp)
 *   LP_DIRECT     (lp, optional) p <= 4: with ACC_DOUBLE, the powers are summed unscaled
 *   LP_SQUARE     (lp, optional) p == 2: x*x and sqrt instead of pow
 *   CLOOP         0 or 1, the layout above
 *   OPX           output pixels per work item along a row (CLOOP 1; 1 otherwise)
 *   INTERIOR      1: windows wholly inside the input take the unrolled interior path (CLOOP 1,
 *                 small windows only: the host sets 0 beyond KernelOptions.MAX_UNROLLED_TAPS;
 *                 lp only with LP_SQUARE and ACC_DOUBLE)
 *   TAP_MAJOR     (optional, max, CLOOP 1, INTERIOR 1, float32) 1: the interior folds tap by tap
 *                 through the output, C channels a tap (KernelOptions.maxRuns: many channels)
 *   CHUNK         (optional, max or avg, CLOOP 1, INTERIOR 1) CHUNK vectors of each tap at a time;
 *                 the host ensures C % (CHUNK * VEC) == 0 (KernelOptions.maxRuns: 64 channels,
 *                 with STORED_MAX any multiple of 64; KernelOptions.avgRuns: avg from 64 channels)
 *   STORED_MAX    (optional) pool2d_stored.cl's program (16-bit max on CPU devices), which follows
 *                 this file and has its own kernel: pool2d is left out
 *
 * The host prepends common.cl (vector types and accumulators).
 *
 * Kernel arguments: in, out, H, W, C, OH, OW.
 *
 * Semantics (SEMANTICS.md): max propagates NaN (the first NaN in scan order) and padding never
 * wins; the strict ">" keeps the first maximum, which makes the result bit-identical to the CPU
 * path (the interior path visits the taps in the same order). avg divides by the number of input
 * elements in the window, or with COUNT_INCLUDE_PAD by its taps that lie inside the padded input
 * (TAPS_BEFORE).
 */

#ifndef CHUNK
#define CHUNK 1
#endif
#ifndef TAP_MAJOR
#define TAP_MAJOR 0
#endif

/* Effective window extents. */
#define EH ((KH - 1) * DH + 1)
#define EW ((KW - 1) * DW + 1)

/* LP with p = 2 and double sums (LP_SQUARE): x*x and sqrt work lane by lane, so such LP takes any
   VEC and the interior path, like avg. Every other LP keeps one channel per step (with p = 3 in
   channel vectors, PoCL 3.1's pow of double vectors lost the largest floats' powers in
   DeviceNumericsIT: a finite result where float64 gives infinity). */
#if defined(MODE_LP) && defined(LP_SQUARE) && ACC_DOUBLE
#define LP_VECTOR 1
#else
#define LP_VECTOR 0
#endif
#if defined(MODE_LP) && !LP_VECTOR && VEC != 1
#error "lp other than p = 2 with double sums runs with VEC == 1"
#endif
#if defined(MODE_LP) && CHUNK != 1
#error "CHUNK is for max and avg"
#endif
#if !defined(MODE_MAX) && !defined(MODE_AVG) && !defined(MODE_LP)
#error "define one of MODE_MAX, MODE_AVG, MODE_LP"
#endif
#if defined(MODE_LP) && defined(LP_DIRECT) && ACC_DOUBLE
/* The finished value of a one-pass sum: its root, with the canonical NaN stored, as the scaled
   path does. */
inline floatv lp_result(const accv sum)
{
    const floatv r = TO_FLOAT(LP_ROOT(sum));
    return select(r, (floatv)(NAN), isnan(r));
}
#endif

/* One output pixel (n, oy, ox), channels c .. c+VEC-1, any window position (border or not). */
inline void pool_any(__global const storage_t *restrict in, __global storage_t *restrict out,
                     const int H, const int W, const int C, const int OH, const int OW,
                     const int n, const int oy, const int ox, const int c)
{
    /* Window origin (tap 0) and the taps that lie inside the input. Every window covers at
       least one input element (checked on the host), so y0 <= H-1 and x0 <= W-1. */
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox * SW - PAD_L;
    const int jy0 = y0 >= 0 ? 0 : (-y0 + DH - 1) / DH;
    const int jy1 = min(KH, (H - 1 - y0) / DH + 1);
    const int jx0 = x0 >= 0 ? 0 : (-x0 + DW - 1) / DW;
    const int jx1 = min(KW, (W - 1 - x0) / DW + 1);

    const int plane = n * H;
    const int rowStride = W * C;
    const int o = ((n * OH + oy) * OW + ox) * C + c;

#if defined(MODE_MAX)
    floatv m = (floatv)(-INFINITY);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const floatv v = LOADV(in, rowBase + (x0 + jx * DW) * C);
            MAX_UPDATE(m, v);
        }
    }
    STOREV(m, out, o);

#elif defined(MODE_AVG)
    accv sum = (accv)(0);
#if !ACC_DOUBLE
    accv comp = (accv)(0); /* Neumaier compensation */
#endif
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const accv v = TO_ACC(LOADV(in, rowBase + (x0 + jx * DW) * C));
#if ACC_DOUBLE
            sum += v;
#else
            COMPENSATED_ADD(sum, comp, v);
#endif
        }
    }
#if !ACC_DOUBLE
    sum = COMPENSATED_TOTAL(sum, comp);
#endif
    /* The divisor is a product of two axis extents: formed in the accumulator type, since it can
       exceed 2^31 (a huge window with count_include_pad). */
#if COUNT_INCLUDE_PAD
    const accv div = (accv)TAPS_BEFORE(y0, KH, DH, H + PAD_B) * (accv)TAPS_BEFORE(x0, KW, DW, W + PAD_R);
#else
    const accv div = (accv)(jy1 - jy0) * (accv)(jx1 - jx0);
#endif
    STOREV(TO_FLOAT(sum / div), out, o);

#elif defined(MODE_LP) && defined(LP_DIRECT) && ACC_DOUBLE
    /* (sum |x|^p)^(1/p) for p <= 4 in double: every |x|^p of a float lies within double's normal
       range, so the powers are summed unscaled, in one pass; NaN and infinities come through the
       sum. */
    accv sum = (accv)(0);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            sum += LP_TERM(TO_ACC(fabs(LOADV(in, rowBase + (x0 + jx * DW) * C))));
        }
    }
    STOREV(lp_result(sum), out, o);

#elif defined(MODE_LP)
    /* (sum |x|^p)^(1/p), scaled by the largest |x| so that a large p or large values do not
       overflow where the true result is representable. */
    float amax = 0.0f;
    int nan = 0;
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const float a = fabs(LOADV(in, rowBase + (x0 + jx * DW) * C));
            nan |= isnan(a);
            amax = fmax(amax, a);
        }
    }
    float r;
    if (nan) {
        r = NAN;
    } else if (amax == 0.0f || isinf(amax)) {
        r = amax;
    } else {
        const accv scale = TO_ACC(amax);
        accv sum = (accv)(0);
        for (int jy = jy0; jy < jy1; ++jy) {
            const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
            for (int jx = jx0; jx < jx1; ++jx) {
                sum += pow(TO_ACC(fabs(LOADV(in, rowBase + (x0 + jx * DW) * C))) / scale, (accv)(LP_P));
            }
        }
        r = TO_FLOAT(scale * pow(sum, (accv)(1) / (accv)(LP_P)));
    }
    STOREV(r, out, o);
#endif
}

#if CLOOP && INTERIOR && (!defined(MODE_LP) || LP_VECTOR)
/* OPX outputs (n, oy, ox0 .. ox0+OPX-1), channels c .. c+VEC-1, every window wholly inside the
   input: compile-time loop bounds, so the loops unroll and the loads shared by neighbouring
   windows are loaded once. Taps are visited in the same order as pool_any. */
inline void pool_interior(__global const storage_t *restrict in, __global storage_t *restrict out,
                          const int W, const int C, const int o, const int base, const int c)
{
    const int rowStride = W * C;
#if defined(MODE_MAX)
    /* Each row's maximum first, then the rows' in order: the same scan order regrouped (the rule
       is associative), so the same bits; but KH independent chains of KW-1 dependent updates
       instead of one chain of KH*KW-1, which is what bounded the speed (compare latency). */
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
        floatv r[KH];
#pragma unroll
        for (int jy = 0; jy < KH; ++jy) {
            const int row = base + jy * DH * rowStride + i * SW * C + c;
            r[jy] = LOADV(in, row);
#pragma unroll
            for (int jx = 1; jx < KW; ++jx) {
                const floatv v = LOADV(in, row + jx * DW * C);
                MAX_UPDATE(r[jy], v);
            }
        }
#pragma unroll
        for (int jy = 1; jy < KH; ++jy) {
            MAX_UPDATE(r[0], r[jy]);
        }
        STOREV(r[0], out, o + i * C + c);
    }
#else /* MODE_AVG, and LP_VECTOR: pool_any's one pass (always double sums) */
    /* CHUNK vectors of channels (c .. c + CHUNK*VEC - 1; CHUNK > 1 only for avg): each tap's are
       loaded one after the other, so a tap is read as one run of CHUNK*VEC elements rather than a
       vector interleaved with the window's other taps (DenseNet's 2x2 s2 read four runs 512 bytes
       apart, 64 bytes at a time). Each sum still adds its channel's taps in scan order from +0:
       the same bits whatever CHUNK. */
    accv sum[OPX][CHUNK];
#if !ACC_DOUBLE
    accv comp[OPX][CHUNK];
#endif
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
            sum[i][k] = (accv)(0);
#if !ACC_DOUBLE
            comp[i][k] = (accv)(0);
#endif
        }
    }
#pragma unroll
    for (int jy = 0; jy < KH; ++jy) {
#pragma unroll
        for (int jx = 0; jx < KW; ++jx) {
#pragma unroll
            for (int i = 0; i < OPX; ++i) {
#pragma unroll
                for (int k = 0; k < CHUNK; ++k) {
                    const floatv x = LOADV(in, base + jy * DH * rowStride + (i * SW + jx * DW) * C + c + k * VEC);
#if defined(MODE_LP)
                    const accv v = LP_TERM(TO_ACC(fabs(x)));
#else
                    const accv v = TO_ACC(x);
#endif
#if ACC_DOUBLE
                    sum[i][k] += v;
#else
                    COMPENSATED_ADD(sum[i][k], comp[i][k], v);
#endif
                }
            }
        }
    }
#if defined(MODE_LP)
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
        STOREV(lp_result(sum[i][0]), out, o + i * C + c);
    }
#else
    /* A window wholly inside the input: every tap is an input element, so with or without
       COUNT_INCLUDE_PAD the divisor is the number of taps (SEMANTICS.md counts taps, not the span
       EH x EW, with dilation). */
    const accv div = (accv)(KH * KW);
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
#if !ACC_DOUBLE
            sum[i][k] = COMPENSATED_TOTAL(sum[i][k], comp[i][k]);
#endif
            STOREV(TO_FLOAT(sum[i][k] / div), out, o + i * C + c + k * VEC);
        }
    }
#endif
#endif
}
#endif

#if CLOOP && INTERIOR && defined(MODE_MAX) && CHUNK > 1
/* Max, CHUNK channel vectors at a time (the host passes CHUNK > 1 only where C is a multiple of
   CHUNK * VEC): each tap's CHUNK vectors are loaded one after the other, so a tap is read as a run
   of CHUNK * VEC contiguous elements instead of one vector, interleaved with the window's other
   taps (with 512 channels, four streams 2 KB apart). Per channel the taps are folded in the same
   order as pool_interior, so the same bits. */
inline void pool_interior_chunk(__global const storage_t *restrict in, __global storage_t *restrict out,
                                const int W, const int C, const int o, const int base, const int c)
{
    const int rowStride = W * C;
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
        floatv r[KH][CHUNK];
#pragma unroll
        for (int jy = 0; jy < KH; ++jy) {
            const int row = base + jy * DH * rowStride + i * SW * C + c;
#pragma unroll
            for (int k = 0; k < CHUNK; ++k) {
                r[jy][k] = LOADV(in, row + k * VEC);
            }
#pragma unroll
            for (int jx = 1; jx < KW; ++jx) {
#pragma unroll
                for (int k = 0; k < CHUNK; ++k) {
                    const floatv v = LOADV(in, row + jx * DW * C + k * VEC);
                    MAX_UPDATE(r[jy][k], v);
                }
            }
        }
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
#pragma unroll
            for (int jy = 1; jy < KH; ++jy) {
                MAX_UPDATE(r[0][k], r[jy][k]);
            }
            STOREV(r[0][k], out, o + i * C + c + k * VEC);
        }
    }
}
#endif

#if CLOOP && INTERIOR && defined(MODE_MAX) && TAP_MAJOR
/* Max tap by tap (the host passes TAP_MAJOR for many channels): the first tap's channels are
   copied to the output, each later tap's folded into it in scan order, so each tap is read as one
   run of C elements (at 512 channels the vector-at-a-time form reads four streams 2 KB apart),
   at the cost of the output's C elements re-read and re-written from L1 once per tap (so the
   output buffer is read as well as written: the host makes it READ_WRITE). Per channel the same
   fold in the same order as pool_interior: the same bits. Private accumulators of 32 vectors
   instead of the output measured slower (VGG-16 block 4: 3.5 ms of CPU against 2.6). */
inline void pool_interior_taps(__global const storage_t *restrict in, __global storage_t *restrict out,
                               const int W, const int C, const int o, const int base)
{
    const int rowStride = W * C;
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
        const int oi = o + i * C;
        const int first = base + i * SW * C;
        for (int c = 0; c < C; c += VEC) {
            STOREV(LOADV(in, first + c), out, oi + c);
        }
#pragma unroll
        for (int t = 1; t < KH * KW; ++t) {
            const int tap = first + (t / KW) * DH * rowStride + (t % KW) * DW * C;
            for (int c = 0; c < C; c += VEC) {
                floatv m = LOADV(out, oi + c);
                MAX_UPDATE(m, LOADV(in, tap + c));
                STOREV(m, out, oi + c);
            }
        }
    }
}
#endif

#ifndef STORED_MAX /* pool2d_stored.cl's program has its own kernel */
__kernel void pool2d(__global const storage_t *restrict in, __global storage_t *restrict out,
                     const int H, const int W, const int C, const int OH, const int OW)
{
#if CLOOP
    const int ox0 = (int)get_global_id(0) * OPX;
    const int noy = (int)get_global_id(1);
    if (ox0 >= OW) {
        return;
    }
    const int n = noy / OH;
    const int oy = noy - n * OH;
#if INTERIOR && (!defined(MODE_LP) || LP_VECTOR)
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox0 * SW - PAD_L;
    if (y0 >= 0 && y0 + EH <= H && x0 >= 0 && x0 + (OPX - 1) * SW + EW <= W && ox0 + OPX <= OW) {
        const int base = ((n * H + y0) * W + x0) * C;
        const int o = ((n * OH + oy) * OW + ox0) * C;
#if defined(MODE_MAX) && TAP_MAJOR
        pool_interior_taps(in, out, W, C, o, base);
#elif defined(MODE_MAX) && CHUNK > 1
        for (int c = 0; c < C; c += CHUNK * VEC) {
            pool_interior_chunk(in, out, W, C, o, base, c);
        }
#elif CHUNK > 1
        for (int c = 0; c < C; c += CHUNK * VEC) {
            pool_interior(in, out, W, C, o, base, c);
        }
#else
        /* Two channel steps at a time: independent work for the out-of-order core. */
#pragma unroll 2
        for (int c = 0; c < C; c += VEC) {
            pool_interior(in, out, W, C, o, base, c);
        }
#endif
        return;
    }
#endif
    const int ox1 = min(ox0 + OPX, OW);
    for (int c = 0; c < C; c += VEC) {
        for (int ox = ox0; ox < ox1; ++ox) {
            pool_any(in, out, H, W, C, OH, OW, n, oy, ox, c);
        }
    }
#else
    const int c = (int)get_global_id(0) * VEC;
    const int ox = (int)get_global_id(1);
    const int noy = (int)get_global_id(2);
    if (ox >= OW) {
        return;
    }
    const int n = noy / OH;
    pool_any(in, out, H, W, C, OH, OW, n, noy - n * OH, ox, c);
#endif
}
#endif
