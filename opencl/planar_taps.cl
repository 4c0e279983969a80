/*
 * clpool: the window loops of the channels-first kernels (pool_planar.cl, pool_planar_indices.cl),
 * which the host puts between common.cl and either file (KernelSources.BASES): the tap ranges of a
 * window inside the input, the rows of an output's window, the row loop's vector tap loads (stride
 * 1, 2, 4 or gathered) and masked loads at a row's ends, and one output row of windowed max, avg or
 * lp (pool_row). The layouts, macros and semantics are pool_planar.cl's (its header says them).
 */
#define ED ((KD - 1) * DD + 1)
#define EH ((KH - 1) * DH + 1)
#define EW ((KW - 1) * DW + 1)

#if defined(MODE_LP) && VEC != 1 && !(defined(LP_SQUARE) && ACC_DOUBLE)
#error "lp runs with VEC == 1 unless LP_SQUARE with ACC_DOUBLE"
#endif
#if !ROWLOOP && VEC != 1
#error "ROWLOOP 0 runs with VEC == 1"
#endif
#if !defined(MODE_MAX) && !defined(MODE_AVG) && !defined(MODE_LP)
#error "define one of MODE_MAX, MODE_AVG, MODE_LP"
#endif

/* The taps [TAP_FIRST, TAP_END) of a window starting at s that lie inside an axis of n elements.
   Every window covers at least one input element (checked on the host), so s <= n - 1. */
#define TAP_FIRST(s, d) ((s) >= 0 ? 0 : (-(s) + (d) - 1) / (d))
#define TAP_END(s, k, d, n) min((k), ((n) - 1 - (s)) / (d) + 1)

/* Full unrolling of the loops over the window that have compile-time bounds (the columns always;
   depth and rows where the window lies inside the input there), as pool2d_nhwc.cl unrolls its
   interior: PoCL's compiler left them as loops (a counter, a compare and a branch per tap, and a
   multiply per row). Windows of more than 256 taps stay loops, as pool2d_nhwc.cl's. */
#if KD * KH * KW <= 256
#define UNROLL _Pragma("unroll")
#else
#define UNROLL
#endif

/* The taps j in [j0, j1) of an axis of K taps, as a loop with the compile-time bound K (so that
   UNROLL can always unroll it, with no warning where j0 and j1 are not constants) and a test that
   folds away where they are (0 and K). */
#define TAPS_IN(j, j0, j1, K) for (int j = 0; j < (K); ++j) if ((j) >= (j0) && (j) < (j1))

/* m = max(m, v) for one element, under the rule of common.cl's MAX_UPDATE. */
#define MAX_UPDATE1(m, v) ((m) = (!((v) <= (m)) && (m) == (m)) ? (v) : (m))

/* The part of a window shared by every output of one row: the plane's first element, the depth
   and row origins of the window and their taps inside the input. */
typedef struct {
    int base;
    int z0, jz0, jz1;
    int y0, jy0, jy1;
} row_window;

/* Element offset of tap (jz, jy) of the window's rows, at column x. */
#define ROW_AT(r, jz, jy, H, W, x) ((r).base + (((r).z0 + (jz) * DD) * (H) + (r).y0 + (jy) * DH) * (W) + (x))

/* The window rows of output row oy of depth row pz (plane * OD + oz). */
inline row_window window_of(const int D, const int H, const int W, const int OD, const int pz, const int oy)
{
    const int plane = pz / OD;
    row_window r;
    r.base = plane * D * H * W;
    r.z0 = (pz - plane * OD) * SD - PAD_F;
    r.jz0 = TAP_FIRST(r.z0, DD);
    r.jz1 = TAP_END(r.z0, KD, DD, D);
    r.y0 = oy * SH - PAD_T;
    r.jy0 = TAP_FIRST(r.y0, DH);
    r.jy1 = TAP_END(r.y0, KH, DH, H);
    return r;
}

/* Element x of the input row starting at `row`, or `none` where x lies outside the row: a
   clamped load and a select, no branch. */
inline float col_tap(__global const storage_t *restrict in, const int row, const int x, const int W,
                     const float none)
{
    const int inside = x >= 0 && x < W;
    const float v = LOAD1(in, row + (inside ? x : 0));
    return inside ? v : none;
}

/* The taps [jz0, jz1) x [jy0, jy1) x [0, KW) of the output whose window starts at column x0,
   written at out[o]; a column tap outside the row is -INFINITY (max: no update, as MAX_UPDATE1
   never takes it) or +0 (avg: the sum starts at +0 and is never -0, so adding +0 changes no bit),
   so the taps inside go in scan order (depth, row, column) and give the bits of a loop over them
   alone, with the columns unrolled (such a loop's bounds depend on the output: PoCL ran the outputs
   at the row ends, one or two a row, at about the cost of all the row's vectors). */
inline __attribute__((always_inline)) void one_window(__global const storage_t *restrict in, __global storage_t *restrict out,
                       const int D, const int H, const int W, const row_window r, const int x0, const int o,
                       const int jz0, const int jz1, const int jy0, const int jy1)
{
#if defined(MODE_MAX)
    float m = -INFINITY;
    UNROLL
    TAPS_IN(jz, jz0, jz1, KD) {
        UNROLL
        TAPS_IN(jy, jy0, jy1, KH) {
            const int row = ROW_AT(r, jz, jy, H, W, 0);
            UNROLL
            for (int jx = 0; jx < KW; ++jx) {
                const float v = col_tap(in, row, x0 + jx * DW, W, -INFINITY);
                MAX_UPDATE1(m, v);
            }
        }
    }
    STORE1(m, out, o);
#else /* MODE_AVG */
    ACC1_INIT(sum);
    UNROLL
    TAPS_IN(jz, jz0, jz1, KD) {
        UNROLL
        TAPS_IN(jy, jy0, jy1, KH) {
            const int row = ROW_AT(r, jz, jy, H, W, 0);
            UNROLL
            for (int jx = 0; jx < KW; ++jx) {
                ACC1_ADD(sum, (acc1)col_tap(in, row, x0 + jx * DW, W, 0.0f));
            }
        }
    }
    /* A product of three axis factors, formed in the accumulator: it can exceed 2^31. */
#if COUNT_INCLUDE_PAD
    const acc1 div = (acc1)TAPS_BEFORE(r.z0, KD, DD, D + PAD_K) * (acc1)TAPS_BEFORE(r.y0, KH, DH, H + PAD_B)
                     * (acc1)TAPS_BEFORE(x0, KW, DW, W + PAD_R);
#else
    const acc1 div = (acc1)(jz1 - jz0) * (acc1)(jy1 - jy0) * (acc1)(TAP_END(x0, KW, DW, W) - TAP_FIRST(x0, DW));
#endif
    STORE1((float)(ACC1_TOTAL(sum) / div), out, o);
#endif
}

/* One output, column ox of the row, written at out[o]: any window position. */
inline __attribute__((always_inline)) void pool_one(__global const storage_t *restrict in, __global storage_t *restrict out,
                     const int D, const int H, const int W, const row_window r, const int ox, const int o)
{
    const int x0 = ox * SW - PAD_L;
#if defined(MODE_MAX) || defined(MODE_AVG)
    if (r.jz0 == 0 && r.jz1 == KD && r.jy0 == 0 && r.jy1 == KH) {
        one_window(in, out, D, H, W, r, x0, o, 0, KD, 0, KH);
    } else {
        one_window(in, out, D, H, W, r, x0, o, r.jz0, r.jz1, r.jy0, r.jy1);
    }
#elif defined(LP_DIRECT) && ACC_DOUBLE
    /* (sum |x|^p)^(1/p) for p <= 4, the powers summed unscaled in double (as pool2d_nhwc.cl). */
    const int jx0 = TAP_FIRST(x0, DW);
    const int jx1 = TAP_END(x0, KW, DW, W);
    acc1 sum = 0;
    for (int jz = r.jz0; jz < r.jz1; ++jz) {
        for (int jy = r.jy0; jy < r.jy1; ++jy) {
            const int row = ROW_AT(r, jz, jy, H, W, x0);
            for (int jx = jx0; jx < jx1; ++jx) {
                sum += LP_TERM((acc1)fabs(LOAD1(in, row + jx * DW)));
            }
        }
    }
    const float res = (float)LP_ROOT(sum);
    STORE1(isnan(res) ? NAN : res, out, o);
#else /* MODE_LP */
    /* (sum |x|^p)^(1/p), scaled by the largest |x| (as pool2d_nhwc.cl). */
    const int jx0 = TAP_FIRST(x0, DW);
    const int jx1 = TAP_END(x0, KW, DW, W);
    float amax = 0.0f;
    int nan = 0;
    for (int jz = r.jz0; jz < r.jz1; ++jz) {
        for (int jy = r.jy0; jy < r.jy1; ++jy) {
            const int row = ROW_AT(r, jz, jy, H, W, x0);
            for (int jx = jx0; jx < jx1; ++jx) {
                const float a = fabs(LOAD1(in, row + jx * DW));
                nan |= isnan(a);
                amax = fmax(amax, a);
            }
        }
    }
    float res;
    if (nan) {
        res = NAN;
    } else if (amax == 0.0f || isinf(amax)) {
        res = amax;
    } else {
        const acc1 scale = (acc1)amax;
        acc1 sum = 0;
        for (int jz = r.jz0; jz < r.jz1; ++jz) {
            for (int jy = r.jy0; jy < r.jy1; ++jy) {
                const int row = ROW_AT(r, jz, jy, H, W, x0);
                for (int jx = jx0; jx < jx1; ++jx) {
                    sum += pow((acc1)fabs(LOAD1(in, row + jx * DW)) / scale, (acc1)(LP_P));
                }
            }
        }
        res = (float)(scale * pow(sum, (acc1)1 / (acc1)(LP_P)));
    }
    STORE1(res, out, o);
#endif
}

#if ROWLOOP && VEC > 1
/* Input columns from a vector's first window start to one past its last read. Stride 2 reads two
   whole vectors per tap (one element past the last tap), stride 4 (VEC 8) four (three past). */
#if SW == 2 || (SW == 4 && VEC == 8)
#define XREACH (EW - 1 + SW * VEC)
#else
#define XREACH ((VEC - 1) * SW + EW)
#endif

/* Tap elements at off, off + SW, ..., off + (VEC-1)*SW. */
inline floatv load_taps(__global const storage_t *restrict in, const int off)
{
#if SW == 1
    return LOADU(in, off);
#elif SW == 2
    const floatv a = LOADU(in, off);
    const floatv b = LOADU(in, off + VEC);
    return (floatv)(a.even, b.even);
#elif SW == 4 && VEC == 8
    /* Every fourth element of four vectors (1-D audio layers pool by 4): four loads, not eight. */
    const floatv a = LOADU(in, off);
    const floatv b = LOADU(in, off + VEC);
    const floatv c = LOADU(in, off + 2 * VEC);
    const floatv d = LOADU(in, off + 3 * VEC);
    return (floatv)(a.s04, b.s04, c.s04, d.s04);
#else
    union {
        floatv v;
        float e[VEC];
    } t;
    for (int i = 0; i < VEC; ++i) {
        t.e[i] = LOAD1(in, off + i * SW);
    }
    return t.v;
#endif
}

#if defined(MODE_MAX) && KW == 4 && SW == 4 && DW == 1 && VEC == 8
#define QUAD_ROWS 1
/* The maxima of the 8 windows of 4 at off .. off + 31 (lane i: elements 4i .. 4i+3) under
   MAX_UPDATE's rule, as ((t0 t1)(t2 t3)): each pass takes the even and odd lanes of two vectors
   and updates the first with the second (the earlier element with the later one). */
inline floatv quad_max(__global const storage_t *restrict in, const int off)
{
    const float16 ab = (float16)(LOADU(in, off), LOADU(in, off + VEC));
    const float16 cd = (float16)(LOADU(in, off + 2 * VEC), LOADU(in, off + 3 * VEC));
    floatv p = ab.even, q = cd.even;
    MAX_UPDATE(p, ab.odd);
    MAX_UPDATE(q, cd.odd);
    const float16 pq = (float16)(p, q);
    floatv m = pq.even;
    MAX_UPDATE(m, pq.odd);
    return m;
}
#else
#define QUAD_ROWS 0
#endif

/* Tap elements at off + lane * SW (load_taps) where the lanes' columns xs (relative to the row)
   lie in [0, W), `none` elsewhere: the taps of a vector whose windows leave the row, read from
   the neighbouring rows' memory (the caller checks that it is inside the buffer) and masked. */
inline floatv masked_taps(__global const storage_t *restrict in, const int off, const intv xs, const int W,
                          const float none)
{
    return select((floatv)(none), load_taps(in, off), (xs >= (intv)(0)) & (xs < (intv)(W)));
}

/* VEC outputs of the row whose windows start at column x0, written at out[o ..], over the taps
   [jz0, jz1) x [jy0, jy1) x [0, KW): the taps in the same order as pool_one. Without EDGE every
   column tap lies inside the row (x0 >= 0, the last read before column W); with EDGE (a constant
   after inlining) windows may leave the row on either side: a column tap outside it is -INFINITY
   for max (never taken, as in one_window) and +0 for avg (changes no bit of the sum), and avg's
   divisor is counted lane by lane, so every output is one_window's (max bit for bit). */
inline __attribute__((always_inline)) void vec_window(
        __global const storage_t *restrict in, __global storage_t *restrict out, const int D, const int H,
        const int W, const row_window r, const int x0, const int o, const int jz0, const int jz1, const int jy0,
        const int jy1, const int EDGE)
{
    const intv xs = (intv)(x0) + LANE_INDEX * (intv)(SW);
#if defined(MODE_MAX)
#define TAPS(off, jx) (EDGE ? masked_taps(in, (off), xs + (intv)((jx) * DW), W, -INFINITY) : load_taps(in, (off)))
    /* Each row's maximum, then the rows' in order: the scan order regrouped (the rule is
       associative, so the same bits), with independent chains of dependent updates. */
    floatv m = (floatv)(-INFINITY);
    UNROLL
    TAPS_IN(jz, jz0, jz1, KD) {
        UNROLL
        TAPS_IN(jy, jy0, jy1, KH) {
            const int row = ROW_AT(r, jz, jy, H, W, x0);
#if QUAD_ROWS
            /* Windows of 4 at stride 4 (M5's 1-D max): the 8 windows are 32 consecutive elements,
               read once (four loads, not four a tap) and paired twice, neighbours by neighbours:
               (t0 t1)(t2 t3), the scan order regrouped (the same bits). */
            if (!EDGE) {
                MAX_UPDATE(m, quad_max(in, row));
                continue;
            }
#endif
            floatv rm = TAPS(row, 0);
            UNROLL
            for (int jx = 1; jx < KW; ++jx) {
                const floatv v = TAPS(row + jx * DW, jx);
                MAX_UPDATE(rm, v);
            }
            MAX_UPDATE(m, rm);
        }
    }
    STOREU(m, out, o);
#elif defined(MODE_LP)
#define TAPS(off, jx) (EDGE ? masked_taps(in, (off), xs + (intv)((jx) * DW), W, 0.0f) : load_taps(in, (off)))
    /* p = 2 (LP_SQUARE, ACC_DOUBLE): pool_one's one chain of double sums lane by lane, in its
       order (a masked tap adds +0 to a sum that is never -0: no bit changes), x*x and a correctly
       rounded sqrt, so every output is pool_one's bit for bit. (Other p stay one output at a time:
       PoCL 3.1's double8 pow returned wrong values, off by 8x, in PlanarPoolDeviceIT.) */
    accv sum = (accv)(0);
    UNROLL
    TAPS_IN(jz, jz0, jz1, KD) {
        UNROLL
        TAPS_IN(jy, jy0, jy1, KH) {
            const int row = ROW_AT(r, jz, jy, H, W, x0);
            UNROLL
            for (int jx = 0; jx < KW; ++jx) {
                const accv a = TO_ACC(fabs(TAPS(row + jx * DW, jx)));
                sum += a * a;
            }
        }
    }
    const floatv res = TO_FLOAT(sqrt(sum));
    STOREU(select(res, (floatv)(NAN), isnan(res)), out, o);
#else /* MODE_AVG */
#define TAPS(off, jx) (EDGE ? masked_taps(in, (off), xs + (intv)((jx) * DW), W, 0.0f) : load_taps(in, (off)))
    ACC_INIT(sum);
    UNROLL
    TAPS_IN(jz, jz0, jz1, KD) {
        UNROLL
        TAPS_IN(jy, jy0, jy1, KH) {
            const int row = ROW_AT(r, jz, jy, H, W, x0);
#if ACC_DOUBLE
            /* Each row's sum, then the rows': independent chains of additions (in double, the
               order does not matter to float results within the tolerance). */
            accv rs = TO_ACC(TAPS(row, 0));
            UNROLL
            for (int jx = 1; jx < KW; ++jx) {
                rs += TO_ACC(TAPS(row + jx * DW, jx));
            }
            sum += rs;
#else
            UNROLL
            for (int jx = 0; jx < KW; ++jx) {
                ACC_ADD(sum, TO_ACC(TAPS(row + jx * DW, jx)));
            }
#endif
        }
    }
    /* The column factor: KW where every column tap is an input element, else per lane. */
#if COUNT_INCLUDE_PAD
    const intv cols = EDGE ? min((intv)(KW), ((intv)(W + PAD_R + DW - 1) - xs) / (intv)(DW)) : (intv)(KW);
    const accv div = (accv)(TAPS_BEFORE(r.z0, KD, DD, D + PAD_K)) * (accv)(TAPS_BEFORE(r.y0, KH, DH, H + PAD_B))
                     * TO_ACC(CAT(convert_float, VEC)(cols));
#else
    const intv first = select((intv)(0), ((intv)(DW - 1) - xs) / (intv)(DW), xs < (intv)(0));
    const intv cols = EDGE ? min((intv)(KW), ((intv)(W - 1) - xs) / (intv)(DW) + (intv)(1)) - first : (intv)(KW);
    const accv div = (accv)(jz1 - jz0) * (accv)(jy1 - jy0) * TO_ACC(CAT(convert_float, VEC)(cols));
#endif
    STOREU(TO_FLOAT(ACC_TOTAL(sum) / div), out, o);
#endif
#undef TAPS
}

/* vec_window over the row's taps: a window wholly inside the input in depth and rows (nearly
   every one) with compile-time bounds, so that its loops unroll. */
inline __attribute__((always_inline)) void pool_vec(
        __global const storage_t *restrict in, __global storage_t *restrict out, const int D, const int H,
        const int W, const row_window r, const int x0, const int o, const int EDGE)
{
    if (r.jz0 == 0 && r.jz1 == KD && r.jy0 == 0 && r.jy1 == KH) {
        vec_window(in, out, D, H, W, r, x0, o, 0, KD, 0, KH, EDGE);
    } else {
        vec_window(in, out, D, H, W, r, x0, o, r.jz0, r.jz1, r.jy0, r.jy1, EDGE);
    }
}
#endif

#if ROWLOOP
/* Output row oy of depth row pz (plane * OD + oz): the row loop's work. */
inline __attribute__((always_inline)) void pool_row(
        __global const storage_t *restrict in, __global storage_t *restrict out, const int D, const int H,
        const int W, const int OD, const int OH, const int OW, const int inEnd, const int pz, const int oy)
{
    row_window r = window_of(D, H, W, OD, pz, oy);
    const int orow = (pz * OH + oy) * OW;
    int ox = 0;
#if VEC > 1
    /* Where every read of the row's vectors, from the first window row's column -PAD_L to the
       last vector's reach in the last window row, lies inside the buffer (all rows but a few at
       the ends of the launch's planes), vectors cover the whole row: [0, VEC), [VEC, 2 VEC), ...
       and [OW - VEC, OW) (overlapping the one before: it recomputes the same bits), those whose
       windows leave the row masked (EDGE). Otherwise the outputs at the row's ends go one at a time. */
    const long lo = (long)ROW_AT(r, r.jz0, r.jy0, H, W, 0) - PAD_L;
    const long hi = (long)ROW_AT(r, r.jz1 - 1, r.jy1 - 1, H, W, 0) + (long)(OW - VEC) * SW - PAD_L + XREACH;
    if (OW >= VEC && lo >= 0 && hi <= inEnd) {
        for (;; ox += VEC) {
            ox = min(ox, OW - VEC);
            const int x0 = ox * SW - PAD_L;
            if (x0 >= 0 && x0 + (VEC - 1) * SW + EW <= W) {
                pool_vec(in, out, D, H, W, r, x0, orow + ox, 0);
            } else {
                pool_vec(in, out, D, H, W, r, x0, orow + ox, 1);
            }
            if (ox == OW - VEC) {
                return;
            }
        }
    }
    /* Outputs [oxL, oxV + VEC) take the vector path (the last vector may overlap the one before:
       it recomputes the same bits); the others, one at a time. */
    const int oxL = min(OW, (PAD_L + SW - 1) / SW);
    const int reach = W + PAD_L - XREACH;
    const int oxV = reach >= 0 ? min(reach / SW, OW - VEC) : -1;
    for (; ox < oxL; ++ox) {
        pool_one(in, out, D, H, W, r, ox, orow + ox);
    }
    if (oxV >= oxL) {
        for (; ox < oxV; ox += VEC) {
            pool_vec(in, out, D, H, W, r, ox * SW - PAD_L, orow + ox, 0);
        }
        pool_vec(in, out, D, H, W, r, oxV * SW - PAD_L, orow + oxV, 0);
        ox = oxV + VEC;
    }
#endif
    for (; ox < OW; ++ox) {
        pool_one(in, out, D, H, W, r, ox, orow + ox);
    }
}
#endif
