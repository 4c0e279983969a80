/*
 * clpool: global pooling (avg, max) of channels-first planes: each of the `planes` contiguous
 * planes of `size` elements reduced to one value, read along the plane (no one-channel view, no
 * transpose). For CPU devices (PoCL): one work item per plane streams through it VEC elements at a
 * time (LOADU: vectors at any element offset; max in four independent chains), then the tail
 * one at a time.
 *
 * Required macros (the host passes every one; see dev.clpool.opencl.KernelOptions#globalPlanar):
 *   MODE_MAX | MODE_AVG   exactly one
 *   VEC                   elements per vector step: 2, 4, 8 or 16
 *   ACC_DOUBLE            1: sums in double; 0: Neumaier-compensated float sums (common.cl)
 *   ROWLOOP               1 (the row-loop vectors of common.cl)
 *
 * Accuracy (SEMANTICS.md): avg sums lane by lane (in double: two chains of vectors, added, then
 * the lanes pairwise; compensated float: one chain, then the lanes in order), then the tail, and
 * divides once by the plane size. max must equal a sequential scan's result bit for bit (the first NaN, else the
 * first maximum in scan order), which lane-wise maxima do not give for the two cases where equal
 * values differ in bits: NaN payloads and signed zeros. The lanes' result is NaN exactly when the
 * plane holds a NaN and compares equal to the true maximum otherwise, so only when it is NaN or
 * zero is the plane scanned once more, for its first NaN or its first zero: the scan's answer.
 *
 * global_planar(in, out, size, planes): range (planes rounded up to the work group).
 */

#if !ROWLOOP || VEC < 2
#error "global_planar runs with ROWLOOP 1 and VEC > 1"
#endif

/* The lanes of a vector, one at a time. */
typedef union {
    floatv v;
    float e[VEC];
} lanes_f;

__kernel void global_planar(__global const storage_t *restrict in, __global storage_t *restrict out,
                            const int size, const int planes)
{
    const int q = (int)get_global_id(0);
    if (q >= planes) {
        return; /* past the end: the range is rounded up to the work group */
    }
    const int base = q * size;
    const int vend = size - size % VEC;

#if defined(MODE_MAX)
    /* Four independent chains of updates, then one: each lane's maximum has the right value,
       which is all that the rescan below needs. */
    floatv m0 = (floatv)(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    int i = 0;
    for (; i + 4 * VEC <= vend; i += 4 * VEC) {
        const floatv v0 = LOADU(in, base + i);
        const floatv v1 = LOADU(in, base + i + VEC);
        const floatv v2 = LOADU(in, base + i + 2 * VEC);
        const floatv v3 = LOADU(in, base + i + 3 * VEC);
        MAX_UPDATE(m0, v0);
        MAX_UPDATE(m1, v1);
        MAX_UPDATE(m2, v2);
        MAX_UPDATE(m3, v3);
    }
    for (; i < vend; i += VEC) {
        const floatv v = LOADU(in, base + i);
        MAX_UPDATE(m0, v);
    }
    MAX_UPDATE(m0, m1);
    MAX_UPDATE(m2, m3);
    MAX_UPDATE(m0, m2);
    lanes_f m;
    m.v = m0;
    float r = -INFINITY;
    for (int k = 0; k < VEC; ++k) {
        r = (!(m.e[k] <= r) && r == r) ? m.e[k] : r;
    }
    for (i = vend; i < size; ++i) {
        const float v = LOAD1(in, base + i);
        r = (!(v <= r) && r == r) ? v : r;
    }
    if (r != r || r == 0.0f) {
        /* The first NaN, or the first zero (of either sign): the scan's answer. */
        const int nan = r != r;
        for (int j = 0; j < size; ++j) {
            const float v = LOAD1(in, base + j);
            if (nan ? v != v : v == 0.0f) {
                r = v;
                break;
            }
        }
    }
    STORE1(r, out, q);

#elif defined(MODE_AVG)
#if ACC_DOUBLE
    /* Two chains of vector sums, then the lanes pairwise: on small planes (ResNet-50's 7x7) a
       chain of one vector add per 8 elements and VEC - 1 scalar adds after it was the cost. */
    accv s0 = (accv)(0), s1 = (accv)(0);
    int i = 0;
    for (; i + 2 * VEC <= vend; i += 2 * VEC) {
        s0 += TO_ACC(LOADU(in, base + i));
        s1 += TO_ACC(LOADU(in, base + i + VEC));
    }
    if (i < vend) {
        s0 += TO_ACC(LOADU(in, base + i));
    }
    const accv s = s0 + s1;
#if VEC == 16
    const double8 h8 = s.lo + s.hi;
#elif VEC == 8
    const double8 h8 = s;
#endif
#if VEC >= 8
    const double4 h4 = h8.lo + h8.hi;
#elif VEC == 4
    const double4 h4 = s;
#endif
#if VEC >= 4
    const double2 h2 = h4.lo + h4.hi;
#else
    const double2 h2 = s;
#endif
    double total = h2.x + h2.y;
    for (i = vend; i < size; ++i) {
        total += (double)LOAD1(in, base + i);
    }
    STORE1((float)(total / (double)size), out, q);
#else
    ACC_INIT(sum);
    for (int i = 0; i < vend; i += VEC) {
        ACC_ADD(sum, TO_ACC(LOADU(in, base + i)));
    }
    union {
        accv v;
#if ACC_DOUBLE
        double e[VEC];
#else
        float e[VEC];
#endif
    } lanes;
    lanes.v = ACC_TOTAL(sum);
    ACC1_INIT(total);
    for (int k = 0; k < VEC; ++k) {
        ACC1_ADD(total, lanes.e[k]);
    }
    for (int i = vend; i < size; ++i) {
        ACC1_ADD(total, (acc1)LOAD1(in, base + i));
    }
    STORE1((float)(ACC1_TOTAL(total) / (acc1)size), out, q);
#endif

#else
#error "define MODE_MAX or MODE_AVG"
#endif
}
