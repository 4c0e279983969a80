/*
 * clpool: max and avg backward of channels-first planes (or volumes) of spatial rank 1 to 3 whose
 * windows tile the input two columns wide, in one pass: window = stride on every axis, 2 on W,
 * dilation 1, no padding, and every input element in one window (the 3-D U-Net's 2x2x2 stride 2,
 * DenseNet's 2x2 stride 2 transitions). The CPU path's counterpart is cpu/CfPairBackward.
 *
 * With tiling windows each input element has exactly one candidate output, so a work item owns
 * whole windows: it reads an output's gradient once and writes all KD*KH*2 elements of its window,
 * where the lowering runs backward_rows per input row (and, for 3-D, two backward passes with an
 * argmax pass each, over temporaries). Max finds each window's winner with MAX_UPDATE over its taps
 * in scan order (D, then H, then W), the winner's tap being where the maximum's bits last changed,
 * starting at tap 0, as pool2d_argmax and pool_planar_argmax do: the first maximum, the first NaN,
 * -0 tying +0; for 3-D the same element as the lowering's two passes (the first maximum of the
 * slices' first maxima). The winner receives pool2d_backward's one term summed from +0 (ACC_ADD,
 * so -0 becomes +0 as there), the others +0. Avg gives every element of a window the gradient
 * divided by the window's size as pool2d_backward adds it (ADD_QUOTIENT): in 1-D and 2-D the
 * lowering's bits; in 3-D the lowering divides twice, this once (within tolerance, as the CPU
 * path's one-pass kernel).
 *
 * Layouts: ROWLOOP 1 with VEC 8 (CPU devices): one work item per output row (plane, oz, oy)
 * walking it 8 outputs at a time (16 input columns: two unaligned vector loads per input row,
 * split by parity; two interleaved stores), the last vector overlapping the one before (the same
 * bits again); the host asks OW >= 8. VEC 1 (GPUs): one work item per output over (OW, OH,
 * planes*OD), columns first.
 *
 * TILES_STREAM (avg, 2-D or 1-D, ROWLOOP, float32 storage; the host sets it where an output
 * row's KH input rows are whole 64-byte lines, KH * IW a multiple of 16 and at most STREAM_MAX,
 * and the launch writes more than the caches hold, BackwardRoutine.STREAM_BYTES): the work item's
 * KH rows, contiguous, are built in private memory and written as whole lines by non-temporal
 * stores, so the processor does not first read the lines it overwrites (a quarter less CPU on
 * DenseNet's 16x128x56x56 on PoCL). Items whose rows do not start on a line take the plain path.
 * The same quotients, so the same bits. The stores are weakly ordered: the runtime's completion of
 * the kernel (locked instructions on x86) orders them before the host or a later kernel reads.
 *
 * Required macros: KernelOptions.planar's set (MODE_MAX or MODE_AVG, KD KH KW, SD SH SW, DW, the
 * paddings), VEC 8 with ROWLOOP 1, or VEC 1.
 *
 * Kernel backward_tiles: in (max; avg: not read), gout (planes, OD, OH, OW), gin (planes, ID, IH,
 * IW), IH, IW, OD, OH, OW, rows (= planes * OD * OH). Global range: ROWLOOP, rows rounded up to the
 * work group; else (OW, OH, planes * OD) rounded up. Work items past the end return.
 */

#if KW != 2 || SW != 2 || KH != SH || KD != SD || DW != 1 || DH != 1 || DD != 1
#error "backward_tiles needs windows that tile the input, 2 wide on W"
#endif
#if PAD_L || PAD_R || PAD_T || PAD_B || PAD_F || PAD_K
#error "backward_tiles runs without padding"
#endif
#if !(ROWLOOP && VEC == 8) && VEC != 1
#error "backward_tiles runs ROWLOOP 1 with VEC 8, or VEC 1"
#endif

/* Input rows of one window: KD depth slices of KH rows, their loops unrolled (PoCL leaves loops
   with compile-time bounds rolled otherwise; see pool_planar.cl). */
#define TILE_ROWS (KD * KH)
#if TILE_ROWS <= 128
#define TILE_UNROLL _Pragma("unroll")
#else
#define TILE_UNROLL
#endif

#if defined(MODE_MAX)
/* The gradient the winner receives: pool2d_backward's sum of its one term. */
inline floatv winner_grad(const floatv g)
{
    ACC_INIT(s);
    ACC_ADD(s, TO_ACC(g));
    return TO_FLOAT(ACC_TOTAL(s));
}
#else
/* The gradient each element of a window receives: pool2d_backward's quotient, summed from +0. */
inline floatv window_share(const floatv g)
{
    const accv div = (accv)((KD * KH * KW));
    ACC_INIT(s);
#if ACC_DOUBLE
    ACC_ADD(s, TO_ACC(g) / div);
#else
    const floatv q = g / div;
    ACC_ADD(s, q);
    s_comp += fma(-q, div, g) / div;
#endif
    return TO_FLOAT(ACC_TOTAL(s));
}
#endif

#if VEC == 8
/* Elements x .. x+15 of an input row from base: even columns (tap 0) and odd ones (tap 1). */
#define LOAD_PAIRS(p, at, ev, od)                      \
    do {                                               \
        const floatv a_ = LOADU(p, at);                \
        const floatv b_ = LOADU(p, (at) + 8);          \
        (ev) = (floatv)(a_.even, b_.even);             \
        (od) = (floatv)(a_.odd, b_.odd);               \
    } while (0)
/* even and odd interleaved back into elements at .. at+15. */
#define STORE_PAIRS(p, at, e, o)                                                                    \
    do {                                                                                            \
        STOREU(((floatv)((e).s0, (o).s0, (e).s1, (o).s1, (e).s2, (o).s2, (e).s3, (o).s3)), p, at);       \
        STOREU(((floatv)((e).s4, (o).s4, (e).s5, (o).s5, (e).s6, (o).s6, (e).s7, (o).s7)), p, (at) + 8); \
    } while (0)
#define LOAD_GRAD(p, at) LOADU(p, at)
#define AS_INTV_(x) as_int8(x)
#else
#define LOAD_PAIRS(p, at, ev, od)        \
    do {                                 \
        (ev) = LOAD1(p, at);             \
        (od) = LOAD1(p, (at) + 1);       \
    } while (0)
#define STORE_PAIRS(p, at, e, o)         \
    do {                                 \
        STORE1(e, p, at);                \
        STORE1(o, p, (at) + 1);          \
    } while (0)
#define LOAD_GRAD(p, at) LOAD1(p, at)
#define AS_INTV_(x) as_int(x)
#endif

/* The VEC windows of outputs ox .. ox+VEC-1 of output row (slab, oy), slab = plane * OD + oz:
   their gradients in, their elements' gradients out. rowAt: input row r's first element. */
inline void tiles(__global const storage_t *restrict in, __global const storage_t *restrict gout,
                  __global storage_t *restrict gin, const int slab, const int oy, const int ox,
                  const int IH, const int IW, const int OH, const int OW)
{
    const floatv g = LOAD_GRAD(gout, (slab * OH + oy) * OW + ox);
    /* Input row r = dz * KH + dy of the windows: slice slab * KD + dz (planes are OD * KD slices
       deep, so the plane's slices follow one another), row oy * KH + dy. */
    const int first = ((slab * KD) * IH + oy * KH) * IW + 2 * ox;
#if defined(MODE_MAX)
    floatv m = (floatv)(-INFINITY);
    intv arg = (intv)(0);
    TILE_UNROLL
    for (int r = 0; r < TILE_ROWS; ++r) {
        const int at = first + ((r / KH) * IH + r % KH) * IW;
        floatv e, o;
        LOAD_PAIRS(in, at, e, o);
        floatv before = m;
        MAX_UPDATE(m, e);
        arg = select(arg, (intv)(2 * r), AS_INTV_(m) != AS_INTV_(before));
        before = m;
        MAX_UPDATE(m, o);
        arg = select(arg, (intv)(2 * r + 1), AS_INTV_(m) != AS_INTV_(before));
    }
    const floatv w = winner_grad(g);
    TILE_UNROLL
    for (int r = 0; r < TILE_ROWS; ++r) {
        const int at = first + ((r / KH) * IH + r % KH) * IW;
        const floatv e = select((floatv)(0.0f), w, arg == (intv)(2 * r));
        const floatv o = select((floatv)(0.0f), w, arg == (intv)(2 * r + 1));
        STORE_PAIRS(gin, at, e, o);
    }
#else /* MODE_AVG */
    const floatv q = window_share(g);
    TILE_UNROLL
    for (int r = 0; r < TILE_ROWS; ++r) {
        STORE_PAIRS(gin, first + ((r / KH) * IH + r % KH) * IW, q, q);
    }
#endif
}

#if TILES_STREAM
#if !defined(MODE_AVG) || KD != 1 || !ROWLOOP || VEC != 8 || STORAGE != 0
#error "TILES_STREAM is 2-D or 1-D avg in the row loop, float32 storage"
#endif
/* The most elements of a work item's KH rows (KH * IW) the stream builds in private memory. */
#define STREAM_MAX 256

/* Output row `row`'s KH input rows at d (64-byte aligned, KH * IW a multiple of 16): each row is
   every quotient twice, built in private memory (the last vector overlapping the one before), then
   stored as whole lines without reading them first. */
inline void stream_rows(__global const storage_t *restrict gout, __global storage_t *restrict d, const int row,
                        const int IW, const int OW)
{
    float16 lines[STREAM_MAX / 16];
    float *f = (float *)lines;
    for (int ox = 0; ox < OW; ox += VEC) {
        const int at = min(ox, OW - VEC);
        const floatv q = window_share(LOADU(gout, row * OW + at));
        const float16 v = (float16)(q.s0, q.s0, q.s1, q.s1, q.s2, q.s2, q.s3, q.s3,
                                    q.s4, q.s4, q.s5, q.s5, q.s6, q.s6, q.s7, q.s7);
        TILE_UNROLL
        for (int r = 0; r < KH; ++r) {
            vstore16(v, 0, f + r * IW + 2 * at);
        }
    }
    const int n = KH * IW / 16;
    for (int k = 0; k < n; ++k) {
#if defined(__clang__)
        __builtin_nontemporal_store(lines[k], (__global float16 *)(d + 16 * k));
#else
        vstore16(lines[k], 0, d + 16 * k); /* a compiler without the builtin: plain stores, the same bits */
#endif
    }
}
#endif

__kernel void backward_tiles(__global const storage_t *restrict in, __global const storage_t *restrict gout,
                             __global storage_t *restrict gin, const int IH, const int IW,
                             const int OD, const int OH, const int OW, const int rows)
{
#if ROWLOOP
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return; /* past the end: the range is rounded up to the work group */
    }
#if TILES_STREAM
    __global storage_t *d = gin + (long)row * (KH * IW); /* KD 1: (slab * IH + oy * KH) * IW */
    if (((ulong)d & 63) == 0) {
        stream_rows(gout, d, row, IW, OW);
        return;
    }
#endif
    const int slab = row / OH;
    const int oy = row - slab * OH;
    int ox = 0;
    for (; ox + VEC <= OW; ox += VEC) {
        tiles(in, gout, gin, slab, oy, ox, IH, IW, OH, OW);
    }
    if (ox < OW) { /* the last vector, overlapping the one before: the same bits */
        tiles(in, gout, gin, slab, oy, OW - VEC, IH, IW, OH, OW);
    }
#else
    const int ox = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    if (ox >= OW || oy >= OH) {
        return;
    }
    tiles(in, gout, gin, (int)get_global_id(2), oy, ox, IH, IW, OH, OW);
#endif
}
