/*
 * clpool: max windows over NHWC float16 and bfloat16 tensors on their stored 16-bit patterns
 * (CPU devices, the channel-loop layout; KernelOptions.maxStored). The host prepends
 * pool2d_nhwc.cl (built with the same options, its kernel left out), whose float path computes
 * the flagged windows below, interior (pool_interior, pool_interior_chunk) and border (pool_any).
 *
 * Required macros: pool2d_nhwc.cl's, with MODE_MAX, CLOOP 1, INTERIOR 1, STORAGE 1 (half) or 2
 * (bfloat16), and STORED_MAX 1.
 *
 * As signed shorts, the patterns with the sign bit clear order as their values (+0 least,
 * +infinity above every finite one, the positive NaNs above it), and those with it set order
 * against theirs (-0 = 0x8000 least, the negative NaNs just under 0). So a window's greatest short
 * hi is its maximum where hi >= 0, and its least short lo where every tap is negative: a max and a
 * min a tap, and one select. Equal values other than zeros have equal patterns, and a value that
 * is not NaN widens and rounds back to itself, so this is the float path's result, bit for bit,
 * except (a) with a NaN in the window (the float path keeps the first NaN in scan order and sets
 * its quiet bit) and (b) with a maximum of +0 beside a -0 (it keeps the first zero in scan order).
 * (a) shows as hi above the infinity pattern (a positive NaN) or the greatest unsigned pattern um
 * above the negative infinity's (a negative NaN), (b) as hi == +0 with lo == -0. Where any lane of
 * a work item's CHUNK vectors of its OPX outputs shows either, they are computed again by the float
 * path (pool_interior or pool_interior_chunk), which is the result itself; ReLU'd and all-zero
 * data hold no -0 and never do.
 *
 * Kernel arguments: in, out, H, W, C, OH, OW (as pool2d's).
 */

#if !defined(MODE_MAX) || !CLOOP || !INTERIOR || STORAGE == 0 || TAP_MAJOR
#error "pool2d_stored is max over 16-bit storage in the channel loop's interior, a vector or CHUNK at a time"
#endif

#if STORAGE == 1
#define STORED_INF 0x7c00
#else
#define STORED_INF 0x7f80
#endif

#if VEC == 1
typedef short shortv;
typedef ushort ushortv;
#define LOAD_SHORTS(p, off) ((short)(p)[off])
#define STORE_SHORTS(v, p, off) ((p)[off] = (ushort)(v))
#define AS_USHORTV(x) as_ushort(x)
#define ANY_FLAG(f) ((f) != 0)
#define STORED_MAX_OF(hi, lo) ((short)((hi) >= 0 ? (hi) : (lo)))
#else
typedef CAT(short, VEC) shortv;
typedef CAT(ushort, VEC) ushortv;
#define LOAD_SHORTS(p, off) CAT(as_short, VEC)(CAT(vload, VEC)(0, (p) + (off)))
/* Through a packed struct: PoCL 3.1's vstoreN of ushorts is N 2-byte stores, this one unaligned
   vector store (as common.cl's STORE_BITS). */
typedef struct __attribute__((packed)) { ushortv v; } ushortv_packed;
#define STORE_SHORTS(x, p, off) (((__global ushortv_packed *)((p) + (off)))->v = CAT(as_ushort, VEC)(x))
#define AS_USHORTV(x) CAT(as_ushort, VEC)(x)
#define ANY_FLAG(f) any(f)
#define STORED_MAX_OF(hi, lo) select((lo), (hi), (hi) >= (shortv)(0))
#endif

/* OPX outputs (o, o + C, ...) of a window wholly inside the input whose first tap is base,
   channels c .. c + CHUNK*VEC - 1: their maxima stored from the patterns, or, where a lane is
   flagged, by the float path. */
inline void pool_interior_stored(__global const storage_t *restrict in, __global storage_t *restrict out,
                                 const int W, const int C, const int o, const int base, const int c)
{
    const int rowStride = W * C;
    shortv hi[OPX][CHUNK], lo[OPX][CHUNK];
    ushortv um[OPX][CHUNK];
    shortv flag = (shortv)(0);
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
            const shortv s = LOAD_SHORTS(in, base + i * SW * C + c + k * VEC);
            hi[i][k] = s;
            lo[i][k] = s;
            um[i][k] = AS_USHORTV(s);
        }
#pragma unroll
        for (int t = 1; t < KH * KW; ++t) {
            const int tap = base + (t / KW) * DH * rowStride + (i * SW + (t % KW) * DW) * C + c;
#pragma unroll
            for (int k = 0; k < CHUNK; ++k) {
                const shortv s = LOAD_SHORTS(in, tap + k * VEC);
                hi[i][k] = max(hi[i][k], s);
                lo[i][k] = min(lo[i][k], s);
                um[i][k] = max(um[i][k], AS_USHORTV(s));
            }
        }
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
            flag |= (hi[i][k] > (shortv)(STORED_INF)) | (um[i][k] > (ushortv)(0x8000 | STORED_INF))
                    | ((hi[i][k] == (shortv)(0)) & (lo[i][k] == (shortv)(-0x8000)));
        }
    }
    if (ANY_FLAG(flag)) {
#if CHUNK > 1
        pool_interior_chunk(in, out, W, C, o, base, c);
#else
        pool_interior(in, out, W, C, o, base, c);
#endif
        return;
    }
#pragma unroll
    for (int i = 0; i < OPX; ++i) {
#pragma unroll
        for (int k = 0; k < CHUNK; ++k) {
            STORE_SHORTS(STORED_MAX_OF(hi[i][k], lo[i][k]), out, o + i * C + c + k * VEC);
        }
    }
}

/* One output (n, oy, ox), channels c .. c+VEC-1, any window position (pool_any's taps, those
   inside the input): as above, from the identities of each accumulator (every window has a tap
   inside the input), or by pool_any where a lane is flagged. */
inline void pool_any_stored(__global const storage_t *restrict in, __global storage_t *restrict out,
                            const int H, const int W, const int C, const int OH, const int OW,
                            const int n, const int oy, const int ox, const int c)
{
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox * SW - PAD_L;
    const int jy0 = y0 >= 0 ? 0 : (-y0 + DH - 1) / DH;
    const int jy1 = min(KH, (H - 1 - y0) / DH + 1);
    const int jx0 = x0 >= 0 ? 0 : (-x0 + DW - 1) / DW;
    const int jx1 = min(KW, (W - 1 - x0) / DW + 1);
    shortv hi = (shortv)(-0x8000), lo = (shortv)(0x7fff);
    ushortv um = (ushortv)(0);
    for (int jy = jy0; jy < jy1; ++jy) {
        const int rowBase = ((n * H + y0 + jy * DH) * W + x0) * C + c;
        for (int jx = jx0; jx < jx1; ++jx) {
            const shortv s = LOAD_SHORTS(in, rowBase + jx * DW * C);
            hi = max(hi, s);
            lo = min(lo, s);
            um = max(um, AS_USHORTV(s));
        }
    }
    const shortv flag = (hi > (shortv)(STORED_INF)) | (um > (ushortv)(0x8000 | STORED_INF))
                        | ((hi == (shortv)(0)) & (lo == (shortv)(-0x8000)));
    if (ANY_FLAG(flag)) {
        pool_any(in, out, H, W, C, OH, OW, n, oy, ox, c);
    } else {
        STORE_SHORTS(STORED_MAX_OF(hi, lo), out, ((n * OH + oy) * OW + ox) * C + c);
    }
}

__kernel void pool2d_stored(__global const storage_t *restrict in, __global storage_t *restrict out,
                            const int H, const int W, const int C, const int OH, const int OW)
{
    const int ox0 = (int)get_global_id(0) * OPX;
    const int noy = (int)get_global_id(1);
    if (ox0 >= OW) {
        return;
    }
    const int n = noy / OH;
    const int oy = noy - n * OH;
    const int y0 = oy * SH - PAD_T;
    const int x0 = ox0 * SW - PAD_L;
    if (y0 >= 0 && y0 + EH <= H && x0 >= 0 && x0 + (OPX - 1) * SW + EW <= W && ox0 + OPX <= OW) {
        const int base = ((n * H + y0) * W + x0) * C;
        const int o = ((n * OH + oy) * OW + ox0) * C;
        for (int c = 0; c < C; c += CHUNK * VEC) {
            pool_interior_stored(in, out, W, C, o, base, c);
        }
        return;
    }
    const int ox1 = min(ox0 + OPX, OW);
    for (int c = 0; c < C; c += VEC) {
        for (int ox = ox0; ox < ox1; ++ox) {
            pool_any_stored(in, out, H, W, C, OH, OW, n, oy, ox, c);
        }
    }
}
