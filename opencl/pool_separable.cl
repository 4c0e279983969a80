/*
 * clpool: windowed 2-D max and avg pooling of NHWC tensors in two separable passes, for large
 * windows (dilation 1): the cost per output does not grow with the window.
 *
 *   PASS 1 (rows):    in (N, H, W, C) -> scratch R (N, H, OW, C): each input row reduced along W
 *                     over each output column's window.
 *   PASS 2 (columns): R -> out (N, OH, OW, C): each column of R reduced along H over each output
 *                     row's window; avg divides here.
 *
 * Both passes are one 1-D reduction along an axis of a tensor viewed as (outer, L, inner, C):
 * pass 1 with outer = N*H, L = W, inner = 1; pass 2 with outer = N, L = H, inner = OW. Along the
 * axis, the van Herk / Gil-Werman scheme: positions fall in blocks of KA (the window's extent);
 * the windows that start in a block [B, B+KA) are each a suffix of that block and a prefix of the
 * next, so one work item per block forms the suffixes right to left (kept in a private array,
 * or for very large windows in R in pass 1 and in the scratch T in pass 2), then the prefixes
 * left to right, and joins the two: about four steps per output, whatever KA is (stride SA:
 * about 2*SA + 2).
 *
 * Exactness. Max joins with MAX_UPDATE, clpool's rule (the first maximum in scan order, the first
 * NaN), which is associative: any grouping that keeps the order of the taps gives the same bits.
 * Rows then columns is pool2d's row-major scan order regrouped, and a suffix (earlier taps) joined
 * before a prefix (later taps) keeps the order too, so max is bit-identical to pool2d and the CPU
 * path, -0.0/+0.0 ties and NaN payloads included, with no rescan. Padding taps are skipped (never
 * folded), as in pool2d. Averages sum in double (ACC_DOUBLE must be 1: R and T hold doubles, so
 * nothing is rounded to float between the passes) and divide as pool2d does, by the same divisor;
 * only the grouping of the sum differs, within SEMANTICS.md's tolerance. With FLOAT_ROWS (windows
 * whose suffixes stay private on both axes) pass 1 still sums in double but stores R as floats
 * (half the scratch traffic), and pass 2 sums R in float beside rAbs, the sum of |R| over the
 * window's rows: each row sum's rounding to float errs by at most u*|R| (u = 2^-24), and each
 * float addition by at most u*|its result|, a sum of the window's R's, each R in at most KH of
 * them, so the sum is within u*(KH + 1)*rAbs. A result where that bound (times 1 + 2^-16 for
 * rAbs's own additions) exceeds 1e-6*div*max(1, |avg|), a quarter of the tolerance (the CPU
 * path's), or that is NaN or infinite, is flagged, and after the block its R's are summed again in
 * double (within u*sum|R|, certified the same way); what still fails is summed in double straight
 * from the input (`orig`), taps in scan order.
 * scan order. Blocks along H are
 * anchored at the whole item's rows (the host places `first` by a row band's rowOrigin), so a
 * band sums each window as the whole item does.
 *
 * Required macros: those of pool2d_nhwc.cl (MODE_MAX or MODE_AVG; KH, KW, SH, SW, PAD_T, PAD_B,
 * PAD_L, PAD_R, COUNT_INCLUDE_PAD, VEC, ACC_DOUBLE, CLOOP; DH = DW = 1), and
 *   PASS         1 or 2
 *   FLOAT_ROWS   1: avg keeps R in floats, certified in pass 2 (above); default 0
 *   SUF_PRIVATE  1: the suffixes of a block are kept in a private array of KA values (small
 *                windows: the host's SeparablePool.PRIVATE_SUFFIXES); 0: in the pass's output
 *                (R, or T in pass 2), which costs a store and a load per output more
 * CLOOP 1 (CPU devices): a work item loops over all channels, VEC at a time; CLOOP 0: one work
 * item per VEC channels (global id 0).
 *
 * Kernel sep_pass arguments: src, dst, tmp (pass 2's scratch T without SUF_PRIVATE; unused
 * otherwise: pass 1 keeps its suffixes in dst), L, OL (the axis' input and output sizes), inner,
 * C, first (the first block's start, may be negative), blocks (blocks per outer index), lines
 * (outer * blocks),
 * W (pass 2: the input width, for the divisor), orig (the input (N, H, W, C): pass 2 of FLOAT_ROWS
 * reads it for the windows that fail their certificate). Global range: CLOOP 1, lines * inner rounded up
 * to the work group (one work-group function whatever the tensor); CLOOP 0, (C / VEC, inner
 * rounded up, lines).
 */

#if !defined(MODE_MAX) && !defined(MODE_AVG)
#error "separable passes are for max and avg"
#endif
#if defined(MODE_AVG) && !ACC_DOUBLE
#error "separable averages keep their partial sums in double"
#endif
#if !defined(FLOAT_ROWS)
#define FLOAT_ROWS 0
#endif
#if FLOAT_ROWS && (!defined(MODE_AVG) || !SUF_PRIVATE)
#error "float rows are for averages whose suffixes stay private"
#endif
/* Pass 2 of an average over float rows certifies each result (see the header). */
#define CERT (PASS == 2 && FLOAT_ROWS)

/* The reduction's value type and its scratch storage: float for max, double for avg (float rows
 * for avg with FLOAT_ROWS: sums in double, R rounded to float). */
#if defined(MODE_MAX) || FLOAT_ROWS
typedef float scratch_t;
#else
typedef double scratch_t;
#endif
#if defined(MODE_MAX)
typedef floatv sval;
#define IDENT ((floatv)(-INFINITY))
#define TO_SVAL(x) (x)
/* s = (earlier v) then (later s); and m = (earlier m) then (later v). */
#define JOIN_BEFORE(s, v) do { floatv t_ = (v); MAX_UPDATE(t_, (s)); (s) = t_; } while (0)
#define JOIN_AFTER(m, v) MAX_UPDATE((m), (v))
#elif CERT
/* Pass 2 over float rows: float sums, each beside its running bound. */
typedef floatv sval;
#define IDENT ((floatv)(0))
#define JOIN_BEFORE(s, v) ((s) += (v))
#define JOIN_AFTER(m, v) ((m) += (v))
#else
typedef accv sval;
#define IDENT ((accv)(0))
#define TO_SVAL(x) TO_ACC(x)
#define JOIN_BEFORE(s, v) ((s) += (v))
#define JOIN_AFTER(m, v) ((m) += (v))
#endif

#if PASS == 1
#define KA KW
#define SA SW
#define PA PAD_L
typedef storage_t src_t;
typedef scratch_t dst_t;
#define LOAD_SRC(p, off) TO_SVAL(LOADV(p, off))
#define TMP dst
#if FLOAT_ROWS
#define STORE_ROW(v, p, off) STORE_RAW(TO_FLOAT(v), p, off)
#else
#define STORE_ROW(v, p, off) STORE_RAW(v, p, off)
#endif
#else
#define KA KH
#define SA SH
#define PA PAD_T
typedef scratch_t src_t;
typedef storage_t dst_t;
#define LOAD_SRC(p, off) LOAD_RAW(p, off)
#define TMP tmp
#endif

#if VEC == 1
#define ANY_FALSE(ok) (!(ok))
#else
#define ANY_FALSE(ok) any((ok) == 0)
#endif

__kernel void sep_pass(__global const src_t *restrict src, __global dst_t *restrict dst,
                       __global scratch_t *restrict tmp, const int L, const int OL, const int inner,
                       const int C, const int first, const int blocks, const int lines, const int W,
                       __global const storage_t *restrict orig)
{
#if CLOOP
    /* One flat range over (outer * blocks, inner), inner fastest, rounded up to the work group. */
    const int flat = (int)get_global_id(0);
    if (flat >= lines * inner) {
        return;
    }
    const int ob = flat / inner;
    const int i = flat - ob * inner;
#else
    const int i = (int)get_global_id(1);
    if (i >= inner) {
        return;
    }
    const int ob = (int)get_global_id(2);
#endif
    const int o = ob / blocks;
    const int B = first + (ob - o * blocks) * KA;
    /* Outputs q whose window starts a = q*SA - PA lie in [B, B+KA). */
    const int q0 = max(0, (B + PA + SA - 1) / SA);
    const int q1 = min(OL, (B + KA + PA + SA - 1) / SA);
    /* Element strides along the axis; bases of this work item's line in src and in the outputs. */
    const int step = inner * C;
    const int srcLine = o * L * step + i * C;
    const int outLine = o * OL * step + i * C;
    /* The block's last input position, and the next block's last that a window here reaches. */
    const int sufTop = min(B + KA, L) - 1;
#if PASS == 2 && defined(MODE_AVG)
    /* The divisor's column factor (this line is output column i), as pool2d forms it. */
    const int x0 = i * SW - PAD_L;
#if COUNT_INCLUDE_PAD
    const accv colTaps = (accv)TAPS_BEFORE(x0, KW, 1, W + PAD_R);
#else
    const accv colTaps = (accv)(min(x0 + KW, W) - max(x0, 0));
#endif
/* The divisor of the output whose window starts at row a, as pool2d forms it. */
#if COUNT_INCLUDE_PAD
#define DIVISOR(a) ((accv)TAPS_BEFORE((a), KH, 1, L + PAD_B) * colTaps)
#else
#define DIVISOR(a) ((accv)(min((a) + KH, L) - max((a), 0)) * colTaps)
#endif
#endif

#if CLOOP
    for (int c = 0; c < C; c += VEC) {
#else
    {
        const int c = (int)get_global_id(0) * VEC;
#endif
        __global const src_t *in = src + srcLine + c;
#if SUF_PRIVATE
        sval suf[KA];
#if CERT
        sval sufAbs[KA];
#endif
#define SUF_STORE(v, q) (suf[(q) - q0] = (v))
#define SUF_LOAD(q) (suf[(q) - q0])
#else
#define SUF_STORE(v, q) STORE_RAW((v), TMP, outLine + (q) * step + c)
#define SUF_LOAD(q) LOAD_RAW(TMP, outLine + (q) * step + c)
#endif
        /* Suffixes, right to left: at each window start, the block's taps from there on. */
        sval s = IDENT;
#if CERT
        sval sAbs = IDENT;
#endif
        int p = sufTop;
        for (int q = q1 - 1; q >= q0; --q) {
            const int lo = max(q * SA - PA, 0);
            for (; p >= lo; --p) {
#if CERT
                const sval v = LOAD_SRC(in, p * step);
                JOIN_BEFORE(s, v);
                sAbs += fabs(v);
#else
                JOIN_BEFORE(s, LOAD_SRC(in, p * step));
#endif
            }
            SUF_STORE(s, q);
#if CERT
            sufAbs[q - q0] = sAbs;
#endif
        }
        /* Prefixes of the next block, left to right, joined after each window's suffix. */
        sval pre = IDENT;
#if CERT
        sval preAbs = IDENT;
        uint fails = 0;
#endif
        p = B + KA;
        for (int q = q0; q < q1; ++q) {
            const int a = q * SA - PA;
            sval r = SUF_LOAD(q);
#if CERT
            sval rAbs = sufAbs[q - q0];
#endif
            if (a != B) {
                const int hi = min(a + KA, L) - 1;
                for (; p <= hi; ++p) {
#if CERT
                    const sval v = LOAD_SRC(in, p * step);
                    JOIN_AFTER(pre, v);
                    preAbs += fabs(v);
#else
                    JOIN_AFTER(pre, LOAD_SRC(in, p * step));
#endif
                }
                JOIN_AFTER(r, pre);
#if CERT
                rAbs += preAbs;
#endif
            }
#if PASS == 1
            STORE_ROW(r, dst, outLine + q * step + c);
#elif defined(MODE_MAX)
            STOREV(r, dst, outLine + q * step + c);
#else
            const accv div = DIVISOR(a);
#if CERT
            /* The certificate (see the header): rAbs = sum |R| over the window's rows, each R's
             * rounding to float within u*|R| (u = 2^-24) and each float addition within u*|its
             * result|, a sum of R's of this window, each R in at most KH of them: so within
             * u*(KH + 1)*rAbs; the factor 1 + 2^-16 covers rAbs's own float additions. Failing
             * (NaN, infinities and float overflow too) is only flagged here, the windows summed
             * again below. */
            const floatv avg = r / TO_FLOAT(div);
            STOREV(avg, dst, outLine + q * step + c);
            fails |= (uint)ANY_FALSE(rAbs * ((KH + 1) * 0x1p-24f * (1 + 0x1p-16f)) <= 1e-6f * TO_FLOAT(div) * fmax((floatv)(1), fabs(avg)))
                     << (q - q0);
#else
            STOREV(TO_FLOAT(r / div), dst, outLine + q * step + c);
#endif
#endif
        }
#if CERT
        /* The flagged windows: R's rows summed again in double, within u*sum|R| of the exact sum
         * of the row sums (the first certificate's bound counted each addition's rounding); where
         * that still fails, the window in double straight from the input, taps in scan order. */
        while (fails != 0) {
            const uint lowest = fails & (0u - fails);
            fails ^= lowest;
            const int q = q0 + 31 - (int)clz(lowest);
            const int a = q * SA - PA;
            const int y1 = min(a + KH, L);
            const accv div = DIVISOR(a);
            accv d = (accv)(0);
            accv dAbs = (accv)(0);
            for (int y = max(a, 0); y < y1; ++y) {
                const accv v = TO_ACC(LOAD_SRC(in, y * step));
                d += v;
                dAbs += fabs(v);
            }
            if (ANY_FALSE(dAbs * 0x1p-24 <= 1e-6 * div * fmax((accv)(1), fabs(d / div)))) {
                const int xa = max(x0, 0);
                const int xb = min(x0 + KW, W);
                d = (accv)(0);
                for (int y = max(a, 0); y < y1; ++y) {
                    for (int x = xa; x < xb; ++x) {
                        d += TO_ACC(LOADV(orig, ((o * L + y) * W + x) * C + c));
                    }
                }
            }
            STOREV(TO_FLOAT(d / div), dst, outLine + q * step + c);
        }
#endif
    }
}
