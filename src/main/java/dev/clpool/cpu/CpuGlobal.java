package dev.clpool.cpu;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Global max and average pooling on the CPU path: each batch item's plane is split into runs of
 * pixels (enough to keep every thread busy even when N is 1), each run reduced into lanes of one
 * staged block of pixels, then the lanes and the runs of each channel are folded in order. Max and
 * average have separate loops so that each compiles for its own profile.
 */
final class CpuGlobal {
    /** The smallest run of one plane given to a task, in floats. */
    private static final long MIN_RUN_FLOATS = 1 << 14;
    /** Floats staged per bulk copy. */
    private static final int STAGE_FLOATS = 1 << 14;
    /** Average: lanes are narrowed until each receives at least this many additions per run. */
    private static final int MIN_TERMS_PER_LANE = 32;

    private CpuGlobal() {
    }

    /** Runs of {@code chunk} pixels, {@code count} per plane; task t is run t % count of item t / count. */
    private record Runs(int hw, int c, long plane, int chunk, int count) {
        static Runs of(Shape s, int threads) {
            int hw = s.h() * s.w();
            long plane = (long) hw * s.c();
            // Runs of at least MIN_RUN_FLOATS so that small planes are not split into slivers.
            int wanted = (int) Math.min(hw, Math.max(1, Math.min((4L * threads + s.n() - 1) / s.n(), plane / MIN_RUN_FLOATS)));
            int chunk = (hw + wanted - 1) / wanted;
            return new Runs(hw, s.c(), plane, chunk, (hw + chunk - 1) / chunk);
        }

        int first(int task) {
            return (task % count) * chunk;
        }

        int end(int task) {
            return Math.min(first(task) + chunk, hw);
        }

        /** Offset of pixel p of batch item {@code task / count}. */
        int offset(int task, int p) {
            return Math.toIntExact((task / count) * plane + (long) p * c);
        }
    }

    /**
     * Global max: {@code Math.max} over one lane per staged element (one same-index loop that C2
     * vectorises), lanes folded per channel at the end of a run. As in {@link MaxWindows},
     * {@code Math.max} is exact except where the result is zero or NaN, and those channels are
     * scanned again with clpool's rule.
     */
    static void max(CpuBackend backend, Tensor in, Tensor out) {
        Shape s = in.shape();
        Runs runs = Runs.of(s, backend.threads());
        int c = s.c();
        FloatBuffer src = in.floats();
        float[][] maxima = new float[s.n() * runs.count][];
        backend.chunks(s.n() * runs.count, (long) runs.chunk * c, (from, to) -> {
            Scratch scratch = Scratch.get();
            int stagePixels = Math.max(1, Math.min(runs.chunk, STAGE_FLOATS / c));
            float[] stage = scratch.floats(0, stagePixels * c);
            float[] lanes = scratch.floats(1, stagePixels * c);
            for (int task = from; task < to; task++) {
                Arrays.fill(lanes, 0, stagePixels * c, Float.NEGATIVE_INFINITY);
                int used = 0;
                for (int p = runs.first(task); p < runs.end(task); p += stagePixels) {
                    int len = Math.min(stagePixels, runs.end(task) - p) * c;
                    used = Math.max(used, len);
                    src.get(runs.offset(task, p), stage, 0, len);
                    for (int i = 0; i < len; i++) {
                        lanes[i] = Math.max(lanes[i], stage[i]);
                    }
                }
                float[] m = new float[c];
                Arrays.fill(m, Float.NEGATIVE_INFINITY);
                for (int q = 0; q < used; q += c) {
                    for (int ch = 0; ch < c; ch++) {
                        m[ch] = Math.max(m[ch], lanes[q + ch]);
                    }
                }
                maxima[task] = m;
            }
        });
        float[] result = new float[c];
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int r = 0; r < runs.count; r++) {
                    m = Math.max(m, maxima[n * runs.count + r][ch]);
                }
                if (!(m > 0 || m < 0)) {
                    m = Float.NEGATIVE_INFINITY;
                    for (int p = 0; p < runs.hw; p++) {
                        m = CpuBackend.max(m, src.get(runs.offset(n * runs.count, p) + ch));
                    }
                }
                result[ch] = m;
            }
            out.floats().put(n * c, result, 0, c);
        }
    }

    /**
     * Global average: a {@link CompensatedSum} per lane (vectorised float operations), the lanes
     * and runs of each channel folded in double. A channel whose error bound exceeds
     * {@link AvgWindows#TOLERANCE}·max(1, |avg|), or whose sum saw an infinity, NaN or float
     * overflow, is summed again in double over its plane, as every channel was before.
     */
    static void avg(CpuBackend backend, Tensor in, Tensor out) {
        Shape s = in.shape();
        Runs runs = Runs.of(s, backend.threads());
        int c = s.c();
        FloatBuffer src = in.floats();
        int lanePixels = Math.max(1, Math.min(runs.chunk, Math.min(STAGE_FLOATS / c, runs.chunk / MIN_TERMS_PER_LANE)));
        long terms = (runs.chunk + lanePixels - 1) / lanePixels;
        double[][] sums = new double[s.n() * runs.count][];
        double[][] errors = new double[s.n() * runs.count][];
        backend.chunks(s.n() * runs.count, (long) runs.chunk * c, (from, to) -> {
            Scratch scratch = Scratch.get();
            int width = lanePixels * c;
            float[] stage = scratch.floats(0, width);
            float[] ls = scratch.floats(1, width);
            float[] le = scratch.floats(2, width);
            float[] lq = scratch.floats(3, width);
            for (int task = from; task < to; task++) {
                Arrays.fill(ls, 0, width, 0f);
                Arrays.fill(le, 0, width, 0f);
                Arrays.fill(lq, 0, width, 0f);
                for (int p = runs.first(task); p < runs.end(task); p += lanePixels) {
                    int len = Math.min(lanePixels, runs.end(task) - p) * c;
                    src.get(runs.offset(task, p), stage, 0, len);
                    for (int i = 0; i < len; i++) {
                        CompensatedSum.add(ls, le, lq, i, stage[i]);
                    }
                }
                double[] sum = new double[c];
                double[] q = new double[c];
                for (int a = 0; a < width; a += c) {
                    for (int ch = 0; ch < c; ch++) {
                        sum[ch] += (double) ls[a + ch] + le[a + ch];
                        q[ch] += lq[a + ch];
                    }
                }
                sums[task] = sum;
                errors[task] = q;
            }
        });
        double bound = CompensatedSum.errorBound(terms) / runs.hw / AvgWindows.TOLERANCE;
        float[] result = new float[c];
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                double total = 0;
                double q = 0;
                for (int r = 0; r < runs.count; r++) {
                    total += sums[n * runs.count + r][ch];
                    q += errors[n * runs.count + r][ch];
                }
                float v = (float) (total / runs.hw);
                float size = Math.abs(v);
                if (!(q * bound <= Math.max(1f, size) && size <= Float.MAX_VALUE)) {
                    total = 0;
                    for (int p = 0; p < runs.hw; p++) {
                        total += src.get(runs.offset(n * runs.count, p) + ch);
                    }
                    v = CpuBackend.canonicalNaN((float) (total / runs.hw));
                }
                result[ch] = v;
            }
            out.floats().put(n * c, result, 0, c);
        }
    }
}
