/*
 * clpool: max unpooling (SEMANTICS.md "Unpooling") for spatial rank 1-3 in either layout: each
 * value is copied, bit for bit, to the output element its int64 index names, decoded in the
 * output's shape; every other element is zero; of several values naming one element, the last in
 * the values' channels-last order (n, spatial, c) wins, whatever the layout. Deterministic without
 * ordering work items: the winner of an element is the atomic_max of the channels-last positions
 * of the values that name it.
 *
 * Three kernels over 1-D ranges of a few work items per compute unit, each work item looping over
 * its share of the elements (EACH): a contiguous run with CONTIGUOUS (CPU devices, where a work
 * item per element made PoCL schedule ~10^6 work groups), else every G-th element (G the global
 * size: neighbouring work items touch neighbouring elements):
 *   unpool_init(winner, bad, OT)                      winner[0..OT) = -1, bad[0] = INT_MAX
 *   unpool_scatter(idx, winner, bad, VT, N, C, VS, OD, OH, OW)
 *                     decodes the index of each value (storage offset s < VT): a bad one records
 *                     its channels-last position in bad with atomic_min (the host reads it and
 *                     refuses the input before anything is written); a good one atomic_max-es its
 *                     position into winner at the target's storage offset
 *   unpool_gather(values, winner, out, OT, C, VS)     out[o] = winner[o] < 0 ? 0 : that value
 * VT, OT: elements of the values and of the output; VS: the values' spatial size; OD, OH, OW: the
 * output's spatial sizes (1 for the axes a lower rank lacks). Offsets are ints: the host keeps
 * every buffer within 2^31-1 elements; indices are range-checked as longs, then decoded as ints.
 *
 * Required macros:
 *   INDEX_CONVENTION  0 nhwc (within the value's batch item, channels-last), 1 pytorch (within its
 *                     (n, c) plane), 2 onnx (whole tensor, channels-first), 3 onnx-column-major
 *                     (as onnx, spatial axes reversed)
 *   CHANNELS_FIRST    1: both tensors are (N, C, spatial); 0: (N, spatial, C)
 *   ELEMENT_BITS      32 or 16: the storage type's width (values are moved as raw bits)
 *   CONTIGUOUS        1: a work item's elements are one contiguous run; 0: strided by the global size
 * The host prepends common.cl and passes -D VEC=1 -D ACC_DOUBLE=0 (unused here).
 */

#if CONTIGUOUS
#define EACH(i, total)                                                                           \
    const long per_ = ((long)(total) + (long)get_global_size(0) - 1) / (long)get_global_size(0); \
    const long end_ = min((long)(total), ((long)get_global_id(0) + 1) * per_);                   \
    for (long i = (long)get_global_id(0) * per_; i < end_; ++i)
#else
#define EACH(i, total) for (long i = (long)get_global_id(0); i < (long)(total); i += (long)get_global_size(0))
#endif

#if ELEMENT_BITS == 32
typedef uint bits_t;
#elif ELEMENT_BITS == 16
typedef ushort bits_t;
#else
#error "ELEMENT_BITS must be 32 or 16"
#endif

__kernel void unpool_init(__global int *restrict winner, __global int *restrict bad, const int OT)
{
    if (get_global_id(0) == 0) {
        bad[0] = INT_MAX;
    }
    EACH(o, OT) {
        winner[o] = -1;
    }
}

/*
 * The storage offset in the output of index i of a value of item n, channel c; -1 if none. Only
 * the range check needs long: every offset in range fits an int (the host keeps each buffer
 * within 2^31-1 elements), and int divisions are several times cheaper than long ones.
 */
static int unpool_target(const long i, const int n, const int c, const int N, const int C,
                         const int OD, const int OH, const int OW)
{
    const int plane = OD * OH * OW;
    int tn = n;
    int tc;
    int tq;
#if INDEX_CONVENTION == 0
    if (i < 0 || i >= (long)plane * C) {
        return -1;
    }
    tq = (int)i / C;
    tc = (int)i - tq * C;
#elif INDEX_CONVENTION == 1
    if (i < 0 || i >= (long)plane) {
        return -1;
    }
    tc = c;
    tq = (int)i;
#elif INDEX_CONVENTION == 2 || INDEX_CONVENTION == 3
    if (i < 0 || i >= (long)N * C * plane) {
        return -1;
    }
    const int p = (int)i / plane;
    tn = p / C;
    tc = p - tn * C;
    tq = (int)i - p * plane;
#if INDEX_CONVENTION == 3
    /* Column-major within the volume: the outermost axis varies fastest. */
    const int z = tq % OD;
    const int y = tq / OD % OH;
    const int x = tq / (OD * OH);
    tq = (z * OH + y) * OW + x;
#endif
#else
#error "INDEX_CONVENTION must be 0, 1, 2 or 3"
#endif
#if CHANNELS_FIRST
    return (tn * C + tc) * plane + tq;
#else
    return (tn * plane + tq) * C + tc;
#endif
}

__kernel void unpool_scatter(__global const long *restrict idx, __global int *restrict winner,
                             __global int *restrict bad, const int VT, const int N, const int C,
                             const int VS, const int OD, const int OH, const int OW)
{
    const int item = C * VS;
    EACH(i, VT) {
        const int s = (int)i;
        const int n = s / item;
        const int r = s - n * item;
#if CHANNELS_FIRST
        const int c = r / VS;
        const int q = r - c * VS;
#else
        const int q = r / C;
        const int c = r - q * C;
#endif
        const int p = (n * VS + q) * C + c; /* the channels-last position: what decides */
        const int t = unpool_target(idx[s], n, c, N, C, OD, OH, OW);
        if (t < 0) {
            atomic_min(bad, p);
        } else {
            atomic_max(winner + t, p);
        }
    }
}

__kernel void unpool_gather(__global const bits_t *restrict values, __global const int *restrict winner,
                            __global bits_t *restrict out, const int OT, const int C, const int VS)
{
    EACH(o, OT) {
        const int p = winner[o];
        bits_t v = 0;
        if (p >= 0) {
#if CHANNELS_FIRST
            const int c = p % C;
            const int nq = p / C;
            const int n = nq / VS;
            v = values[(n * C + c) * VS + (nq - n * VS)];
#else
            v = values[p];
#endif
        }
        out[o] = v;
    }
}
