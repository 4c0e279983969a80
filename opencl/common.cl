/*
 * clpool: definitions shared by every kernel file; the host prepends this file to each program.
 *
 * Required macros:
 *   VEC         elements per work item along C: 1, 2, 4, 8 or 16
 *   ACC_DOUBLE  1: accumulate in double (the device has cl_khr_fp64); 0: float with compensation
 * Optional:
 *   STORAGE     how tensors are stored: 0 float (default), 1 half (IEEE binary16), 2 bfloat16
 *
 * Defines floatv / intv (VEC-wide float and its comparison type), accv (the accumulator),
 * storage_t (the element type of tensor pointers), LOADV / STOREV (VEC-wide loads and stores of
 * tensor elements at an element offset, always as floatv), TO_ACC / TO_FLOAT; and, whatever VEC
 * is, LOAD1 / STORE1 (one element, as float) and acc1 with ACC1_* (the scalar accumulator).
 *
 * Storage: kernels compute in float whatever STORAGE is. LOADV widens exactly; STOREV rounds a
 * floatv once, to nearest with ties to even (overflow gives infinity, NaN stays a quiet NaN with
 * its sign and top payload bits), bit for bit as dev.clpool.Float16 / BFloat16 do on the host.
 *   half:     ushort bits, converted with integer and float operations in lanes (see below):
 *             no cl_khr_fp16 and no vload_half / vstore_half_rte needed.
 *   bfloat16: ushort bits; a load shifts them into the top of a float, a store rounds on the bits.
 */

#if ACC_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if VEC == 1
typedef float floatv;
typedef int intv;
#if ACC_DOUBLE
typedef double accv;
#define TO_ACC(x) convert_double(x)
#define TO_FLOAT(x) convert_float(x)
#endif
#else
typedef CAT(float, VEC) floatv;
typedef CAT(int, VEC) intv;
#if ACC_DOUBLE
typedef CAT(double, VEC) accv;
#define TO_ACC(x) CAT(convert_double, VEC)(x)
#define TO_FLOAT(x) CAT(convert_float, VEC)(x)
#endif
#endif

#if !ACC_DOUBLE
typedef floatv accv;
#define TO_ACC(x) (x)
#define TO_FLOAT(x) (x)
#endif

/* ---- storage: storage_t, LOADV, STOREV ---- */

#ifndef STORAGE
#define STORAGE 0
#endif

/* VEC-wide loads and stores of a pointer's own element type. */
#if VEC == 1
#define LOAD_RAW(p, off) ((p)[off])
#define STORE_RAW(v, p, off) ((p)[off] = (v))
#else
#define LOAD_RAW(p, off) CAT(vload, VEC)(0, (p) + (off))
#define STORE_RAW(v, p, off) CAT(vstore, VEC)((v), 0, (p) + (off))
#endif

#if STORAGE != 0
/* VEC-wide unsigned types for the bit manipulation of 16-bit storage. */
#if VEC == 1
typedef uint st_uintv;
typedef ushort st_ushortv;
#define ST_AS_FLOATV(x) as_float(x)
#define ST_AS_UINTV(x) as_uint(x)
#define ST_TO_UINTV(x) convert_uint(x)
#define ST_TO_USHORTV(x) convert_ushort(x)
#else
typedef CAT(uint, VEC) st_uintv;
typedef CAT(ushort, VEC) st_ushortv;
#define ST_AS_FLOATV(x) CAT(as_float, VEC)(x)
#define ST_AS_UINTV(x) CAT(as_uint, VEC)(x)
#define ST_TO_UINTV(x) CAT(convert_uint, VEC)(x)
#define ST_TO_USHORTV(x) CAT(convert_ushort, VEC)(x)
#endif
#endif

#if STORAGE == 0
typedef float storage_t;
#define LOADV(p, off) LOAD_RAW(p, off)
#define STOREV(v, p, off) STORE_RAW(v, p, off)
#define LOAD1(p, off) ((p)[off])
#define STORE1(v, p, off) ((p)[off] = (v))

#elif STORAGE == 1
/* IEEE binary16 as ushort bits, converted here with integer operations rather than through
   vload_half(n) / vstore_half(n)_rte: on PoCL 3.1 (CPU devices) those cost more than the pooling
   itself (the guided filter's float16 3x3 average, 8x19x19x512: 3.6 ms through them, 1.2 ms with
   these, 0.46 ms in float32), while these are a few lane-wise operations on any device and need
   no half support at all. Bit for bit dev.clpool.Float16:
   - load: a normal half moves its exponent and mantissa into place and rebiases the exponent; a
     subnormal (and zero) is its mantissa times 2^-24, exact in float; infinity keeps its sign;
     NaN is a quiet NaN with the half's sign and payload;
   - store: to nearest with ties to even. A normal result adds half an ulp less one, plus the
     kept mantissa's last bit, and shifts (a carry into the exponent is right, up to infinity
     from 65520); one below 2^-14 is rounded by the float addition of 0.5, whose ulp is the
     half subnormals' step 2^-24; from 65536 up it is infinity; NaN keeps its sign and top
     10 payload bits and is made quiet. */
typedef ushort storage_t;
#define HALF_NAN_BITS(h) ((((h) & 0x8000u) << 16) | 0x7fc00000u | (((h) & 0x3ffu) << 13))
#define FLOAT_NAN_TO_HALF(u) ((((u) >> 16) & 0x8000u) | 0x7e00u | (((u) >> 13) & 0x3ffu))
inline float half_bits_to_float1(const uint h)
{
    const uint m = h & 0x7fffu;
    const uint sign = (h & 0x8000u) << 16;
    const float sub = convert_float((int)m) * 0x1p-24f;
    const uint mag = m >= 0x7c00u ? (m > 0x7c00u ? HALF_NAN_BITS(h) & 0x7fffffffu : 0x7f800000u)
                   : m >= 0x400u ? (m << 13) + 0x38000000u : as_uint(sub);
    return as_float(mag | sign);
}
inline ushort float_to_half_bits1(const float v)
{
    const uint u = as_uint(v);
    const uint a = u & 0x7fffffffu;
    const uint normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;
    const uint sub = as_uint(as_float(a) + 0.5f) - 0x3f000000u;
    const uint mag = a > 0x7f800000u ? FLOAT_NAN_TO_HALF(u) & 0x7fffu
                   : a >= 0x47800000u ? 0x7c00u : a < 0x38800000u ? sub : normal;
    return (ushort)(mag | ((u >> 16) & 0x8000u));
}
#define LOAD1(p, off) half_bits_to_float1((uint)(p)[off])
#define STORE1(v, p, off) ((p)[off] = float_to_half_bits1(v))
#if VEC == 1
#define half_bits_to_float half_bits_to_float1
#define float_to_half_bits float_to_half_bits1
#else
inline floatv half_bits_to_float(const st_uintv h)
{
    const st_uintv m = h & (st_uintv)(0x7fffu);
    const st_uintv sign = (h & (st_uintv)(0x8000u)) << 16;
    const st_uintv sub = ST_AS_UINTV(CAT(convert_float, VEC)(m) * 0x1p-24f);
    const st_uintv nan = (((h & (st_uintv)(0x3ffu)) << 13) | (st_uintv)(0x7fc00000u));
    const st_uintv inf = select(nan, (st_uintv)(0x7f800000u), m == (st_uintv)(0x7c00u));
    st_uintv mag = select((m << 13) + (st_uintv)(0x38000000u), sub, m < (st_uintv)(0x400u));
    mag = select(mag, inf, m >= (st_uintv)(0x7c00u));
    return ST_AS_FLOATV(mag | sign);
}
inline st_ushortv float_to_half_bits(const floatv v)
{
    const st_uintv u = ST_AS_UINTV(v);
    const st_uintv a = u & (st_uintv)(0x7fffffffu);
    const st_uintv normal = (a + (st_uintv)(0xc8000fffu) + ((a >> 13) & (st_uintv)(1u))) >> 13;
    const st_uintv sub = ST_AS_UINTV(ST_AS_FLOATV(a) + 0.5f) - (st_uintv)(0x3f000000u);
    st_uintv mag = select(normal, sub, a < (st_uintv)(0x38800000u));
    mag = select(mag, (st_uintv)(0x7c00u), a >= (st_uintv)(0x47800000u));
    mag = select(mag, FLOAT_NAN_TO_HALF(u) & (st_uintv)(0x7fffu), a > (st_uintv)(0x7f800000u));
    return ST_TO_USHORTV(mag | ((u >> 16) & (st_uintv)(0x8000u)));
}
#endif
#if defined(__clang__) && defined(__F16C__) && !defined(HALF_PORTABLE)
/* x86 with F16C (PoCL's CPU devices compile for the host's processor): clang's _Float16 vectors
   convert with one vcvtph2ps / vcvtps2ph each way, where the lane arithmetic above takes about
   fifteen operations; the kernels that read each 16-bit element several times (windows, regions)
   spent most of their time there. The same bits: the widening is exact (subnormals included, NaN
   quieted with its payload kept), the narrowing rounds to nearest even on the value (MXCSR's
   default mode, which PoCL leaves), with overflow to infinity and NaN quieted with its top payload
   bits, as the functions above (StorageDeviceIT checks every pattern both ways, and the rounding
   of computed values through every vector width). Elsewhere (GPUs, other processors) those functions.
   The narrowing sets a NaN's quiet bit on the result's bits once more: where LLVM sees a loaded
   element stored unchanged it folds the two conversions into a copy of the bits, which keeps a
   signalling NaN (the max of one tap did, before the widening's asm below). HALF_PORTABLE (the
   tuning's portableHalf, forced by the device tests) builds the lane arithmetic here too. */
#define HALF_F16C 1
inline ushort half_quiet1(const ushort r)
{
    return (r & 0x7fffu) > 0x7c00u ? (ushort)(r | 0x200u) : r;
}
#undef LOAD1
#undef STORE1
#define LOAD1(p, off) ((float)__builtin_bit_cast(_Float16, (ushort)(p)[off]))
#define STORE1(v, p, off) ((p)[off] = half_quiet1(__builtin_bit_cast(ushort, (_Float16)(float)(v))))
#if VEC == 1
#define HALF_BITS_TO_FLOATV(b) ((float)__builtin_bit_cast(_Float16, (ushort)(b)))
#define FLOATV_TO_HALF_BITS(v) half_quiet1(__builtin_bit_cast(ushort, (_Float16)(v)))
#else
typedef _Float16 st_halfv __attribute__((ext_vector_type(VEC)));
inline st_ushortv half_quiet(const st_ushortv r)
{
    return r | select((st_ushortv)(0), (st_ushortv)(0x200u), (r & (st_ushortv)(0x7fffu)) > (st_ushortv)(0x7c00u));
}
/* The widened vector goes through an empty asm: without it LLVM narrows a compare or select of
   two widened values back to half vectors (max: fcmp (fpext a), (fpext b) -> fcmp half), which x86
   without AVX512-FP16 runs lane by lane (YOLOv4's 9x9 max in float16 took 3.6x as long). Vectors
   of 16 as two of 8, so that the asm's operand fits an AVX register without AVX-512. (Scalars
   need none: a narrowed scalar compare costs what the float one does.) */
#if VEC == 16
typedef _Float16 st_half8 __attribute__((ext_vector_type(8)));
inline float8 half8_opaque(const ushort8 b)
{
    float8 f = __builtin_convertvector(__builtin_bit_cast(st_half8, b), float8);
    __asm__("" : "+x"(f));
    return f;
}
inline floatv half_widen(const st_ushortv b)
{
    return (floatv)(half8_opaque(b.lo), half8_opaque(b.hi));
}
#elif VEC == 2
inline floatv half_widen(const st_ushortv b)
{
    double f = as_double(__builtin_convertvector(__builtin_bit_cast(st_halfv, b), floatv));
    __asm__("" : "+x"(f)); /* a float2 has no register class of its own */
    return as_float2(f);
}
#else
inline floatv half_widen(const st_ushortv b)
{
    floatv f = __builtin_convertvector(__builtin_bit_cast(st_halfv, b), floatv);
    __asm__("" : "+x"(f));
    return f;
}
#endif
#define HALF_BITS_TO_FLOATV(b) half_widen((st_ushortv)(b))
#define FLOATV_TO_HALF_BITS(v) half_quiet(__builtin_bit_cast(st_ushortv, __builtin_convertvector((floatv)(v), st_halfv)))
#endif
#else
#define HALF_BITS_TO_FLOATV(b) half_bits_to_float(ST_TO_UINTV(b))
#define FLOATV_TO_HALF_BITS(v) float_to_half_bits(v)
#endif
#define LOADV(p, off) HALF_BITS_TO_FLOATV(LOAD_RAW(p, off))
#define STOREV(v, p, off) STORE_RAW(FLOATV_TO_HALF_BITS(v), p, off)

#elif STORAGE == 2
/* bfloat16 as ushort bits: a load shifts them into the top of a float (exact, NaN included);
   a store rounds to nearest with ties to even on the bit pattern (the carry into the exponent is
   right, up to infinity), and a NaN keeps its sign and top payload bits and is made quiet. */
typedef ushort storage_t;
inline st_ushortv bf16_round(const floatv v)
{
    const st_uintv u = ST_AS_UINTV(v);
    const st_uintv rounded = (u + (st_uintv)(0x7fffu) + ((u >> 16) & (st_uintv)(1u))) >> 16;
    const st_uintv quiet = (u >> 16) | (st_uintv)(0x40u);
    return ST_TO_USHORTV(select(rounded, quiet, (u & (st_uintv)(0x7fffffffu)) > (st_uintv)(0x7f800000u)));
}
/* The same rounding of one element (scalar select picks the second operand when c != 0). */
inline ushort bf16_round1(const float v)
{
    const uint u = as_uint(v);
    return (ushort)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
#define LOADV(p, off) ST_AS_FLOATV(ST_TO_UINTV(LOAD_RAW(p, off)) << 16)
#define STOREV(v, p, off) STORE_RAW(bf16_round(v), p, off)
#define LOAD1(p, off) as_float((uint)(p)[off] << 16)
#define STORE1(v, p, off) ((p)[off] = bf16_round1(v))

#else
#error "STORAGE must be 0 (float), 1 (half) or 2 (bfloat16)"
#endif


/* ---- the two layouts of the kernels over NHWC pixels (backward, max with indices, adaptive) ----
   CLOOP 1 (CPU devices): range (columns, rows), a work item loops over the channels VEC at a
   time; otherwise (GPUs): range (C / VEC, columns, rows), a work item takes one channel vector.
   PIXEL_COL / PIXEL_ROW are the work item's column and row, FOR_CHANNELS(c, C) runs its body
   for each first channel c of the work item's vectors. */
#if defined(CLOOP) && CLOOP
#define PIXEL_COL() ((int)get_global_id(0))
#define PIXEL_ROW() ((int)get_global_id(1))
#define FOR_CHANNELS(c, C) for (int c = 0; c < (C); c += VEC)
#else
#define PIXEL_COL() ((int)get_global_id(1))
#define PIXEL_ROW() ((int)get_global_id(2))
#define FOR_CHANNELS(c, C) for (int c = (int)get_global_id(0) * VEC, c##_once = 0; c##_once < 1; ++c##_once)
#endif

#if defined(ROWLOOP) && ROWLOOP && VEC > 1
/* ---- vectors at any element offset (the row-loop kernels: pool_planar, global_planar, backward_rows) ----
   A vector starts at any element. PoCL 3.1 compiled vloadn of some types (vload_halfn, when the
   half path used it) to an aligned move, which faults (SIGSEGV) where the address is not a
   multiple of the vector's size, though OpenCL asks only for the element's alignment; so these
   kernels move their vectors through packed structs, whose loads and stores the compiler makes
   unaligned ones. LOADU / STOREU are LOADV / STOREV at any element offset. */

/* Each lane's index, 0 .. VEC-1 (the row-loop kernels' lane offsets along W). */
#if VEC == 2
#define LANE_INDEX ((intv)(0, 1))
#elif VEC == 4
#define LANE_INDEX ((intv)(0, 1, 2, 3))
#elif VEC == 8
#define LANE_INDEX ((intv)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define LANE_INDEX ((intv)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#endif

/* The lanes of a vector one at a time (gathers, masked stores), and an int vector at any offset. */
typedef union {
    floatv v;
    float e[VEC];
} floatv_lanes;

typedef union {
    intv v;
    int e[VEC];
} intv_lanes;

typedef struct __attribute__((packed)) { intv v; } intv_u;

#if STORAGE == 0
typedef struct __attribute__((packed)) { floatv v; } floatv_u;
#define LOADU(p, off) (((__global const floatv_u *)((p) + (off)))->v)
#define STOREU(x, p, off) (((__global floatv_u *)((p) + (off)))->v = (x))
#else
typedef struct __attribute__((packed)) { st_ushortv v; } ushortv_u;
#define LOAD_BITS(p, off) (((__global const ushortv_u *)((__global const ushort *)(p) + (off)))->v)
#define STORE_BITS(b, p, off) (((__global ushortv_u *)((__global ushort *)(p) + (off)))->v = (b))
#if STORAGE == 1
#define LOADU(p, off) HALF_BITS_TO_FLOATV(LOAD_BITS(p, off))
#define STOREU(x, p, off) STORE_BITS(FLOATV_TO_HALF_BITS(x), p, off)
#else
#define LOADU(p, off) ST_AS_FLOATV(ST_TO_UINTV(LOAD_BITS(p, off)) << 16)
#define STOREU(x, p, off) STORE_BITS(bf16_round(x), p, off)
#endif
#endif
#endif

/* One axis' factor of the count_include_pad divisor: the taps start + j*d, j = 0..k-1, that lie
   before limit (the end of the trailing padding). SEMANTICS.md counts taps, not the span between
   the first and the last, so with dilation this is not min(start + e, limit) - start; without
   dilation the two agree. */
#define TAPS_BEFORE(start, k, d, limit) min((k), ((limit) - (start) + (d) - 1) / (d))

/* One axis' factor of the divisor without count_include_pad: the taps start + j*d, j = 0..k-1,
   that lie inside [0, limit) (the input along that axis). */
#define TAPS_INSIDE(start, k, d, limit) \
    (min((k), ((limit) - 1 - (start)) / (d) + 1) - ((start) >= 0 ? 0 : (-(start) + (d) - 1) / (d)))

/* m = max(m, v) under clpool's rule: a strictly larger value replaces m (so the first maximum
   in scan order is kept), and the first NaN replaces anything and is never replaced.
   Written as "v is not <= m (greater, or v is NaN), and m is not NaN": two compares and a
   select, where the spelled-out (v > m) | (isnan(v) & !isnan(m)) costs three compares more.
   The rule is associative, so any grouping that keeps the scan order gives the same bits. */
/* MAX_UPDATE's mask: where v replaces m, which is exactly where the maximum's bits change, so a
   position kept beside the maximum (the indices kernels) follows the same choice. */
#define MAX_TAKES(m, v) ((intv)(!((v) <= (m)) & ((m) == (m))))
#define MAX_UPDATE(m, v) ((m) = select((m), (v), MAX_TAKES(m, v)))

/* sum += v with Neumaier compensation in comp (float accumulators); COMPENSATED_TOTAL adds
   comp at the end. Once the sum is infinite or NaN, comp is meaningless (inf - inf): the plain
   sum is the answer then. */
#define COMPENSATED_ADD(sum, comp, v) COMPENSATED_ADD_T(accv, intv, sum, comp, v)
#define COMPENSATED_TOTAL(sum, comp) COMPENSATED_TOTAL_T(intv, sum, comp)

/* The same for sums of type T (float or floatN) with comparison type I (int or intN). */
#define COMPENSATED_ADD_T(T, I, sum, comp, v)                                                  \
    do {                                                                                        \
        const T v_ = (v);                                                                       \
        const T t_ = (sum) + v_;                                                                \
        (comp) += select(v_ - t_ + (sum), (sum) - t_ + v_, (I)(fabs(sum) >= fabs(v_)));         \
        (sum) = t_;                                                                             \
    } while (0)
#define COMPENSATED_TOTAL_T(I, sum, comp) select((sum) + (comp), (sum), (I)(!isfinite(sum)))

/* An accumulator that hides the choice above: ACC_INIT(s) declares sum s (and, for float, its
   compensation), ACC_ADD(s, v) adds an accv, ACC_TOTAL(s) is the finished sum. */
#if ACC_DOUBLE
#define ACC_INIT(s) accv s = (accv)(0)
#define ACC_ADD(s, v) ((s) += (v))
#define ACC_TOTAL(s) (s)
#else
#define ACC_INIT(s) accv s = (accv)(0), s##_comp = (accv)(0)
#define ACC_ADD(s, v) COMPENSATED_ADD(s, s##_comp, v)
#define ACC_TOTAL(s) COMPENSATED_TOTAL(s, s##_comp)
#endif

/* The scalar accumulator, whatever VEC is: acc1 and ACC1_INIT / ACC1_ADD / ACC1_TOTAL, as above. */
#if ACC_DOUBLE
typedef double acc1;
#define ACC1_INIT(s) acc1 s = 0.0
#define ACC1_ADD(s, v) ((s) += (v))
#define ACC1_TOTAL(s) (s)
#else
typedef float acc1;
#define ACC1_INIT(s) acc1 s = 0.0f, s##_comp = 0.0f
#define ACC1_ADD(s, v) COMPENSATED_ADD_T(float, int, s, s##_comp, v)
#define ACC1_TOTAL(s) COMPENSATED_TOTAL_T(int, s, s##_comp)
#endif

/* LP's unscaled terms (LP_DIRECT, double accumulators: pool2d_nhwc.cl, pool_planar.cl):
   LP_TERM(a) is |x|^p of a = |x| as a double, LP_ROOT(s) the sum's p-th root. */
#if defined(LP_SQUARE)
#define LP_TERM(a) ((a) * (a))
#define LP_ROOT(s) sqrt(s)
#elif defined(LP_P)
#define LP_TERM(a) pow((a), (double)(LP_P))
#define LP_ROOT(s) pow((s), 1.0 / (double)(LP_P))
#endif
