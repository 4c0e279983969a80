/*
 * clpool: definitions shared by every kernel file; the host prepends this file to each program.
 *
 * Required macros:
 *   VEC         elements per work item along C: 1, 2, 4, 8 or 16
 *   ACC_DOUBLE  1: accumulate in double (the device has cl_khr_fp64); 0: float with compensation
 *
 * Defines floatv / intv (VEC-wide float and its comparison type), accv (the accumulator),
 * LOADV / STOREV (VEC-wide loads and stores at an element offset), TO_ACC / TO_FLOAT.
 */

#if ACC_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if VEC == 1
typedef float floatv;
typedef int intv;
#define LOADV(p, off) ((p)[off])
#define STOREV(v, p, off) ((p)[off] = (v))
#if ACC_DOUBLE
typedef double accv;
#define TO_ACC(x) convert_double(x)
#define TO_FLOAT(x) convert_float(x)
#endif
#else
typedef CAT(float, VEC) floatv;
typedef CAT(int, VEC) intv;
#define LOADV(p, off) CAT(vload, VEC)(0, (p) + (off))
#define STOREV(v, p, off) CAT(vstore, VEC)((v), 0, (p) + (off))
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


/* m = max(m, v) under clpool's rule: a strictly larger value replaces m (so the first maximum
   in scan order is kept), and the first NaN replaces anything and is never replaced.
   Written as "v is not <= m (greater, or v is NaN), and m is not NaN": two compares and a
   select, where the spelled-out (v > m) | (isnan(v) & !isnan(m)) costs three compares more.
   The rule is associative, so any grouping that keeps the scan order gives the same bits. */
#define MAX_UPDATE(m, v) ((m) = select((m), (v), (intv)(!((v) <= (m)) & ((m) == (m)))))

/* sum += v with Neumaier compensation in comp (float accumulators); COMPENSATED_TOTAL adds
   comp at the end. Once the sum is infinite or NaN, comp is meaningless (inf - inf): the plain
   sum is the answer then. */
#define COMPENSATED_ADD(sum, comp, v)                                                        \
    do {                                                                                      \
        const accv t_ = (sum) + (v);                                                          \
        (comp) += select((v) - t_ + (sum), (sum) - t_ + (v), (intv)(fabs(sum) >= fabs(v)));  \
        (sum) = t_;                                                                           \
    } while (0)

#define COMPENSATED_TOTAL(sum, comp) select((sum) + (comp), (sum), (intv)(!isfinite(sum)))
