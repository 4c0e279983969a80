/*
 * clpool: adaptive 2-D pooling (avg, max) of NHWC float32 tensors to an output size (OH, OW).
 *
 * Output i of an axis of IN positions pooled to OUT covers the input positions
 * floor(i*IN/OUT) .. ceil((i+1)*IN/OUT) - 1 (SEMANTICS.md); OUT may exceed IN. The bounds are
 * computed in long: i*IN overflows int for large sizes. Every region holds at least one position.
 *
 * A work item computes VEC adjacent channels of one output pixel (GPUs), or all channels of one
 * output pixel VEC at a time (CPU devices), as the two layouts of pool2d_nhwc.cl. Sizes are
 * runtime arguments, so a new size never recompiles.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.AdaptiveRoutine):
 *   MODE_MAX | MODE_AVG   exactly one is defined
 *   VEC                   channels per step: 1, 2, 4, 8 or 16; the host ensures C % VEC == 0
 *   CLOOP                 1 (CPU devices): one work item per output pixel, looping over C VEC
 *                         channels at a time; 0 (GPUs): one work item per VEC channels of a pixel
 *   ACC_DOUBLE            1: accumulate in double (device has cl_khr_fp64); 0: compensated float
 *
 * The host prepends common.cl (vector types, MAX_UPDATE, ACC_INIT / ACC_ADD / ACC_TOTAL).
 *
 * Kernel arguments: in, out, H, W, C, OH, OW. Global range: (C / VEC, OW rounded up to the
 * work group, N * OH); CLOOP 1: (OW rounded up, N * OH).
 *
 * max: MAX_UPDATE (a strictly larger value replaces, the first NaN wins and stays), so the
 * result is bit-identical to the CPU path. avg: the sum divided by the region's element count.
 */

#define REGION_START(i, in, out) ((int)(((long)(i) * (long)(in)) / (long)(out)))
#define REGION_END(i, in, out) ((int)((((long)(i) + 1) * (long)(in) + (long)(out) - 1) / (long)(out)))

/* Output (n, oy, ox), channels c .. c+VEC-1. */
inline void adaptive_one(__global const storage_t *restrict in, __global storage_t *restrict out,
                         const int H, const int W, const int C, const int OH, const int OW,
                         const int n, const int oy, const int ox, const int c)
{
    const int y0 = REGION_START(oy, H, OH);
    const int y1 = REGION_END(oy, H, OH);
    const int x0 = REGION_START(ox, W, OW);
    const int x1 = REGION_END(ox, W, OW);

#if defined(MODE_MAX)
    floatv m = (floatv)(-INFINITY);
    for (int y = y0; y < y1; ++y) {
        const int rowBase = (n * H + y) * W;
        for (int x = x0; x < x1; ++x) {
            const floatv v = LOADV(in, (rowBase + x) * C + c);
            MAX_UPDATE(m, v);
        }
    }
    STOREV(m, out, ((n * OH + oy) * OW + ox) * C + c);

#elif defined(MODE_AVG)
    ACC_INIT(sum);
    for (int y = y0; y < y1; ++y) {
        const int rowBase = (n * H + y) * W;
        for (int x = x0; x < x1; ++x) {
            ACC_ADD(sum, TO_ACC(LOADV(in, (rowBase + x) * C + c)));
        }
    }
    const int div = (y1 - y0) * (x1 - x0);
    STOREV(TO_FLOAT(ACC_TOTAL(sum) / (accv)(div)), out, ((n * OH + oy) * OW + ox) * C + c);

#else
#error "define one of MODE_MAX, MODE_AVG"
#endif
}

__kernel void adaptive2d(__global const storage_t *restrict in, __global storage_t *restrict out,
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
        adaptive_one(in, out, H, W, C, OH, OW, n, oy, ox, c);
    }
}
