/*
 * clpool: windowed 2-D pooling (max, avg, lp) over NHWC tensors (float storage, or half/bfloat16:
 * common.cl's STORAGE).
 *
 * One work item computes VEC adjacent channels of one output pixel, so neighbouring work items
 * read neighbouring channels (contiguous in NHWC). Only the window taps that lie inside the input
 * are visited: the tap range is computed once per work item, and the inner loops carry no bounds
 * checks. Sizes are runtime arguments, so a new tensor size never recompiles.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.KernelOptions):
 *   MODE_MAX | MODE_AVG | MODE_LP     exactly one is defined
 *   KH, KW        window
 *   SH, SW        stride
 *   DH, DW        dilation
 *   PAD_T, PAD_L  leading padding (rows, columns)
 *   PAD_B, PAD_R  trailing padding (used by the count_include_pad divisor)
 *   COUNT_INCLUDE_PAD  0 or 1 (avg)
 *   VEC           channels per work item: 1, 2, 4 or 8; the host ensures C % VEC == 0 (lp: 1)
 *   ACC_DOUBLE    1: accumulate in double (device has cl_khr_fp64); 0: compensated float sums
 *   LP_P          exponent as a float literal (lp)
 *
 * The host prepends common.cl (vector types and accumulators).
 *
 * Kernel arguments: in, out, H, W, C, OH, OW. Global range: (C / VEC, OW, N * OH).
 *
 * Semantics (SEMANTICS.md): max propagates NaN (the first NaN in scan order) and padding never
 * wins; the strict ">" keeps the first maximum, which makes the result bit-identical to the CPU
 * path. avg divides by the number of input elements in the window, or with COUNT_INCLUDE_PAD by
 * the window's extent clipped at the end of the trailing padding.
 */

/* Effective window extents. */
#define EH ((KH - 1) * DH + 1)
#define EW ((KW - 1) * DW + 1)

__kernel void pool2d(__global const storage_t *restrict in, __global storage_t *restrict out,
                     const int H, const int W, const int C, const int OH, const int OW)
{
    const int c = (int)get_global_id(0) * VEC;
    const int ox = (int)get_global_id(1);
    const int noy = (int)get_global_id(2);
    const int n = noy / OH;
    const int oy = noy - n * OH;

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

#if defined(MODE_MAX)
    floatv m = (floatv)(-INFINITY);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const floatv v = LOADV(in, rowBase + (x0 + jx * DW) * C);
            MAX_UPDATE(m, v);
        }
    }
    STOREV(m, out, ((n * OH + oy) * OW + ox) * C + c);

#elif defined(MODE_AVG)
    ACC_INIT(sum);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = (plane + y0 + jy * DH) * rowStride + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            ACC_ADD(sum, TO_ACC(LOADV(in, rowBase + (x0 + jx * DW) * C)));
        }
    }
#if COUNT_INCLUDE_PAD
    const int div = (min(y0 + EH, H + PAD_B) - y0) * (min(x0 + EW, W + PAD_R) - x0);
#else
    const int div = (jy1 - jy0) * (jx1 - jx0);
#endif
    STOREV(TO_FLOAT(ACC_TOTAL(sum) / (accv)(div)), out, ((n * OH + oy) * OW + ox) * C + c);

#elif defined(MODE_LP)
#if VEC != 1
#error "lp runs with VEC == 1"
#endif
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
    STOREV(r, out, ((n * OH + oy) * OW + ox) * C + c);
#else
#error "define one of MODE_MAX, MODE_AVG, MODE_LP"
#endif
}
