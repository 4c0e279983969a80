/*
 * clpool: adaptive 2-D pooling (avg, max) of ONE-CHANNEL tensors (P, H, W, 1) on CPU devices: the
 * channels-first planes that the host lowers channels-first adaptive pooling to, which
 * adaptive_nhwc.cl would run one output per work item (its lanes are channels), 5-7x slower than
 * channels-last on PoCL.
 *
 * The lanes are VEC planes: one work item owns output row oy of planes p0 .. p0+VEC-1 and walks
 * it along OW. Every lane has the same regions (output i of an axis of IN positions pooled to
 * OUT covers floor(i*IN/OUT) .. ceil((i+1)*IN/OUT) - 1, as adaptive_nhwc.cl), so the loops are
 * uniform; each tap is one element of each lane's plane (VEC scalar loads: the planes are H*W
 * apart), and the arithmetic runs on the lanes at once. Lanes past the last plane read plane p0's
 * elements and store nothing.
 *
 * Each lane does adaptive2d's work for its plane in its order (rows, then columns, the same
 * accumulator and division; max by MAX_UPDATE), so the results are adaptive_nhwc.cl's and the
 * CPU path's, bit for bit.
 *
 * Required macros: MODE_MAX | MODE_AVG, VEC > 1 (the planes per work item), ACC_DOUBLE, and
 * ROWLOOP 1 (common.cl's LANE_INDEX).
 *
 * Kernel adaptive_planes: in (P, H, W, 1), out (P, OH, OW, 1), P, H, W, OH, OW, rows
 * (= ceil(P / VEC) * OH). Global range (rows rounded up to the work group); work items past the
 * end return.
 *
 * Kernel adaptive_plane_groups, for small planes (VEC <= H*W <= PLANE_TAPS, OH*OW <= PLANE_OUTS:
 * SPP-net's 13x13 and VGG's 10x10 heads): one work item owns all outputs of VEC planes, so each
 * plane is read once (adaptive_planes stages the region rows of each output row, which overlap)
 * with VEC vector loads and a transpose per VEC elements, the last vector overlapping the one
 * before (no scalar loads), and the outputs, a run of OH*OW elements per plane, go back through
 * the transpose as vector stores (the last overlapping the one before and storing the same bits;
 * fewer than VEC outputs a plane, one element at a time). Same regions, order and arithmetic per
 * lane as adaptive_planes. Arguments in, out, P, H, W, OH, OW, groups (= ceil(P / VEC)).
 *
 * Kernel adaptive_plane_groups2: the same with two groups of VEC planes a work item (arguments as
 * adaptive_plane_groups, the last being ceil(P / (2 * VEC))), their chains of each region
 * interleaved tap by tap: the loops over a region's rows and columns, whose bounds vary from output
 * to output and branch unpredictably, are paid once for both groups, and the two chains of
 * dependent additions (or maxima) overlap. Avg stages the taps converted to the accumulator's type,
 * once an element rather than once a tap.
 *
 * Kernel adaptive_plane_rows (max only), for planes of W = 2*OW + 1 <= 2*VEC - 1 columns and
 * H <= ROWS_MAX rows (SPP-net's 13x13 to 6x6): every column region is then [2i, 2i + 3), so a work
 * item owns one plane and reads each input row once as two vectors, no transposes: the row's
 * maxima of all OW regions at once from its even, odd and shifted even lanes (the region's three
 * columns in order), then each output row folds its region's row maxima in order (adaptive_planes'
 * grouping, so the same bits). Output rows are stored as whole vectors, each overwriting the spare
 * lanes of the one before; the plane's last row as the vector that ends at the plane's end (the
 * next plane is another item's), which stores the row before's last outputs again.
 * Arguments in, out, P, H, W, OH, OW, inEnd (the input elements: the buffer's last row is read
 * element by element).
 */

#if !ROWLOOP || VEC == 1
#error "adaptive_planes runs ROWLOOP 1, VEC > 1"
#endif
#if !defined(MODE_MAX) && !defined(MODE_AVG)
#error "define one of MODE_MAX, MODE_AVG"
#endif

#define REGION_START(i, in, out) ((int)(((long)(i) * (long)(in)) / (long)(out)))
#define REGION_END(i, in, out) ((int)((((long)(i) + 1) * (long)(in) + (long)(out) - 1) / (long)(out)))

/* Element off of each lane's plane (the planes start at b[i]): a vector built from VEC loads. */
#if VEC == 8
#define LANES_AT(in, b, off) ((floatv)(LOAD1(in, b[0] + (off)), LOAD1(in, b[1] + (off)), LOAD1(in, b[2] + (off)), \
    LOAD1(in, b[3] + (off)), LOAD1(in, b[4] + (off)), LOAD1(in, b[5] + (off)), LOAD1(in, b[6] + (off)),           \
    LOAD1(in, b[7] + (off))))
#else
#error "adaptive_planes runs VEC 8"
#endif

/* Writes the columns of the 8x8 block whose rows are a0 .. a7 to t[0] .. t[7] (t[j] = the rows'
   element j): three rounds of two-vector swizzles, which the compiler turns into shuffles. */
inline __attribute__((always_inline)) void transpose8(
        const float8 a0, const float8 a1, const float8 a2, const float8 a3, const float8 a4, const float8 a5,
        const float8 a6, const float8 a7, float8 *t, const int stride)
{
#define LO_PAIRS(a, b) (float8)((a).s0, (b).s0, (a).s1, (b).s1, (a).s4, (b).s4, (a).s5, (b).s5)
#define HI_PAIRS(a, b) (float8)((a).s2, (b).s2, (a).s3, (b).s3, (a).s6, (b).s6, (a).s7, (b).s7)
#define LO_QUADS(a, b) (float8)((a).s01, (b).s01, (a).s45, (b).s45)
#define HI_QUADS(a, b) (float8)((a).s23, (b).s23, (a).s67, (b).s67)
    const float8 u0 = LO_PAIRS(a0, a1), u1 = HI_PAIRS(a0, a1), u2 = LO_PAIRS(a2, a3), u3 = HI_PAIRS(a2, a3);
    const float8 u4 = LO_PAIRS(a4, a5), u5 = HI_PAIRS(a4, a5), u6 = LO_PAIRS(a6, a7), u7 = HI_PAIRS(a6, a7);
    const float8 v0 = LO_QUADS(u0, u2), v1 = HI_QUADS(u0, u2), v2 = LO_QUADS(u1, u3), v3 = HI_QUADS(u1, u3);
    const float8 v4 = LO_QUADS(u4, u6), v5 = HI_QUADS(u4, u6), v6 = LO_QUADS(u5, u7), v7 = HI_QUADS(u5, u7);
    t[0 * stride] = (float8)(v0.lo, v4.lo);
    t[1 * stride] = (float8)(v1.lo, v5.lo);
    t[2 * stride] = (float8)(v2.lo, v6.lo);
    t[3 * stride] = (float8)(v3.lo, v7.lo);
    t[4 * stride] = (float8)(v0.hi, v4.hi);
    t[5 * stride] = (float8)(v1.hi, v5.hi);
    t[6 * stride] = (float8)(v2.hi, v6.hi);
    t[7 * stride] = (float8)(v3.hi, v7.hi);
}

/* The output of region [y0, y1) x [x0, x1) of every lane, the tap at (y, x) being TAP(y, x): rows,
   then columns, as adaptive2d. Max takes each row's maximum, then the rows' in order: the scan
   order regrouped (MAX_UPDATE's rule is associative, so the same bits), in short independent
   chains of dependent updates instead of one chain through the region. */
#if defined(MODE_MAX)
#define REGION(r, TAP)                                         \
    do {                                                       \
        floatv m_ = (floatv)(-INFINITY);                       \
        for (int y = y0; y < y1; ++y) {                        \
            floatv rm_ = TAP(y, x0);                           \
            for (int x = x0 + 1; x < x1; ++x) {                \
                const floatv v_ = TAP(y, x);                   \
                MAX_UPDATE(rm_, v_);                           \
            }                                                  \
            MAX_UPDATE(m_, rm_);                               \
        }                                                      \
        (r) = m_;                                              \
    } while (0)
#else
#define REGION(r, TAP)                                         \
    do {                                                       \
        ACC_INIT(sum_);                                        \
        for (int y = y0; y < y1; ++y) {                        \
            for (int x = x0; x < x1; ++x) {                    \
                ACC_ADD(sum_, TO_ACC(TAP(y, x)));              \
            }                                                  \
        }                                                      \
        const int div_ = (y1 - y0) * (x1 - x0);                \
        (r) = TO_FLOAT(ACC_TOTAL(sum_) / (accv)(div_));        \
    } while (0)
#endif

/* Elements of the region rows staged in private memory, lane i = plane p0 + i. */
#define STAGE 64

__kernel void adaptive_planes(__global const storage_t *restrict in, __global storage_t *restrict out,
                              const int P, const int H, const int W, const int OH, const int OW, const int rows)
{
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int group = row / OH;
    const int oy = row - group * OH;
    const int p0 = group * VEC;
    const int lanes = min(VEC, P - p0);
    int b[VEC];
    for (int i = 0; i < VEC; ++i) {
        b[i] = (i < lanes ? p0 + i : p0) * H * W;
    }
    const int y0 = REGION_START(oy, H, OH);
    const int y1 = REGION_END(oy, H, OH);
    const int o = (p0 * OH + oy) * OW;

    /* The region rows y0 .. y1-1 of a plane are one run of n elements: read with vector loads
       and transposed into tr, so that each tap is one vector of the lanes' elements. */
    const int n = (y1 - y0) * W;
    floatv tr[STAGE + VEC - 1];
    if (n <= STAGE) {
        /* Whole vectors while they stay in the plane (the last may read past the region rows),
           then single taps. */
        const int room = H * W - y0 * W - VEC;
        int k = 0;
        for (; k < n && k <= room; k += VEC) {
            const int at = y0 * W + k;
            transpose8(LOADU(in, b[0] + at), LOADU(in, b[1] + at), LOADU(in, b[2] + at), LOADU(in, b[3] + at),
                       LOADU(in, b[4] + at), LOADU(in, b[5] + at), LOADU(in, b[6] + at), LOADU(in, b[7] + at),
                       tr + k, 1);
        }
        for (; k < n; ++k) {
            tr[k] = LANES_AT(in, b, y0 * W + k);
        }
    }
#define STAGED(y, x) tr[((y) - y0) * W + (x)]
#define GATHERED(y, x) LANES_AT(in, b, (y) * W + (x))
    for (int ox = 0; ox < OW; ++ox) {
        const int x0 = REGION_START(ox, W, OW);
        const int x1 = REGION_END(ox, W, OW);
        floatv_lanes r;
        if (n <= STAGE) {
            REGION(r.v, STAGED);
        } else {
            REGION(r.v, GATHERED);
        }
        for (int i = 0; i < lanes; ++i) {
            STORE1(r.e[i], out, o + ox + i * OH * OW);
        }
    }
}

/* The largest planes and outputs that adaptive_plane_groups keeps in private memory, and the most
   groups of VEC planes a work item takes (adaptive_plane_groups2). */
#define PLANE_TAPS 256
#define PLANE_OUTS 64
#define GROUPS_MAX 2

/* The accumulator of group g: sums (and compensations) in arrays, for the unrolled loops over g. */
#if ACC_DOUBLE
#define GACC_INIT(s) accv s[GROUPS_MAX]
#define GACC_ZERO(s, g) ((s)[g] = (accv)(0))
#define GACC_ADD(s, g, v) ((s)[g] += (v))
#define GACC_TOTAL(s, g) ((s)[g])
#else
#define GACC_INIT(s) accv s[GROUPS_MAX], s##_comp[GROUPS_MAX]
#define GACC_ZERO(s, g) ((s)[g] = (accv)(0), (s##_comp)[g] = (accv)(0))
#define GACC_ADD(s, g, v) COMPENSATED_ADD((s)[g], (s##_comp)[g], v)
#define GACC_TOTAL(s, g) COMPENSATED_TOTAL((s)[g], (s##_comp)[g])
#endif

/* The groups g < G of a work item: a loop with the compile-time bound GROUPS_MAX, so that it always
   unrolls (G is a constant only after inlining) and the arrays indexed by g become registers. */
#define FOR_GROUPS(g, G) _Pragma("unroll") for (int g = 0; g < GROUPS_MAX; ++g) if (g < (G))

/* The staged taps: floats for max, accumulators for avg (each element converted once, not once a
   tap: VGG's regions of 10 to 7 read every element 2.56 times). */
#if defined(MODE_MAX)
typedef floatv stage_t;
#define TO_STAGE(x) (x)
#else
typedef accv stage_t;
#define TO_STAGE(x) TO_ACC(x)
#endif

/* Work item `item`'s G groups of VEC whole planes (G a constant after inlining): group g is planes
   (item * G + g) * VEC onwards. The planes are read once, through the transpose, into tr, tap t of
   group g at tr[t * G + g]; every output's region is reduced there with the G groups' chains
   interleaved tap by tap (each group's order is adaptive_planes' own: the same bits), so that the
   loops over a region's rows and columns, whose bounds vary from output to output, are paid once
   per G groups; and the outputs go back through the transpose. */
inline __attribute__((always_inline)) void plane_groups(
        __global const storage_t *restrict in, __global storage_t *restrict out, const int P, const int H,
        const int W, const int OH, const int OW, const int item, const int G)
{
    const int n = H * W;
    stage_t tr[PLANE_TAPS * GROUPS_MAX];
    FOR_GROUPS(g, G) {
        /* Lane i's plane (the last plane past the end): base pointers formed once, in scalars (an
           array of them was built as a vector and extracted lane by lane at every load). */
        const int p0 = (item * G + g) * VEC;
#define LANE_PLANE(i) (in + (long)min(p0 + (i), P - 1) * n)
        __global const storage_t *b0 = LANE_PLANE(0), *b1 = LANE_PLANE(1), *b2 = LANE_PLANE(2), *b3 = LANE_PLANE(3);
        __global const storage_t *b4 = LANE_PLANE(4), *b5 = LANE_PLANE(5), *b6 = LANE_PLANE(6), *b7 = LANE_PLANE(7);
#undef LANE_PLANE
        for (int k = 0;; k += VEC) {
            k = min(k, n - VEC);
            floatv t[VEC];
            transpose8(LOADU(b0, k), LOADU(b1, k), LOADU(b2, k), LOADU(b3, k), LOADU(b4, k), LOADU(b5, k),
                       LOADU(b6, k), LOADU(b7, k), t, 1);
            _Pragma("unroll") for (int j = 0; j < VEC; ++j) {
                tr[(k + j) * G + g] = TO_STAGE(t[j]);
            }
            if (k == n - VEC) {
                break;
            }
        }
    }
    /* The column regions, formed once (two divisions an output row and column, not an output). */
    int xb[PLANE_OUTS], xe[PLANE_OUTS];
    for (int ox = 0; ox < OW; ++ox) {
        xb[ox] = REGION_START(ox, W, OW);
        xe[ox] = REGION_END(ox, W, OW);
    }
    floatv res[PLANE_OUTS * GROUPS_MAX];
    for (int oy = 0; oy < OH; ++oy) {
        const int y0 = REGION_START(oy, H, OH);
        const int y1 = REGION_END(oy, H, OH);
        for (int ox = 0; ox < OW; ++ox) {
            const int x0 = xb[ox];
            const int x1 = xe[ox];
            floatv *r = res + (oy * OW + ox) * G;
#if defined(MODE_MAX)
            /* Each row's maximum, then the rows' in order, as REGION. */
            floatv m[GROUPS_MAX];
            FOR_GROUPS(g, G) {
                m[g] = (floatv)(-INFINITY);
            }
            for (int y = y0; y < y1; ++y) {
                const stage_t *row = tr + (y * W + x0) * G;
                floatv rm[GROUPS_MAX];
                FOR_GROUPS(g, G) {
                    rm[g] = row[g];
                }
                for (int x = 1; x < x1 - x0; ++x) {
                    FOR_GROUPS(g, G) {
                        MAX_UPDATE(rm[g], row[x * G + g]);
                    }
                }
                FOR_GROUPS(g, G) {
                    MAX_UPDATE(m[g], rm[g]);
                }
            }
            FOR_GROUPS(g, G) {
                r[g] = m[g];
            }
#else
            GACC_INIT(sum);
            FOR_GROUPS(g, G) {
                GACC_ZERO(sum, g);
            }
            for (int y = y0; y < y1; ++y) {
                const stage_t *row = tr + (y * W + x0) * G;
                for (int x = 0; x < x1 - x0; ++x) {
                    FOR_GROUPS(g, G) {
                        GACC_ADD(sum, g, row[x * G + g]);
                    }
                }
            }
            const accv div = (accv)((y1 - y0) * (x1 - x0));
            FOR_GROUPS(g, G) {
                r[g] = TO_FLOAT(GACC_TOTAL(sum, g) / div);
            }
#endif
        }
    }
    const int m = OH * OW;
    FOR_GROUPS(g, G) {
        const int p0 = (item * G + g) * VEC;
        const int lanes = min(VEC, P - p0);
        if (m >= VEC) {
            floatv t[VEC];
            for (int k = 0;; k += VEC) {
                k = min(k, m - VEC);
                const floatv *q = res + k * G + g;
                transpose8(q[0], q[G], q[2 * G], q[3 * G], q[4 * G], q[5 * G], q[6 * G], q[7 * G], t, 1);
                for (int i = 0; i < lanes; ++i) {
                    STOREU(t[i], out, (p0 + i) * m + k);
                }
                if (k == m - VEC) {
                    break;
                }
            }
        } else {
            for (int k = 0; k < m; ++k) {
                floatv_lanes r;
                r.v = res[k * G + g];
                for (int i = 0; i < lanes; ++i) {
                    STORE1(r.e[i], out, (p0 + i) * m + k);
                }
            }
        }
    }
}

__kernel void adaptive_plane_groups(__global const storage_t *restrict in, __global storage_t *restrict out,
                                    const int P, const int H, const int W, const int OH, const int OW,
                                    const int groups)
{
    const int item = (int)get_global_id(0);
    if (item < groups) { /* past the end: the range is rounded up to the work group */
        plane_groups(in, out, P, H, W, OH, OW, item, 1);
    }
}

/* The same with GROUPS_MAX groups a work item (items = ceil(P / (GROUPS_MAX * VEC))), where the
   host has enough groups (AdaptiveRoutine.pairs). */
__kernel void adaptive_plane_groups2(__global const storage_t *restrict in, __global storage_t *restrict out,
                                     const int P, const int H, const int W, const int OH, const int OW,
                                     const int items)
{
    const int item = (int)get_global_id(0);
    if (item < items) {
        plane_groups(in, out, P, H, W, OH, OW, item, GROUPS_MAX);
    }
}

#if defined(MODE_MAX)
/* The most input rows adaptive_plane_rows keeps (one vector of row maxima each). */
#define ROWS_MAX 16

__kernel void adaptive_plane_rows(__global const storage_t *restrict in, __global storage_t *restrict out,
                                  const int P, const int H, const int W, const int OH, const int OW,
                                  const int inEnd)
{
    const int p = (int)get_global_id(0);
    if (p >= P) {
        return; /* past the end: the range is rounded up to the work group */
    }
    /* Lane i of row y's maxima: columns 2i, 2i + 1, 2i + 2 in order (lane VEC - 1, past OW, takes
       a spare). Rows below `whole` are read as two vectors, the rest (the buffer's last rows, whose
       second vector would pass its end) element by element, the lanes past W never reaching an
       output. */
#define ROW_MAXIMA(y, v)                                       \
    do {                                                       \
        floatv m_ = (v).even;                                  \
        MAX_UPDATE(m_, (v).odd);                               \
        MAX_UPDATE(m_, (floatv)((v).s2468, (v).sace, (v).se)); \
        rm[y] = m_;                                            \
    } while (0)
    floatv rm[ROWS_MAX];
    const int base = p * H * W;
    const int room = inEnd - 2 * VEC - base;
    const int whole = room < 0 ? 0 : min(H, room / W + 1);
    for (int y = 0; y < whole; ++y) {
        const int at = base + y * W;
        const float16 v = (float16)(LOADU(in, at), LOADU(in, at + VEC));
        ROW_MAXIMA(y, v);
    }
    for (int y = whole; y < H; ++y) {
        union {
            float16 v;
            float e[2 * VEC];
        } t;
        t.v = (float16)(0.0f);
        for (int x = 0; x < W; ++x) {
            t.e[x] = LOAD1(in, base + y * W + x);
        }
        ROW_MAXIMA(y, t.v);
    }
#undef ROW_MAXIMA
    const int o = p * OH * OW;
    /* The row regions as they advance: floor(oy * H / OH) in y0 with the remainder in rem, so that
       y1 = ceil((oy + 1) * H / OH) is the next start plus one where a remainder is left (two
       divisions a plane, not two an output row). */
    const int step = H / OH;
    const int frac = H - step * OH;
    int y1 = 0;
    int rem = 0;
    floatv prev = (floatv)(0.0f);
    for (int oy = 0; oy < OH; ++oy) {
        const int y0 = y1 - (rem != 0);
        y1 = y0 + step;
        rem += frac;
        if (rem >= OH) {
            rem -= OH;
            ++y1;
        }
        y1 += rem != 0;
        floatv_lanes r;
        r.v = rm[y0];
        if (y1 - y0 > 1) {
            MAX_UPDATE(r.v, rm[y0 + 1]);
        }
        if (y1 - y0 > 2) {
            MAX_UPDATE(r.v, rm[y0 + 2]);
        }
        for (int y = y0 + 3; y < y1; ++y) {
            MAX_UPDATE(r.v, rm[y]);
        }
        if (oy < OH - 1) {
            STOREU(r.v, out, o + oy * OW);
        } else if (OH > 1) {
            /* The last row as the vector that ends at the plane's end: the row before's last
               8 - OW outputs (their bits again), then this row's OW. */
            floatv t;
            switch (OW) {
            case 4: t = (floatv)(prev.s0123, r.v.s0123); break;
            case 5: t = (floatv)(prev.s234, r.v.s0123, r.v.s4); break;
            case 6: t = (floatv)(prev.s45, r.v.s0123, r.v.s45); break;
            default: t = (floatv)(prev.s6, r.v.s0123, r.v.s456); break;
            }
            STOREU(t, out, o + OH * OW - VEC);
        } else {
            for (int i = 0; i < OW; ++i) {
                STORE1(r.e[i], out, o + i);
            }
        }
        prev = r.v;
    }
}
#endif
