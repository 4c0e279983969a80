/*
 * clpool: global pooling (avg, max) over the whole H x W plane of NHWC float32 tensors, as a
 * two-pass reduction. Pass 1 (global_partial): the plane's pixels are split into `chunks`
 * contiguous runs; one work item reduces CB * VEC adjacent channels over one run, so there are
 * enough work items to fill every compute unit even when N * C is small. GPUs use CB = 1
 * (neighbouring work items read neighbouring channels); CPU devices a larger CB, so that one work
 * item streams through contiguous memory. Pass 2 (global_final): one work item combines the runs
 * of VEC channels in order and writes the result.
 *
 * The host prepends common.cl. Required macros:
 *   MODE_MAX | MODE_AVG   exactly one
 *   VEC, ACC_DOUBLE       see common.cl; C % VEC == 0
 *   CB                    channel vectors per work item in pass 1; C % (CB * VEC) == 0
 *   FINAL                 1: one run per plane (chunks == 1), so pass 1 writes the results itself
 *                         to its second argument (then a float output) and pass 2 is not run
 *
 * Accuracy (SEMANTICS.md): avg sums in double when the device has fp64; otherwise each run is a
 * Neumaier-compensated float sum and the runs are combined the same way. max keeps the first
 * NaN and the first maximum, so the chunked result equals a sequential scan bit for bit.
 *
 * global_partial(in, partial, HW, C, chunk, chunks): range (C / (VEC * CB), chunks rounded up to the
 *                                                   work group, N); the rounding returns at once
 * global_final(partial, out, HW, C, chunks):         range (C / VEC, N)
 * global_avg_rows(in, out, HW, C):                   range (N), local 1; with ROWS (see below)
 */

#if defined(MODE_MAX)
typedef floatv partv;
typedef float part_t;
#elif defined(MODE_AVG)
typedef accv partv;
#if ACC_DOUBLE
typedef double part_t;
#else
typedef float part_t;
#endif
#else
#error "define MODE_MAX or MODE_AVG"
#endif

#ifndef FINAL
#define FINAL 0
#endif

#if VEC == 1
#define LOADP(p, off) ((p)[off])
#define STOREP(v, p, off) ((p)[off] = (v))
#else
#define LOADP(p, off) CAT(vload, VEC)(0, (p) + (off))
#define STOREP(v, p, off) CAT(vstore, VEC)((v), 0, (p) + (off))
#endif

__kernel void global_partial(__global const storage_t *restrict in, __global part_t *restrict partial,
                             const int HW, const int C, const int chunk, const int chunks)
{
    const int c0 = (int)get_global_id(0) * (VEC * CB);
    const int k = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    if (k >= chunks) {
        return;
    }
    const int p0 = k * chunk;
    const int p1 = min(p0 + chunk, HW);
    const int base = n * HW * C + c0;

#if defined(MODE_MAX)
    floatv m[CB];
#pragma unroll
    for (int b = 0; b < CB; ++b) {
        m[b] = (floatv)(-INFINITY);
    }
    for (int p = p0; p < p1; ++p) {
#pragma unroll
        for (int b = 0; b < CB; ++b) {
            const floatv v = LOADV(in, base + p * C + b * VEC);
            MAX_UPDATE(m[b], v);
        }
    }
#pragma unroll
    for (int b = 0; b < CB; ++b) {
#if FINAL
        STOREV(m[b], (__global storage_t *)partial, n * C + c0 + b * VEC);
#else
        STOREP(m[b], partial, (n * chunks + k) * C + c0 + b * VEC);
#endif
    }
#else
    accv sum[CB];
#if !ACC_DOUBLE
    accv comp[CB];
#endif
#pragma unroll
    for (int b = 0; b < CB; ++b) {
        sum[b] = (accv)(0);
#if !ACC_DOUBLE
        comp[b] = (accv)(0);
#endif
    }
    for (int p = p0; p < p1; ++p) {
#pragma unroll
        for (int b = 0; b < CB; ++b) {
            const accv v = TO_ACC(LOADV(in, base + p * C + b * VEC));
#if ACC_DOUBLE
            sum[b] += v;
#else
            COMPENSATED_ADD(sum[b], comp[b], v);
#endif
        }
    }
#pragma unroll
    for (int b = 0; b < CB; ++b) {
#if !ACC_DOUBLE
        sum[b] = COMPENSATED_TOTAL(sum[b], comp[b]);
#endif
#if FINAL
        STOREV(TO_FLOAT(sum[b] / (accv)(HW)), (__global storage_t *)partial, n * C + c0 + b * VEC);
#else
        STOREP(sum[b], partial, (n * chunks + k) * C + c0 + b * VEC);
#endif
    }
#endif
}

__kernel void global_final(__global const part_t *restrict partial, __global storage_t *restrict out,
                           const int HW, const int C, const int chunks)
{
    const int c = (int)get_global_id(0) * VEC;
    const int n = (int)get_global_id(1);
    const int base = n * chunks * C + c;

#if defined(MODE_MAX)
    floatv m = (floatv)(-INFINITY);
    for (int k = 0; k < chunks; ++k) {
        const floatv v = LOADP(partial, base + k * C);
        MAX_UPDATE(m, v);
    }
    STOREV(m, out, n * C + c);
#else
    accv sum = (accv)(0);
#if !ACC_DOUBLE
    accv comp = (accv)(0);
#endif
    for (int k = 0; k < chunks; ++k) {
        const accv v = LOADP(partial, base + k * C);
#if ACC_DOUBLE
        sum += v;
#else
        COMPENSATED_ADD(sum, comp, v);
#endif
    }
#if !ACC_DOUBLE
    sum = COMPENSATED_TOTAL(sum, comp);
#endif
    STOREV(TO_FLOAT(sum / (accv)(HW)), out, n * C + c);
#endif
}

#if defined(MODE_AVG) && ACC_DOUBLE && defined(ROWS) && ROWS > 1
/*
 * global_avg_rows(in, out, HW, C): range (N), one work item per batch item (CPU devices, where a
 * work item is a loop on one thread). The item's plane is read front to back as one stream of
 * whole pixels, ROWS pixels at a time; every channel's double sum lives in a private array (at
 * most ROW_ACC vectors: 16 KB of doubles at VEC 16, in L1) and takes its pixels one by one in
 * plane order, as global_partial's does, so the results are the same bits. global_partial gives
 * each work item CB channel vectors and walks its pixels C floats apart: on ResNet-50's and
 * MobileNet's 7x7 heads 49 runs of 1 KB, each a new stream for the prefetchers.
 * Requires C % VEC == 0 and C / VEC <= ROW_ACC.
 */
__kernel void global_avg_rows(__global const storage_t *restrict in, __global storage_t *restrict out,
                              const int HW, const int C)
{
    const int n = (int)get_global_id(0);
    const int cv = C / VEC;
    __global const storage_t *plane = in + (long)n * HW * C;
    accv acc[ROW_ACC];
    for (int j = 0; j < cv; ++j) {
        acc[j] = (accv)(0);
    }
    int p = 0;
    for (; p + ROWS <= HW; p += ROWS) {
        __global const storage_t *row = plane + (long)p * C;
        for (int j = 0; j < cv; ++j) {
            accv s = acc[j];
#pragma unroll
            for (int r = 0; r < ROWS; ++r) {
                s += TO_ACC(LOADV(row, r * C + j * VEC));
            }
            acc[j] = s;
        }
    }
    for (; p < HW; ++p) {
        __global const storage_t *row = plane + (long)p * C;
        for (int j = 0; j < cv; ++j) {
            acc[j] += TO_ACC(LOADV(row, j * VEC));
        }
    }
    for (int j = 0; j < cv; ++j) {
        STOREV(TO_FLOAT(acc[j] / (accv)(HW)), out, n * C + j * VEC);
    }
}
#endif
