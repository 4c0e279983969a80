/*
 * clpool: adaptive 2-D average and max of ONE-CHANNEL planes (P, H, W, 1) on CPU devices, a plane a
 * work item with the output columns in the vector lanes (issue 13, branch clcf7): the channels-first
 * heads whose planes are small, such as VGG-16's 10x10 to 7x7 average and SPP-net's 13x13 to 6x6
 * max (adaptive_planes.cl's groups put 8 planes in the lanes and transpose every element in and
 * every output out; its adaptive_plane_rows forms the regions at run time).
 *
 * The geometry is compiled in (AH, AW, AOH, AOW: one program per head shape, as a window is for
 * pool2d), so every loop unrolls, every region bound and divisor is a constant and the column taps
 * are constant shuffles. Lane i of a vector is output column i (AOW <= 8 of 8 lanes); tap k of
 * lane i is input column XS(i) + k where the region holds it (a lane past AOW is never stored).
 * Each input row is read once as 16 floats (AW <= 16).
 *
 * avg: each row's taps are formed once (two shuffles and their conversions to double); output row
 * oy adds, from +0, its region's rows in order and in each row its columns in order: adaptive2d's
 * chain, so the same bits (a tap past a narrower region adds +0 to a sum that is never -0: the
 * chain starts at +0 and an IEEE sum is -0 only when both operands are). Then the same double
 * division by the region's count. The chain starts at its first tap rather than at +0 + that tap:
 * the partial sums differ only while they are -0 (every tap so far -0), which the chain's are
 * never, so the result differs only where every tap is -0 and it is -0; adding +0.0f to the
 * quotient makes that +0 and changes no other bits (NaN payloads included).
 * max: each row's maxima by MAX_UPDATE in column order, then each output row folds its region's
 * rows in order: the scan order regrouped, the same bits (MAX_UPDATE's rule is associative).
 *
 * Output rows are stored as whole vectors, each overwriting the spare lanes of the one before, the
 * last as the vector that ends at the plane's end (AOW >= 4 and AOH >= 2, so it holds only this
 * plane's outputs). Rows whose 16-float read would pass the buffer's end (the last plane's) are
 * read element by element.
 *
 * Required macros: MODE_MAX, or MODE_AVG with ACC_DOUBLE 1; VEC 8, ROWLOOP 1; the geometry AH, AW,
 * AOH, AOW (AW <= 16, 4 <= AOW <= 8, 2 <= AOH, every column region at most 4 wide; the host checks:
 * dev.clpool.opencl.AdaptiveRoutine.planeCols).
 *
 * Kernel adaptive_plane_cols: in (P, AH, AW, 1), out (P, AOH, AOW, 1), P, inEnd (the input
 * elements). Global range P rounded up to the work group; items past P return.
 */

#if VEC != 8 || !ROWLOOP || (defined(MODE_AVG) && !ACC_DOUBLE) || (!defined(MODE_AVG) && !defined(MODE_MAX))
#error "adaptive_cols runs MODE_MAX, or MODE_AVG with ACC_DOUBLE 1; VEC 8, ROWLOOP 1"
#endif
#if AW > 16 || AOW < 4 || AOW > 8 || AOH < 2
#error "adaptive_cols needs AW <= 16, 4 <= AOW <= 8, AOH >= 2"
#endif

/* Output column i's region [XS(i), XE(i)) and row oy's [YS(oy), YE(oy)), as adaptive_nhwc.cl's
   REGION_START / REGION_END (constants here). */
#define XS(i) (((i) * AW) / AOW)
#define XE(i) ((((i) + 1) * AW + AOW - 1) / AOW)
#define YS(o) (((o) * AH) / AOH)
#define YE(o) ((((o) + 1) * AH + AOH - 1) / AOH)
/* Lane i's width (1 past AOW: a divisor that is never stored), whether tap k is in its region, and
   the shuffle index of tap k. Past the region: avg adds +0 (16: the first lane of the zero vector),
   max takes the region's first tap again (MAX_UPDATE with a value the maximum already holds keeps
   its bits: no NaN replaces a NaN, nothing replaces a maximum that is >= it). */
#define WID(i) ((i) < AOW ? XE(i) - XS(i) : 1)
#define HAS(i, k) ((i) < AOW && (k) < WID(i))
#if defined(MODE_MAX)
#define PAST(i) ((i) < AOW ? XS(i) : 16)
#else
#define PAST(i) 16
#endif
#define TAP(i, k) (HAS(i, k) ? XS(i) + (k) : PAST(i))
#define TAPS(k) TAP(0, k), TAP(1, k), TAP(2, k), TAP(3, k), TAP(4, k), TAP(5, k), TAP(6, k), TAP(7, k)
/* Whether any lane has a tap k (the widest region's width, a constant). */
#define ANY(k) (HAS(0, k) || HAS(1, k) || HAS(2, k) || HAS(3, k) || HAS(4, k) || HAS(5, k) || HAS(6, k) || HAS(7, k))
#if ANY(4)
#error "adaptive_cols takes column regions of at most 4"
#endif
/* Row oy's divisors: the region's element counts. */
#define CNT(o, i) ((double)((YE(o) - YS(o)) * WID(i)))
#define DIVS(o) ((double8)(CNT(o, 0), CNT(o, 1), CNT(o, 2), CNT(o, 3), CNT(o, 4), CNT(o, 5), CNT(o, 6), CNT(o, 7)))

/* The last output row's vector: the row before's last 8 - AOW outputs, then this row's AOW. */
#if AOW == 4
#define LAST(prev, r) ((float8)((prev).s0123, (r).s0123))
#elif AOW == 5
#define LAST(prev, r) ((float8)((prev).s234, (r).s0123, (r).s4))
#elif AOW == 6
#define LAST(prev, r) ((float8)((prev).s45, (r).s0123, (r).s45))
#elif AOW == 7
#define LAST(prev, r) ((float8)((prev).s6, (r).s0123, (r).s456))
#else
#define LAST(prev, r) (r)
#endif

__kernel void adaptive_plane_cols(__global const storage_t *restrict in, __global storage_t *restrict out,
                                  const int P, const int inEnd)
{
    const int p = (int)get_global_id(0);
    if (p >= P) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int base = p * (AH * AW);
    const float16 zero = (float16)(0.0f);
    /* The rows, read once; each row's taps are formed where the first output row uses them (the
       compiler keeps them for the next: the same expressions), so no staged copies. */
    float16 rows[AH];
    _Pragma("unroll") for (int y = 0; y < AH; ++y) {
        const int at = base + y * AW;
        if (at <= inEnd - 16) {
            rows[y] = (float16)(LOADU(in, at), LOADU(in, at + VEC));
        } else {
            union {
                float16 v;
                float e[16];
            } u;
            u.v = zero;
            for (int x = 0; x < AW; ++x) {
                u.e[x] = LOAD1(in, at + x);
            }
            rows[y] = u.v;
        }
    }
    const int o = p * (AOH * AOW);
    float8 prev = (float8)(0.0f);
#if defined(MODE_MAX)
    /* Each row's maxima, then each output row folds its region's in order: the scan order regrouped
       (MAX_UPDATE's rule is associative: the same bits, as adaptive_plane_rows). */
    float8 rm[AH];
    _Pragma("unroll") for (int y = 0; y < AH; ++y) {
        const float16 t01 = __builtin_shufflevector(rows[y], zero, TAPS(0), TAPS(1));
        float8 m = t01.lo;
#if ANY(1)
        MAX_UPDATE(m, t01.hi);
#endif
#if ANY(2)
        const float16 t23 = __builtin_shufflevector(rows[y], zero, TAPS(2), TAPS(3));
        MAX_UPDATE(m, t23.lo);
#endif
#if ANY(3)
        MAX_UPDATE(m, t23.hi);
#endif
        rm[y] = m;
    }
#endif
    _Pragma("unroll") for (int oy = 0; oy < AOH; ++oy) {
#if defined(MODE_MAX)
        float8 r = rm[YS(oy)];
        _Pragma("unroll") for (int y = YS(oy) + 1; y < YE(oy); ++y) {
            MAX_UPDATE(r, rm[y]);
        }
#else
        double8 s;
        _Pragma("unroll") for (int y = YS(oy); y < YE(oy); ++y) {
            const float16 t01 = __builtin_shufflevector(rows[y], zero, TAPS(0), TAPS(1));
            if (y == YS(oy)) {
                s = convert_double8(t01.lo);
            } else {
                s += convert_double8(t01.lo);
            }
#if ANY(1)
            s += convert_double8(t01.hi);
#endif
#if ANY(2)
            const float16 t23 = __builtin_shufflevector(rows[y], zero, TAPS(2), TAPS(3));
            s += convert_double8(t23.lo);
#endif
#if ANY(3)
            s += convert_double8(t23.hi);
#endif
        }
        const float8 r = convert_float8(s / DIVS(oy)) + 0.0f;
#endif
        if (oy < AOH - 1) {
            STOREU(r, out, o + oy * AOW);
        } else {
            STOREU(LAST(prev, r), out, o + AOH * AOW - VEC);
        }
        prev = r;
    }
}
