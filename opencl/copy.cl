/*
 * clpool: a plain copy, the bandwidth reference of `clpool bench` (the faster of this kernel and
 * clEnqueueCopyBuffer). One work item copies one float16 (64 bytes); the host rounds the size
 * down to whole float16s and the range up to the work group, the rounding returning at once.
 *
 * The host prepends common.cl and passes -D VEC=16 -D ACC_DOUBLE=0 (unused here).
 *
 * copy16(src, dst, n16): range (n16 rounded up to the work group)
 */
__kernel void copy16(__global const float16 *restrict src, __global float16 *restrict dst, const int n16)
{
    const int i = (int)get_global_id(0);
    if (i < n16) {
        dst[i] = src[i];
    }
}

/*
 * A read-only pass, the reference for reductions (global pooling): every work item sums its share
 * of the float16s and writes one float16, so the bytes written are negligible. With CONTIGUOUS
 * (CPU devices) a work item's share is one contiguous run; otherwise (GPUs) it is i, i + G,
 * i + 2G, ... (G = the global size), so that neighbouring work items read neighbouring data.
 *
 * read16(src, dst, n16): range (G)
 */
#ifndef CONTIGUOUS
#define CONTIGUOUS 0
#endif
__kernel void read16(__global const float16 *restrict src, __global float16 *restrict dst, const int n16)
{
    const int g = (int)get_global_size(0);
    const int id = (int)get_global_id(0);
    float16 acc = (float16)(0.0f);
#if CONTIGUOUS
    const int per = (n16 + g - 1) / g;
    const int end = min(n16, (id + 1) * per);
    for (int i = id * per; i < end; ++i) {
        acc += src[i];
    }
#else
    for (int i = id; i < n16; i += g) {
        acc += src[i];
    }
#endif
    dst[id] = acc;
}
