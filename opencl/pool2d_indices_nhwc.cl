/*
 * clpool: windowed max pooling with indices over NHWC float32 tensors: the values of pool2d
 * (MODE_MAX) and, per output element, the int64 index of the input element they came from.
 *
 * Each work item keeps, per lane, the running maximum and the position y*W + x it came from
 * (for NHWC indices (y*W + x)*C, TAP_POS). The maximum is updated by common.cl's MAX_UPDATE rule
 * (a strictly larger value replaces, the first NaN wins and stays); the position follows under
 * the rule's own mask, which holds exactly when the maximum's bits change, so exactly when the
 * rule chose the new value. So values and indices agree, the
 * values equal pool2d's bit for bit, and the indices equal the CPU path's. The position starts at
 * the window's first tap inside the input: the answer when no tap is strictly larger (a window of
 * -inf); padding never wins. At the end the position becomes the requested index convention.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.KernelOptions.pool):
 *   KH, KW, SH, SW, DH, DW, PAD_T, PAD_L   window, stride, dilation, leading padding
 *   VEC               channels per step: 1, 2, 4, 8 or 16; the host ensures C % VEC == 0
 *   CLOOP             1 (CPU devices): one work item per output pixel, looping over C VEC
 *                     channels at a time; 0 (GPUs): one work item per VEC channels of a pixel
 *   INDEX_CONVENTION  0 NHWC:      (y*W + x)*C + c
 *                     1 PyTorch:   y*W + x
 *                     2 ONNX:      ((n*C + c)*H + y)*W + x          (storage_order 0)
 *                     3 ONNX col.: ((n*C + c)*W + x)*H + y          (storage_order 1)
 * (The host's pool options also define MODE_MAX, PAD_B, PAD_R, COUNT_INCLUDE_PAD, ACC_DOUBLE, OPX,
 * INTERIOR: unused here.)
 *
 * The host prepends common.cl.
 *
 * Kernel arguments: in, out, idx, H, W, C, OH, OW, N0 (the batch index of this launch's first
 * item: ONNX indices count from the start of the whole tensor), Y0 and HT (the launch's input is
 * rows Y0 .. Y0+H-1 of batch items of HT rows: a row band of one item, or whole items with Y0 = 0
 * and HT = H; indices are positions in the whole item). Global range: (C / VEC, OW rounded up to the
 * work group, N * OH); CLOOP 1: (OW rounded up, N * OH).
 */

#if VEC == 1
typedef long longv;
#define LANES ((longv)(0))
#define CONVERT_LONGV(x) convert_long(x)
#define STOREL(v, p, off) ((p)[off] = (v))
#define LANE_INTS 0
#else
typedef CAT(long, VEC) longv;
#define CONVERT_LONGV(x) CAT(convert_long, VEC)(x)
#if CLOOP
/* CPU devices: a vector of indices stored through a packed struct, one unaligned store (PoCL
   3.1 makes a vstore16 of longs four 32-byte stores); GPUs keep vstore */
typedef struct __attribute__((packed)) { longv v; } longv_u;
#define STOREL(x, p, off) (((__global longv_u *)((p) + (off)))->v = (x))
#else
#define STOREL(x, p, off) CAT(vstore, VEC)((x), 0, (p) + (off))
#endif
#if VEC == 2
#define LANES ((longv)(0, 1))
#define LANE_INTS ((intv)(0, 1))
#elif VEC == 4
#define LANES ((longv)(0, 1, 2, 3))
#define LANE_INTS ((intv)(0, 1, 2, 3))
#elif VEC == 8
#define LANES ((longv)(0, 1, 2, 3, 4, 5, 6, 7))
#define LANE_INTS ((intv)(0, 1, 2, 3, 4, 5, 6, 7))
#elif VEC == 16
#define LANES ((longv)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define LANE_INTS ((intv)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "VEC must be 1, 2, 4, 8 or 16"
#endif
#endif

/* The values: on CPU devices float32 vectors stored as one unaligned store, as the indices
   (PoCL 3.1 splits a vstore16 of floats into three); 16-bit storage and GPUs through STOREV */
#if CLOOP && STORAGE == 0 && VEC > 1
typedef struct __attribute__((packed)) { floatv v; } floatv_store_u;
#define STORE_VALUES(x, p, off) (((__global floatv_store_u *)((p) + (off)))->v = (x))
#else
#define STORE_VALUES(v, p, off) STOREV(v, p, off)
#endif

/* What a work item keeps of the tap it chose: NHWC indices the tap's pixel's element offset,
   (y*W + x)*C, so that its index is one addition and a widening at the end; the others the
   pixel's position y*W + x. */
#if INDEX_CONVENTION == 0
#define TAP_POS(y, x) (((y) * W + (x)) * C)
#else
#define TAP_POS(y, x) ((y) * W + (x))
#endif

/* Effective window extents. */
#define EH ((KH - 1) * DH + 1)
#define EW ((KW - 1) * DW + 1)

/* Output (n, oy, ox), channels c .. c+VEC-1: the value and its index, over the window's taps
   jy0 .. jy1-1, jx0 .. jx1-1 (those inside the input; the kernel passes the constants 0, KH, 0,
   KW for a window wholly inside it, so that those loops unroll). */
inline void indices_one(__global const storage_t *restrict in, __global storage_t *restrict out,
                        __global long *restrict idx, const int H, const int W, const int C,
                        const int OH, const int OW, const int N0, const int Y0, const int HT,
                        const int n, const int oy, const int ox, const int c,
                        const int jy0, const int jy1, const int jx0, const int jx1)
{
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox * SW - PAD_L;

    floatv m = (floatv)(-INFINITY);
    intv pos = (intv)(TAP_POS(y0 + jy0 * DH, x0 + jx0 * DW));
    for (int jy = jy0; jy < jy1; ++jy) {
        const int y = y0 + jy * DH;
        for (int jx = jx0; jx < jx1; ++jx) {
            const int x = x0 + jx * DW;
            const floatv v = LOADV(in, ((n * H + y) * W + x) * C + c);
            /* MAX_UPDATE's choice kept (v > m, or v NaN over a number; never +0 over -0, which
               compare equal) */
            const intv take = MAX_TAKES(m, v);
            m = select(m, v, take);
            pos = select(pos, (intv)(TAP_POS(y, x)), take);
        }
    }

    const int o = ((n * OH + oy) * OW + ox) * C + c;
    STORE_VALUES(m, out, o);
#if INDEX_CONVENTION == 0
    /* pos is (y*W + x)*C in this launch's rows: with the channel, an element offset of the
       launch's input, which fits an int as the loads' offsets do; the item's rows before the
       launch's (Y0) are added in long. The same value as (p*C + c + lane) below. */
    const longv index = CONVERT_LONGV(pos + ((intv)(c) + LANE_INTS)) + (long)Y0 * (long)W * (long)C;
#else
    /* pos is y*W + x in this launch's rows; p the same in the whole item (row Y0 + y). */
    const longv p = CONVERT_LONGV(pos) + (long)Y0 * (long)W;
    const longv lane = (longv)((long)c) + LANES;
#endif
#if INDEX_CONVENTION == 0
    /* computed above */
#elif INDEX_CONVENTION == 1
    const longv index = p;
#elif INDEX_CONVENTION == 2
    const longv plane = (longv)((long)(N0 + n) * (long)C) + lane;
    const longv index = plane * ((long)HT * (long)W) + p;
#elif INDEX_CONVENTION == 3
    const longv py = CONVERT_LONGV(pos / W) + (long)Y0;
    const longv px = p - py * (long)W;
    const longv plane = (longv)((long)(N0 + n) * (long)C) + lane;
    const longv index = (plane * (long)W + px) * (long)HT + py;
#else
#error "INDEX_CONVENTION must be 0, 1, 2 or 3"
#endif
    STOREL(index, idx, o);
}

__kernel void pool2d_indices(__global const storage_t *restrict in, __global storage_t *restrict out,
                             __global long *restrict idx, const int H, const int W, const int C,
                             const int OH, const int OW, const int N0, const int Y0, const int HT)
{
    const int ox = PIXEL_COL();
    const int noy = PIXEL_ROW();
    if (ox >= OW) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int n = noy / OH;
    const int oy = noy - n * OH;
    /* Window origin and the taps inside the input, as in pool2d, once per pixel. */
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox * SW - PAD_L;
    if (y0 >= 0 && y0 + EH <= H && x0 >= 0 && x0 + EW <= W) {
        FOR_CHANNELS(c, C) {
            indices_one(in, out, idx, H, W, C, OH, OW, N0, Y0, HT, n, oy, ox, c, 0, KH, 0, KW);
        }
        return;
    }
    const int jy0 = y0 >= 0 ? 0 : (-y0 + DH - 1) / DH;
    const int jy1 = min(KH, (H - 1 - y0) / DH + 1);
    const int jx0 = x0 >= 0 ? 0 : (-x0 + DW - 1) / DW;
    const int jx1 = min(KW, (W - 1 - x0) / DW + 1);
    FOR_CHANNELS(c, C) {
        indices_one(in, out, idx, H, W, C, OH, OW, N0, Y0, HT, n, oy, ox, c, jy0, jy1, jx0, jx1);
    }
}
