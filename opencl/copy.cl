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
