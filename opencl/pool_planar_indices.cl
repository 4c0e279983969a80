/*
 * clpool: max with indices of one-channel planes (pool_planar_indices) and the argmax pass of max
 * backward at C = 1 (pool_planar_argmax). The host builds this file on top of common.cl and
 * planar_taps.cl (KernelSources#program), whose row loop, tap loads and masks it shares with
 * pool_planar.cl, with pool_planar.cl's macros and one of the two below.
 *
 * The kernel of max with indices where the tensor is (N, H, W, 1): the channels-first view
 * (N*C planes of one channel) that the host lowers channels-first indices to, which
 * pool2d_indices_nhwc.cl would run one lane per work item. Row loop as pool_planar (ROWLOOP 1,
 * VEC > 1, rank 2: KD = 1), and the rules of pool2d_indices_nhwc.cl: per output the running
 * maximum (MAX_UPDATE) and the position y*W + x it came from, which follows exactly when the
 * maximum's bits change; the position starts at the window's first tap inside the input. So the
 * values equal pool2d's and the indices the CPU path's, bit for bit.
 *
 * Extra macro: INDEX_CONVENTION, 0 to 3 as in pool2d_indices_nhwc.cl. NHWC (0) takes the planes
 * as the channels of the tensor they came from: plane q is channel c = q % C of C, and its
 * position p becomes p*C + c, the channels-first tensor's nhwc index, written directly (C = 1:
 * one-channel planes, the index is the position, as PyTorch's).
 * Kernel arguments: in, out, idx, H, W, OH, OW, rows (= planes * OH), N0 (the first plane's index
 * in the whole tensor: the ONNX conventions and NHWC's channel), C (NHWC's channel count; 1 else),
 * inEnd (the input elements in the buffer, as pool_planar's).
 * Global range (rows rounded up to the work group).
 *
 * With ARGMAX_TAPS instead (and no INDEX_CONVENTION) the same scan is backward_nhwc.cl's
 * pool2d_argmax for one channel, the argmax pass of max backward at C = 1: pool_planar_argmax
 * writes each output's tap jy*KW + jx as an int (the tap where the maximum's bits last changed,
 * starting at the first tap inside the input, as pool2d_argmax's ARGMAX_UPDATE) and no values.
 * Kernel arguments: in, arg, H, W, OH, OW, rows (= planes * OH), inEnd.
 */

#if !defined(INDEX_CONVENTION) && !defined(ARGMAX_TAPS)
#error "define INDEX_CONVENTION (pool_planar_indices) or ARGMAX_TAPS (pool_planar_argmax)"
#endif
#if !defined(MODE_MAX) || !ROWLOOP || VEC == 1 || KD != 1
#error "pool_planar_indices runs max, ROWLOOP 1, VEC > 1, rank 2"
#endif
#if defined(INDEX_CONVENTION) && defined(ARGMAX_TAPS)
#error "define INDEX_CONVENTION or ARGMAX_TAPS, not both"
#endif

#define AS_INTV_(x) CAT(as_int, VEC)(x)

#if defined(ARGMAX_TAPS)
typedef int index_t;
/* What an output records where its maximum's bits change, for tap (jy, jx) at row y, column x:
   the tap (scalar; VEC lanes from column xs on); no values are written. */
#define FOUND(y, x, jy, jx, W) ((jy) * KW + (jx))
#define FOUND_VEC(y, jy, jx, xs, W) ((intv)((jy) * KW + (jx)))
#define FOUND_LANES(y, jy, jxv, xs, W) ((intv)((jy) * KW) + (jxv))
#define STORE_VALUE(v, p, off)
#define STORE_VALUES(v, p, off)
#else
typedef long index_t;
/* ... the position y*W + x, turned into the convention's index when stored. */
#define FOUND(y, x, jy, jx, W) ((y) * (W) + (x))
#define FOUND_VEC(y, jy, jx, xs, W) ((intv)((y) * (W) + (jx) * DW) + (xs))
/* ... with a column tap jxv per lane */
#define FOUND_LANES(y, jy, jxv, xs, W) ((intv)((y) * (W)) + (jxv) * (intv)(DW) + (xs))
#define STORE_VALUE(v, p, off) STORE1(v, p, off)
#define STORE_VALUES(v, p, off) STOREU(v, p, off)
typedef CAT(long, VEC) longv;
typedef struct __attribute__((packed)) { longv v; } longv_u;

/* The index of position p = y*W + x of plane `plane` (of the whole tensor, whose planes are C
   channels) in the convention. */
inline long plane_index(const int p, const long plane, const int H, const int W, const int C)
{
#if INDEX_CONVENTION == 0
    return (long)p * (long)C + plane % C;
#elif INDEX_CONVENTION == 1
    return (long)p;
#elif INDEX_CONVENTION == 2
    return plane * ((long)H * (long)W) + (long)p;
#elif INDEX_CONVENTION == 3
    const int py = p / W;
    return (plane * (long)W + (long)(p - py * W)) * (long)H + (long)py;
#else
#error "INDEX_CONVENTION must be 0, 1, 2 or 3"
#endif
}

/* The lanes' positions pos at idx[o ..] as the convention's indices. Where the index is the
   position times a factor plus an offset (nhwc, pytorch, onnx), one long vector and one store
   instead of VEC scalar multiplies and stores; onnx-column-major, which divides, lane by lane.
   The same values as plane_index. */
inline __attribute__((always_inline)) void store_indices(const intv pos, __global long *restrict idx, const int o,
                                                         const long plane, const int H, const int W, const int C)
{
#if INDEX_CONVENTION == 3
    intv_lanes p;
    p.v = pos;
    for (int i = 0; i < VEC; ++i) {
        idx[o + i] = plane_index(p.e[i], plane, H, W, C);
    }
#else
    const longv l = CAT(convert_long, VEC)(pos);
#if INDEX_CONVENTION == 0
    const longv v = l * (longv)((long)C) + (longv)(plane % C);
#elif INDEX_CONVENTION == 1
    const longv v = l;
#else
    const longv v = l + (longv)(plane * ((long)H * (long)W));
#endif
    ((__global longv_u *)(idx + o))->v = v;
#endif
}
#endif

/* One output, column ox of the row, at any window position: value at out[o], index at idx[o]. */
inline void index_one(__global const storage_t *restrict in, __global storage_t *restrict out,
                      __global index_t *restrict idx, const int H, const int W, const row_window r,
                      const int ox, const int o, const long plane, const int C)
{
    const int x0 = ox * SW - PAD_L;
    const int jx0 = TAP_FIRST(x0, DW);
    const int jx1 = TAP_END(x0, KW, DW, W);
    float m = -INFINITY;
    int pos = FOUND(r.y0 + r.jy0 * DH, x0 + jx0 * DW, r.jy0, jx0, W);
    for (int jy = r.jy0; jy < r.jy1; ++jy) {
        const int y = r.y0 + jy * DH;
        for (int jx = jx0; jx < jx1; ++jx) {
            const int x = x0 + jx * DW;
            const float v = LOAD1(in, r.base + y * W + x);
            const float before = m;
            MAX_UPDATE1(m, v);
            pos = as_int(m) != as_int(before) ? FOUND(y, x, jy, jx, W) : pos;
        }
    }
    STORE_VALUE(m, out, o);
#if defined(ARGMAX_TAPS)
    idx[o] = pos;
#else
    idx[o] = plane_index(pos, plane, H, W, C);
#endif
}

/* VEC outputs whose windows start at column x0, at out[o ..], over the window rows [jy0, jy1).
   Without EDGE every column tap lies inside the row (x0 >= 0, the last read before column W);
   with EDGE (a constant after inlining) windows may leave the row: a column tap outside it is
   -INFINITY, which MAX_UPDATE never takes, and each lane's position starts at its first column
   tap inside the row, as index_one's: the same values and positions. */
inline __attribute__((always_inline)) void index_vec(
        __global const storage_t *restrict in, __global storage_t *restrict out, __global index_t *restrict idx,
        const int H, const int W, const row_window r, const int x0, const int o, const long plane, const int C,
        const int jy0, const int jy1, const int EDGE)
{
    const intv xs = (intv)(x0) + LANE_INDEX * SW;
    floatv m = (floatv)(-INFINITY);
    intv pos;
    if (EDGE) {
        const intv jx0 = select((intv)(0), ((intv)(DW - 1) - xs) / (intv)(DW), xs < (intv)(0));
        pos = FOUND_LANES(r.y0 + jy0 * DH, jy0, jx0, xs, W);
    } else {
        pos = FOUND_VEC(r.y0 + jy0 * DH, jy0, 0, xs, W);
    }
    UNROLL
    TAPS_IN(jy, jy0, jy1, KH) {
        const int y = r.y0 + jy * DH;
        const int row = r.base + y * W + x0;
        UNROLL
        for (int jx = 0; jx < KW; ++jx) {
            const floatv v = EDGE ? masked_taps(in, row + jx * DW, xs + (intv)(jx * DW), W, -INFINITY)
                                  : load_taps(in, row + jx * DW);
            /* MAX_UPDATE's mask: the position follows the maximum's choice. */
            const intv take = MAX_TAKES(m, v);
            m = select(m, v, take);
            pos = select(pos, FOUND_VEC(y, jy, jx, xs, W), take);
        }
    }
    STORE_VALUES(m, out, o);
#if defined(ARGMAX_TAPS)
    ((__global intv_u *)(idx + o))->v = pos;
#else
    store_indices(pos, idx, o, plane, H, W, C);
#endif
}

/* index_vec over the row's window rows: compile-time bounds where all lie inside the input. */
inline __attribute__((always_inline)) void index_pvec(
        __global const storage_t *restrict in, __global storage_t *restrict out, __global index_t *restrict idx,
        const int H, const int W, const row_window r, const int x0, const int o, const long plane, const int C,
        const int EDGE)
{
    if (r.jy0 == 0 && r.jy1 == KH) {
        index_vec(in, out, idx, H, W, r, x0, o, plane, C, 0, KH, EDGE);
    } else {
        index_vec(in, out, idx, H, W, r, x0, o, plane, C, r.jy0, r.jy1, EDGE);
    }
}

/* Output row `row` (= p * OH + oy) of plane p, `plane` in the whole tensor; the launch's input
   buffer holds inEnd elements. */
inline void index_row(__global const storage_t *restrict in, __global storage_t *restrict out,
                      __global index_t *restrict idx, const int H, const int W, const int OH, const int OW,
                      const int row, const int p, const long plane, const int C, const int inEnd)
{
    const int oy = row - p * OH;
    row_window r;
    r.base = p * H * W;
    r.z0 = 0;
    r.jz0 = 0;
    r.jz1 = 1;
    r.y0 = oy * SH - PAD_T;
    r.jy0 = TAP_FIRST(r.y0, DH);
    r.jy1 = TAP_END(r.y0, KH, DH, H);
    const int orow = row * OW;

    /* The outputs as pool_planar splits them: vectors over the whole row, masked where windows
       leave it, where its neighbourhood lies inside the buffer; else the vectors
       [oxL, oxV + VEC) and the rest one at a time. */
    int ox = 0;
    const long lo = (long)ROW_AT(r, 0, r.jy0, H, W, 0) - PAD_L;
    const long hi = (long)ROW_AT(r, 0, r.jy1 - 1, H, W, 0) + (long)(OW - VEC) * SW - PAD_L + XREACH;
    if (OW >= VEC && lo >= 0 && hi <= inEnd) {
        for (;; ox += VEC) {
            ox = min(ox, OW - VEC);
            const int x0 = ox * SW - PAD_L;
            if (x0 >= 0 && x0 + (VEC - 1) * SW + EW <= W) {
                index_pvec(in, out, idx, H, W, r, x0, orow + ox, plane, C, 0);
            } else {
                index_pvec(in, out, idx, H, W, r, x0, orow + ox, plane, C, 1);
            }
            if (ox == OW - VEC) {
                return;
            }
        }
    }
    const int oxL = min(OW, (PAD_L + SW - 1) / SW);
    const int reach = W + PAD_L - XREACH;
    const int oxV = reach >= 0 ? min(reach / SW, OW - VEC) : -1;
    for (; ox < oxL; ++ox) {
        index_one(in, out, idx, H, W, r, ox, orow + ox, plane, C);
    }
    if (oxV >= oxL) {
        for (; ox < oxV; ox += VEC) {
            index_pvec(in, out, idx, H, W, r, ox * SW - PAD_L, orow + ox, plane, C, 0);
        }
        index_pvec(in, out, idx, H, W, r, oxV * SW - PAD_L, orow + oxV, plane, C, 0);
        ox = oxV + VEC;
    }
    for (; ox < OW; ++ox) {
        index_one(in, out, idx, H, W, r, ox, orow + ox, plane, C);
    }
}

#if defined(ARGMAX_TAPS)
__kernel void pool_planar_argmax(__global const storage_t *restrict in, __global int *restrict arg,
                                 const int H, const int W, const int OH, const int OW, const int rows,
                                 const int inEnd)
{
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return;
    }
    index_row(in, (__global storage_t *)0, arg, H, W, OH, OW, row, row / OH, 0, 1, inEnd);
}
#else
__kernel void pool_planar_indices(__global const storage_t *restrict in, __global storage_t *restrict out,
                                  __global long *restrict idx, const int H, const int W, const int OH,
                                  const int OW, const int rows, const int N0, const int C, const int inEnd)
{
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return;
    }
    const int p = row / OH;
    index_row(in, out, idx, H, W, OH, OW, row, p, (long)N0 + (long)p, C, inEnd);
}
#endif
