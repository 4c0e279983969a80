package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.FloatBuffer;

/**
 * Global max, average and LP pooling of channels-first planes: each plane a contiguous run of
 * floats, one result per plane.
 *
 * <p>Large planes go to {@link CpuGlobal} viewed as channels-last with one channel and the plane
 * as one row: its lanes then run along the plane, which is what they need to vectorise. Small
 * planes (such as the 7×7 of a classifier's last layer) would leave it one lane per plane, and
 * are reduced here instead, a block of planes staged at a time, each plane in scalar loops with
 * four independent accumulators (a reduction within one short run does not vectorise; four chains
 * keep the adder busy where one would wait on each addition's latency). The average sums in double
 * (as the reference does, so nothing needs certifying). Max halves each plane with vectorised
 * {@link Math#max(float, float)} folds ({@link #maxOf}) and takes a zero or NaN result's bits from
 * the plane's first zero or NaN, which is what clpool's rule keeps.
 */
final class PlaneGlobal {
    /** Planes of at least this many floats go to {@link CpuGlobal}. */
    static final int LARGE_PLANE = 1 << 12;
    /** Floats staged per bulk copy. */
    private static final int STAGE_FLOATS = 1 << 14;

    private PlaneGlobal() {
    }

    /** Planes per staged block. */
    private static int block(int size) {
        return Math.max(1, STAGE_FLOATS / size);
    }

    static void max(CpuBackend cpu, FloatBuffer in, FloatBuffer out, int planes, int size) {
        if (size >= LARGE_PLANE) {
            CpuGlobal.max(cpu, Shape.of(planes, 1, size, 1), in, out);
            return;
        }
        int per = block(size);
        cpu.chunks((planes + per - 1) / per, (long) per * size, (from, to) -> {
            Scratch s = Scratch.get();
            float[] half = s.floats(0, Math.max(size, 8));
            float[] tmp = s.floats(1, size);
            float[] result = s.floats(2, per);
            for (int b = from; b < to; b++) {
                int p0 = b * per;
                int count = Math.min(per, planes - p0);
                for (int q = 0; q < count; q++) {
                    result[q] = maxOf(in, (p0 + q) * size, size, half, tmp);
                }
                out.put(p0, result, 0, count);
            }
        });
    }

    /** One plane's result from its {@code size} floats at {@code from} in {@code a}. */
    @FunctionalInterface
    private interface Reduction {
        float of(float[] a, int from, int size);
    }

    /** Small planes: blocks of whole planes staged at a time, each plane reduced by {@code r}. */
    private static void small(CpuBackend cpu, FloatBuffer in, FloatBuffer out, int planes, int size, Reduction r) {
        int per = block(size);
        cpu.chunks((planes + per - 1) / per, (long) per * size, (from, to) -> {
            float[] stage = Scratch.get().floats(0, per * size);
            float[] result = Scratch.get().floats(1, per);
            for (int b = from; b < to; b++) {
                int p0 = b * per;
                int count = Math.min(per, planes - p0);
                in.get(p0 * size, stage, 0, count * size);
                for (int q = 0; q < count; q++) {
                    result[q] = r.of(stage, q * size, size);
                }
                out.put(p0, result, 0, count);
            }
        });
    }

    /**
     * The maximum of the {@code size} floats at {@code at} of {@code in}, by halving: the plane's
     * first half is staged into {@code a} and its second into {@code tmp} and folded with
     * {@code Math.max}, then the first half of what is left is folded with a copy of its second,
     * and so on down to eight, which are folded pairwise. Folds of two arrays at the same index
     * vectorise; {@code m = max(m, x)} over the plane, even in four chains, is a reduction that C2
     * compiles on x86 to compare-and-branch code, which followed the data (CBAM's 56×56 planes:
     * twice the channels-last time on random data). A zero or NaN result becomes the plane's first
     * zero or NaN ({@link #firstZeroOrNaN}), clpool's rule.
     */
    private static float maxOf(FloatBuffer in, int at, int size, float[] a, float[] tmp) {
        int n = size - size / 2;
        in.get(at, a, 0, n);
        in.get(at + n, tmp, 0, size / 2);
        fold(a, tmp, size / 2);
        while (n > 8) {
            int h = n / 2;
            n -= h;
            System.arraycopy(a, n, tmp, 0, h);
            fold(a, tmp, h);
        }
        for (int i = n; i < 8; i++) {
            a[i] = Float.NEGATIVE_INFINITY;
        }
        float m = Math.max(Math.max(Math.max(a[0], a[1]), Math.max(a[2], a[3])),
                Math.max(Math.max(a[4], a[5]), Math.max(a[6], a[7])));
        return m > 0 || m < 0 ? m : firstZeroOrNaN(in, at, size, m);
    }

    /**
     * clpool's rule over a plane whose {@code Math.max} is {@code m}, zero or NaN: the first NaN in
     * scan order if {@code m} is NaN ({@code Math.max} is NaN exactly when the plane holds one, and
     * the rule keeps the first), else the first zero, either sign (every element is at most zero,
     * and a later zero is not strictly greater than an earlier one). One scan that stops at the
     * element: on all-zero planes the first. The test for a −0 or NaN in the plane it replaces (a
     * division per element, {@link MaxExact}) made CBAM's all-zero channels-first row 2.1× its
     * random-data time.
     */
    static float firstZeroOrNaN(FloatBuffer in, int at, int size, float m) {
        boolean nan = m != m;
        for (int i = at; i < at + size; i++) {
            float v = in.get(i);
            if (nan ? v != v : v == 0) {
                return v;
            }
        }
        throw new AssertionError("no zero or NaN in a plane whose maximum is " + m);
    }

    /** {@code a[i] = max(a[i], b[i])} for {@code i < n}. */
    private static void fold(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(a[i], b[i]);
        }
    }

    static void avg(CpuBackend cpu, FloatBuffer in, FloatBuffer out, int planes, int size) {
        if (size >= LARGE_PLANE) {
            CpuGlobal.avg(cpu, Shape.of(planes, 1, size, 1), in, out);
            return;
        }
        small(cpu, in, out, planes, size, (a, from, n) -> CpuBackend.canonicalNaN((float) (sumOf(a, from, n) / n)));
    }

    private static double sumOf(float[] a, int from, int size) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int end = from + size;
        int i = from;
        for (; i + 3 < end; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < end; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Global LP (ONNX GlobalLpPool) per plane, as the windowed LP computes a window: the largest
     * |x| first, then {@code amax * (sum (|x|/amax)^p)^(1/p)} in double; NaN if the plane holds
     * one, {@code amax} itself when it is 0 or ∞.
     */
    static void lp(CpuBackend cpu, double p, FloatBuffer in, FloatBuffer out, int planes, int size) {
        int stageFloats = Math.min(size, STAGE_FLOATS);
        cpu.chunks(planes, (long) size * 8, (from, to) -> {
            float[] stage = Scratch.get().floats(0, stageFloats);
            for (int plane = from; plane < to; plane++) {
                long base = (long) plane * size;
                float amax = 0f;
                for (int at = 0; at < size; at += stageFloats) {
                    int len = Math.min(stageFloats, size - at);
                    in.get(Math.toIntExact(base + at), stage, 0, len);
                    for (int i = 0; i < len; i++) {
                        amax = Math.max(amax, Math.abs(stage[i]));
                    }
                }
                float r = amax;
                if (amax > 0 && amax < Float.POSITIVE_INFINITY) {
                    double sum = 0;
                    for (int at = 0; at < size; at += stageFloats) {
                        int len = Math.min(stageFloats, size - at);
                        in.get(Math.toIntExact(base + at), stage, 0, len);
                        for (int i = 0; i < len; i++) {
                            sum += Math.pow(Math.abs(stage[i]) / (double) amax, p);
                        }
                    }
                    r = (float) (amax * Math.pow(sum, 1.0 / p));
                }
                out.put(plane, r);
            }
        });
    }
}
