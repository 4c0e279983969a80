/*
 * clpool: windowed pooling (max, avg, lp) over channels-first tensors of spatial rank 1, 2 or 3:
 * (N, C, W), (N, C, H, W) or (N, C, D, H, W), where each of the N*C planes (volumes) is contiguous.
 * The host passes a lower rank as depth (and height) 1 with a window of 1 (KD = SD = DD = 1, no
 * padding), so one source serves every rank and those loops fold away at compile time.
 *
 * Two layouts, chosen by the host from the device type:
 *   ROWLOOP 1 (CPU devices such as PoCL): one work item computes one output row (plane, oz, oy),
 *           VEC adjacent outputs along W at a time: a vector of VEC outputs whose windows lie
 *           inside the row takes one VEC-wide load per tap (stride 1: contiguous; stride 2: the
 *           even lanes of two loads; stride 4: lanes 0 and 4 of four loads; other strides:
 *           gathered), the outputs near the row's ends one
 *           at a time. Global range (rows rounded up to the work group), rows = planes * OD * OH.
 *   ROWLOOP 0 (GPUs): one work item per output; neighbouring work items read neighbouring
 *           columns (coalesced). Global range (OW, OH, planes * OD), the first two rounded up.
 * Work items past the end (the rounding) return at once. No transposes: the taps are read along W.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.KernelOptions#planar):
 *   MODE_MAX | MODE_AVG | MODE_LP     exactly one is defined
 *   KD, KH, KW    window (depth, rows, columns)
 *   SD, SH, SW    stride
 *   DD, DH, DW    dilation
 *   PAD_F, PAD_T, PAD_L  leading padding (depth, rows, columns)
 *   PAD_K, PAD_B, PAD_R  trailing padding (used by the count_include_pad divisor)
 *   COUNT_INCLUDE_PAD  0 or 1 (avg)
 *   VEC           outputs per vector step along W (ROWLOOP 1): 1, 2, 4, 8 or 16; 1 for ROWLOOP 0
 *                 and for lp other than LP_SQUARE with ACC_DOUBLE
 *   ACC_DOUBLE    1: accumulate in double (device has cl_khr_fp64); 0: compensated float sums
 *   LP_P          exponent as a float literal (lp)
 *   LP_DIRECT     (lp, optional) p <= 4: with ACC_DOUBLE, the powers are summed unscaled
 *   LP_SQUARE     (lp, optional) p == 2: x*x and sqrt instead of pow
 *   ROWLOOP       0 or 1, the layout above
 *   CF_ROWS       (optional, ROWLOOP 1) stride-1 L2 by staged row sums, CF_BAND output rows
 *                 a work item (see "Staged rows" below); then rows = planes * OD * ceil(OH / CF_BAND)
 *   CF_FLAT       (optional, ROWLOOP 1) stride-1 include-pad avg that keeps the plane's size, a plane
 *                 (depth slice) a work item (see "A plane a work item" below); then rows = planes * OD
 *
 * The host prepends common.cl (vector types, storage, accumulators) and planar_taps.cl (the window
 * loops shared with pool_planar_indices.cl: tap ranges, vector tap loads, masks, pool_row).
 *
 * Kernel arguments: in, out, D, H, W, OD, OH, OW, rows, inEnd (the input elements in the buffer:
 * reads past the row's ends stay below it).
 *
 * Semantics (SEMANTICS.md), as pool2d_nhwc.cl: max propagates NaN (the first NaN in scan order)
 * and padding never wins; the strict ">" keeps the first maximum in the scan order depth, row,
 * column, which makes the result bit-identical to the CPU path. avg divides by the number of
 * input elements in the window, or with COUNT_INCLUDE_PAD by its taps inside the padded input
 * (TAPS_BEFORE per axis).
 */


#ifdef CF_ROWS
/* ---- Staged rows (CF_ROWS): stride-1 L2 pooling by row sums ----
   CPU devices (ROWLOOP 1, VEC outputs a step), p = 2 with double sums, stride and dilation 1 on
   rows and columns, no depth window. A work item owns CF_BAND output rows of a depth row, output
   rows of at most CF_ROW columns (longer rows, or rows narrower than a vector, go pool_row's way).
   Each input row the band reads is read once: its squares (double) are staged in private memory
   between zeros for the padding columns, summed across the window's columns into a ring of KH
   rows, and each output row adds its window's rows from the ring in order, from +0. The terms are
   pool_one's and vec_window's, grouped by rows (each row's sum, then the rows'), where those add
   them in one chain: double sums of exact squares, within the tolerance (in the A/B below no
   output of FaceNet's layer changed a bit). No tap is masked, no row end is tested, and a square
   is formed once per input element instead of once per tap. The same grouping for avg measured
   no faster than vec_window (its division, not its taps, is its cost), so avg stays there. */
#if !defined(MODE_LP) || !defined(LP_SQUARE) || !ROWLOOP || VEC != 8 || !ACC_DOUBLE || KD != 1 || SH != 1 \
        || SW != 1 || DH != 1 || DW != 1
#error "CF_ROWS runs L2 with double sums, ROWLOOP 1, VEC 8, stride and dilation 1, KD 1"
#endif
#define CF_ROW 64                  /* widest output row staged */
#define CF_SPAN (CF_ROW + KW - 1)  /* its input columns, padding included (stride 1: OW + KW - 1) */
#define CF_TROW (CF_SPAN + VEC)    /* a staged row: the trailing padding is stored as a whole vector */
#if KW > VEC || KH > VEC
#error "CF_ROWS runs windows of at most VEC rows and columns"
#endif

typedef struct __attribute__((packed)) { double8 v; } double8_p;
#define PLOAD(p, i) (((const __private double8_p *)((p) + (i)))->v)
#define PSTORE(x, p, i) (((__private double8_p *)((p) + (i)))->v = (x))

/* Input row `row`'s squares in t: column x at t[PAD_L + x], zeros around it (the padding columns
   as whole vectors: PAD_L, PAD_R < KW <= VEC, which the host checks; every access of the staged
   rows goes through one type, so that no store is reordered past a load of the same memory). */
inline __attribute__((always_inline)) void stage_row(__global const storage_t *restrict in, const int row,
        const int W, __private double *t)
{
    PSTORE((accv)(0), t, 0);
    for (int x = 0;; x += VEC) {
        x = min(x, W - VEC);
        const accv a = TO_ACC(fabs(LOADU(in, row + x)));
        PSTORE(a * a, t, PAD_L + x);
        if (x == W - VEC) {
            break;
        }
    }
    PSTORE((accv)(0), t, PAD_L + W);
}

/* A staged row summed across the window's columns: hs[ox] = t[ox] + t[ox + 1] + ... in column
   order, for ox in [0, OW). */
inline __attribute__((always_inline)) void sum_row(const __private double *t, const int OW, __private double *hs)
{
    for (int ox = 0;; ox += VEC) {
        ox = min(ox, OW - VEC);
        accv s = PLOAD(t, ox);
        UNROLL
        for (int jx = 1; jx < KW; ++jx) {
            s += PLOAD(t, ox + jx);
        }
        PSTORE(s, hs, ox);
        if (ox == OW - VEC) {
            return;
        }
    }
}

/* 4 results at out[o ..] (a row's last lanes), one element at a time: any storage. */
inline void store4(const float4 r, __global storage_t *restrict out, const int o)
{
    STORE1(r.s0, out, o);
    STORE1(r.s1, out, o + 1);
    STORE1(r.s2, out, o + 2);
    STORE1(r.s3, out, o + 3);
}

/* The L2 result of N lanes of double sums s: the double sqrt rounded, NaN canonical (vec_window's). */
#define CF_ROOT(N, s) select(CAT(convert_float, N)(sqrt(s)), (CAT(float, N))(NAN), \
        isnan(CAT(convert_float, N)(sqrt(s))))

/* Output lanes [ox + VEC - N, ox + VEC) of row oy (N = VEC, or 4 at a row's end: PICK the
   lanes, all or .hi): the window's rows from the ring, in order from +0, then CF_ROOT. The ring
   is read as it is written, 8 lanes through double8_p. */
#define CF_ALL(v) (v)
#define CF_HI(v) ((v).hi)
#define CF_LANES(N, ox, PICK, STORE) do { \
    CAT(double, N) s_ = (CAT(double, N))(0); \
    UNROLL \
    TAPS_IN(jy, jy0, jy1, KH) { \
        s_ += PICK(PLOAD(ring + ((y0 + jy) % KH) * CF_ROW, (ox))); \
    } \
    STORE(CF_ROOT(N, s_), out, orow + (ox) + VEC - (N)); \
} while (0)

/* Output rows [oyA, oyB) of depth row pz, as above. */
inline void staged_band(__global const storage_t *restrict in, __global storage_t *restrict out, const int D,
        const int H, const int W, const int OD, const int OH, const int OW, const int pz, const int oyA, const int oyB)
{
    /* Every input row of the band staged first, then summed as the output rows need them: a
       row's sums read its staged terms long after they were stored (loads that straddle recent
       vector stores wait for them; staging and summing row by row was slower than pool_row). */
    double t[(CF_BAND + KH - 1) * CF_TROW];
    double ring[KH * CF_ROW];
    const row_window r0 = window_of(D, H, W, OD, pz, 0);
    const int plane = r0.base + r0.z0 * H * W;
    const int yA = max(0, oyA - PAD_T);
    const int yB = min(H, oyB - 1 - PAD_T + KH);
    for (int y = yA; y < yB; ++y) {
        stage_row(in, plane + y * W, W, t + (y - yA) * CF_TROW);
    }
    int ynext = yA;
    for (int oy = oyA; oy < oyB; ++oy) {
        const int y0 = oy - PAD_T;
        const int jy0 = TAP_FIRST(y0, 1);
        const int jy1 = TAP_END(y0, KH, 1, H);
        for (; ynext < y0 + jy1; ++ynext) {
            sum_row(t + (ynext - yA) * CF_TROW, OW, ring + (ynext % KH) * CF_ROW);
        }
        const int orow = (pz * OH + oy) * OW;
        /* Vectors of 8 from column 0; the last 1 to 4 outputs as 4 lanes, the last 5 to 7 as a
           vector overlapping the one before (it recomputes the same bits): the double roots are
           most of the kernel's time, and a vector of 8 costs about twice one of 4. */
        const int tail = OW - VEC * ((OW - 1) / VEC) <= 4 ? OW - 4 : OW - VEC;
        int ox = 0;
        for (; ox < tail; ox += VEC) {
            CF_LANES(8, ox, CF_ALL, STOREU);
        }
        if (tail == OW - 4) {
            CF_LANES(4, OW - VEC, CF_HI, store4);
        } else {
            CF_LANES(8, OW - VEC, CF_ALL, STOREU);
        }
    }
}
#endif

#ifdef CF_FLAT
/* ---- A plane a work item (CF_FLAT): stride-1 averages whose output plane is the input's ----
   CPU devices (ROWLOOP 1, VEC 8, double sums), avg with count_include_pad, stride and dilation 1
   on rows and columns, no depth window, padding that keeps the plane's size (PAD_L + PAD_R =
   KW - 1, PAD_T + PAD_B = KH - 1: every divisor is KH * KW) and planes that fit CF_STAGE
   with their zero rows (Inception's 3x3 s1 p1 over 35x35). The plane is walked flat, VEC elements a step,
   whatever its rows' width (no vector straddles a row's end unused, none is masked as a whole):
   each input element's row sum across the window's columns (vec_window's rs: the column taps in
   order, a tap outside the row +0) is formed once and staged, then each output adds its window's
   row sums in order from +0 (vec_window's sum) and divides by KH * KW: the same operations on
   the same values as vec_window, so the same bits, where vec_window forms each row sum KH times.
   A window row outside the plane is a staged row of +0 (the sum starts at +0 and is never -0, so
   adding +0 changes no bit, as vec_window's skipped rows). */
#if !defined(MODE_AVG) || !COUNT_INCLUDE_PAD || !ROWLOOP || VEC != 8 || !ACC_DOUBLE || KD != 1 || SH != 1 \
        || SW != 1 || DH != 1 || DW != 1 || PAD_L + PAD_R != KW - 1 || PAD_T + PAD_B != KH - 1
#error "CF_FLAT runs avg with count_include_pad, double sums, VEC 8, stride and dilation 1, the plane's size kept"
#endif
#define CF_STAGE 2560 /* doubles staged: (H + KH - 1) * W + VEC at most (checked on the host) */

typedef struct __attribute__((packed)) { double8 v; } double8_f;
#define FLOAD(p, i) (((const __private double8_f *)((p) + (i)))->v)
#define FSTORE(x, p, i) (((__private double8_f *)((p) + (i)))->v = (x))

/* The row sums of the VEC elements at plane offset i (columns c): tap jx of lane l is element
   i + l + jx - PAD_L, +0 where its column c + jx - PAD_L leaves the row (vec_window's masked taps;
   the reads outside the plane stay in the launch's buffer, which the caller checks). */
inline __attribute__((always_inline)) accv flat_row_sum(__global const storage_t *restrict in, const int at,
        const intv c, const int W)
{
    accv rs;
    UNROLL
    for (int jx = 0; jx < KW; ++jx) {
        const intv x = c + (intv)(jx - PAD_L);
        const floatv v = LOADU(in, at + jx - PAD_L);
        const accv a = TO_ACC(jx == PAD_L ? v : select((floatv)(0.0f), v, (x >= (intv)(0)) & (x < (intv)(W))));
        rs = jx == 0 ? a : rs + a;
    }
    return rs;
}

inline void flat_plane(__global const storage_t *restrict in, __global storage_t *restrict out, const int H,
        const int W, const int plane)
{
    double t[CF_STAGE];
    const int P = H * W;
    const int base = plane * P;
    __private double *rows = t + PAD_T * W; /* row sum of element i at rows[i]; zero rows around */
    for (int i = 0; i < PAD_T * W; i += VEC) {
        FSTORE((accv)(0), t, i);
    }
    /* Columns of the lanes, advanced by VEC a step (W >= VEC, checked on the host); the last
       vector overlaps the one before (it recomputes the same bits). */
    intv c = LANE_INDEX;
    for (int i = 0;; i += VEC) {
        if (i > P - VEC) {
            i = P - VEC;
            c = ((intv)(i) + LANE_INDEX) % (intv)(W);
        }
        FSTORE(flat_row_sum(in, base + i, c, W), rows, i);
        if (i == P - VEC) {
            break;
        }
        c += (intv)(VEC);
        c = select(c, c - (intv)(W), c >= (intv)(W));
    }
    for (int i = P; i < P + PAD_B * W; i += VEC) {
        FSTORE((accv)(0), rows, i);
    }
    for (int i = 0;; i = min(i + VEC, P - VEC)) {
        accv s = (accv)(0);
        UNROLL
        for (int jy = 0; jy < KH; ++jy) {
            s += FLOAD(t, i + jy * W);
        }
        STOREU(TO_FLOAT(s / (accv)(KH * KW)), out, base + i);
        if (i == P - VEC) {
            break;
        }
    }
}
#endif

__kernel void pool_planar(__global const storage_t *restrict in, __global storage_t *restrict out,
                          const int D, const int H, const int W, const int OD, const int OH, const int OW,
                          const int rows, const int inEnd)
{
#if ROWLOOP && defined(CF_ROWS)
    /* rows = planes * OD * bands: a work item owns CF_BAND output rows of a depth row. */
    const int bands = (OH + CF_BAND - 1) / CF_BAND;
    const int item = (int)get_global_id(0);
    if (item >= rows) {
        return;
    }
    const int pz = item / bands;
    const int oyA = (item - pz * bands) * CF_BAND;
    const int oyB = min(OH, oyA + CF_BAND);
    if (OW <= CF_ROW && OW >= VEC && W >= VEC) {
        staged_band(in, out, D, H, W, OD, OH, OW, pz, oyA, oyB);
        return;
    }
    for (int oy = oyA; oy < oyB; ++oy) {
        pool_row(in, out, D, H, W, OD, OH, OW, inEnd, pz, oy);
    }
#elif ROWLOOP && defined(CF_FLAT)
    /* rows = planes: a work item owns a plane. */
    const int plane = (int)get_global_id(0);
    if (plane >= rows) {
        return;
    }
    /* The first and last planes of a launch, whose row sums would read outside its buffer, go
       row by row (pool_row: its rows at the buffer's ends take one output at a time, as before). */
    const int P = H * W;
    if ((long)plane * P < PAD_L || (long)(plane + 1) * P + (KW - 1 - PAD_L) > inEnd) {
        for (int oy = 0; oy < OH; ++oy) {
            pool_row(in, out, D, H, W, OD, OH, OW, inEnd, plane, oy);
        }
        return;
    }
    flat_plane(in, out, H, W, plane);
#elif ROWLOOP
    const int row = (int)get_global_id(0);
    if (row >= rows) {
        return;
    }
    const int pz = row / OH; /* plane * OD + oz */
    pool_row(in, out, D, H, W, OD, OH, OW, inEnd, pz, row - pz * OH);
#else
    const int ox = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int pz = (int)get_global_id(2);
    if (ox >= OW || oy >= OH) {
        return;
    }
    pool_one(in, out, D, H, W, window_of(D, H, W, OD, pz, oy), ox, (pz * OH + oy) * OW + ox);
#endif
}
