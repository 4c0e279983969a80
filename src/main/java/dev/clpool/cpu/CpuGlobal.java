package dev.clpool.cpu;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;

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
     * scanned again with clpool's rule — only if the item may hold a −0 or a NaN: a run with a
     * zero or NaN maximum tests itself once more, contiguously and vectorised, so that all-zero
     * and ReLU'd planes (whose zeros are all +0, the answer of both rules) take no strided rescan.
     */
    static void max(CpuBackend backend, Tensor in, Tensor out) {
        FloatBuffer src = in.floats(); // checks that the storage is float32, for either path
        if (vectors(in.shape())) {
            vectorMax(backend, in.shape(), in.buffer(), out.floats());
        } else {
            max(backend, in.shape(), src, out.floats());
        }
    }

    /** Whether the Vector API kernels ({@link VecGlobal}) run for a tensor of shape {@code s}: enough channels to fill a vector. */
    private static boolean vectors(Shape s) {
        return VectorSupport.fits(s.c());
    }

    /**
     * Global max by {@link VecGlobal#max}: each run's maxima are exact by clpool's rule (scan order,
     * first of ties, first NaN; a channel whose maximum is zero or NaN reads its run again up to its
     * first zero or NaN), and the runs of an item are folded in order with the same rule, which
     * gives the rule's answer over the whole plane.
     */
    private static void vectorMax(CpuBackend backend, Shape s, ByteBuffer src, FloatBuffer dst) {
        Runs runs = Runs.of(s, backend.threads());
        int c = s.c();
        float[][] maxima = new float[s.n() * runs.count][c];
        backend.chunks(s.n() * runs.count, (long) runs.chunk * c, (from, to) -> {
            for (int task = from; task < to; task++) {
                int first = runs.first(task);
                VecGlobal.max(src, runs.offset(task, first), runs.end(task) - first, c, maxima[task]);
            }
        });
        for (int n = 0; n < s.n(); n++) {
            float[] m = maxima[n * runs.count];
            for (int r = 1; r < runs.count; r++) {
                float[] next = maxima[n * runs.count + r];
                for (int ch = 0; ch < c; ch++) {
                    m[ch] = CpuBackend.max(m[ch], next[ch]);
                }
            }
            dst.put(n * c, m, 0, c);
        }
    }

    /** {@link #max(CpuBackend, Tensor, Tensor)} on buffers holding a tensor of shape {@code s} and its result. */
    static void max(CpuBackend backend, Shape s, FloatBuffer src, FloatBuffer dst) {
        Runs runs = Runs.of(s, backend.threads());
        int c = s.c();
        float[][] maxima = new float[s.n() * runs.count][];
        boolean[] risky = new boolean[s.n() * runs.count];
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
        // Apart from the loop above, so that its compiled code stays as it is for data without zeros.
        int[] suspect = IntStream.range(0, maxima.length).filter(t -> zeroOrNaN(maxima[t])).toArray();
        backend.chunks(suspect.length, (long) runs.chunk * c, (from, to) -> {
            int stagePixels = Math.max(1, Math.min(runs.chunk, STAGE_FLOATS / c));
            float[] stage = Scratch.get().floats(0, stagePixels * c);
            for (int i = from; i < to; i++) {
                risky[suspect[i]] = risky(src, runs, suspect[i], stage, stagePixels);
            }
        });
        float[] result = new float[c];
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int r = 0; r < runs.count; r++) {
                    m = Math.max(m, maxima[n * runs.count + r][ch]);
                }
                if (!(m > 0 || m < 0) && risky(risky, n, runs.count)) {
                    m = Float.NEGATIVE_INFINITY;
                    for (int p = 0; p < runs.hw; p++) {
                        m = CpuBackend.max(m, src.get(runs.offset(n * runs.count, p) + ch));
                    }
                }
                result[ch] = m;
            }
            dst.put(n * c, result, 0, c);
        }
    }

    private static boolean zeroOrNaN(float[] m) {
        for (float v : m) {
            if (!(v > 0 || v < 0)) {
                return true;
            }
        }
        return false;
    }

    /** Whether run {@code task} may hold a −0 or a NaN (see {@link MaxExact#holdsNegativeZeroOrNaN}). */
    private static boolean risky(FloatBuffer src, Runs runs, int task, float[] stage, int stagePixels) {
        for (int p = runs.first(task); p < runs.end(task); p += stagePixels) {
            int len = Math.min(stagePixels, runs.end(task) - p) * runs.c();
            src.get(runs.offset(task, p), stage, 0, len);
            if (MaxExact.holdsNegativeZeroOrNaN(stage, len)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any run of batch item {@code n} may hold a −0 or a NaN. */
    private static boolean risky(boolean[] risky, int n, int count) {
        for (int r = 0; r < count; r++) {
            if (risky[n * count + r]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Global average. A whole small plane per task, where the Vector API runs, goes to {@link GapAvg}
     * first (an a-priori bound); what it refuses, and every other run, is summed into lanes of one
     * staged block of pixels ({@link #sumRun}, fast form): plain float sums with a running error bound,
     * four blocks of pixels at a time, each lane restarted every {@link #BLOCK} such groups and its
     * block sum added into a {@link CompensatedSum}; the lanes are folded per channel in double (or,
     * with one lane per channel, finished in float: {@link #finishInFloat}). An item's channels are
     * then certified: the bound over
     * {@code h*w} must be at most {@link AvgWindows#TOLERANCE}·max(1, |avg|). If a channel fails
     * (large values summing near zero, beyond what a float sum's bound certifies), the item is
     * summed again with every addition compensated; a channel failing that too (an infinity, NaN,
     * float overflow or extreme cancellation) is summed in double over its plane.
     */
    static void avg(CpuBackend backend, Tensor in, Tensor out) {
        avg(backend, in.shape(), in.floats(), vectors(in.shape()) ? in.buffer() : null, out.floats());
    }

    /** {@link #avg(CpuBackend, Tensor, Tensor)} on buffers holding a tensor of shape {@code s} and its result. */
    static void avg(CpuBackend backend, Shape s, FloatBuffer src, FloatBuffer dst) {
        avg(backend, s, src, null, dst);
    }

    /** {@link #avg(CpuBackend, Shape, FloatBuffer, FloatBuffer)}, by the Vector API kernels from {@code raw} (the same storage) if not null. */
    private static void avg(CpuBackend backend, Shape s, FloatBuffer src, ByteBuffer raw, FloatBuffer dst) {
        Runs runs = Runs.of(s, backend.threads());
        Partial[] parts = new Partial[s.n() * runs.count];
        backend.chunks(s.n() * runs.count, (long) runs.chunk * s.c(), (from, to) -> {
            for (int task = from; task < to; task++) {
                if (raw != null && runs.count == 1 && GapAvg.item(raw, runs.offset(task, 0), runs.hw, runs.c, dst, task * runs.c)) {
                    continue;
                }
                Lanes lanes = raw != null ? vectorLanes(raw, runs, task)
                        : sumLanes(src, runs, task, runs.first(task), runs.end(task), false);
                if (runs.count == 1 && lanes.width == runs.c && finishInFloat(dst, runs, task, lanes)) {
                    continue;
                }
                parts[task] = fold(lanes, runs.c);
                if (runs.count == 1) {
                    finishItem(src, dst, runs, task, parts);
                }
            }
        });
        if (runs.count > 1) {
            backend.chunks(s.n(), runs.plane, (from, to) -> {
                for (int n = from; n < to; n++) {
                    finishItem(src, dst, runs, n, parts);
                }
            });
        }
    }

    /** Groups of four lane additions per float block of the fast form (see {@link #sumRun} for the bound). */
    private static final int BLOCK = 4;

    /** Per-channel sums of a run, and bounds on their absolute error. */
    private record Partial(double[] sum, double[] bound) {
    }

    /**
     * Sums pixels {@code [p0, p1)} of the item of {@code task} per channel.
     *
     * <p>Fast form ({@code compensated} false): every rounded addition {@code t = fl(a + b)} errs
     * by at most u·|t| (u = 2^-24), so a lane's float sums err by at most u·B, B the sum of every
     * such |t| (kept, in float, beside the lane: a float sum of r non-negative terms is low by at
     * most a factor 1 + γ(r)). Four blocks of pixels are added pairwise before they reach the lane
     * ({@link #sumGroups}), and restarting the lanes every {@link #BLOCK} such groups (16 additions)
     * keeps B near 4.5·n·|mean| on data of one sign (where a long float sum's B grows with n²) and
     * near 1.4·n·σ on zero-mean data, so that zero-mean data up to σ ≈ 12 still certify (sixteen
     * sequential additions, without the pairs, failed uniform [-8, 8) on 7×7 planes in nearly every
     * item, and each failure costs a compensated pass as well); the block sums go into a
     * {@link CompensatedSum}, whose bound is {@link CompensatedSum#errorBound}
     * per unit of its q. Compensated form: every addition goes into the {@link CompensatedSum}.
     * Folding the lanes in double (at most 2^20 additions) errs by less than 2^-30 of the sum of
     * the lanes' magnitudes, which the bound adds.
     */
    private static Partial sumRun(FloatBuffer src, Runs runs, int task, int p0, int p1, boolean compensated) {
        return fold(sumLanes(src, runs, task, p0, p1, compensated), runs.c);
    }

    /**
     * The lanes of a run as {@link #sumLanes} leaves them in this thread's scratch (slots 2–5: the
     * bounds' B, and the compensated sums s, e, q), {@code width} floats each, with the bound's
     * factors per unit of B and of q.
     */
    private record Lanes(int width, double perB, double perQ) {
    }

    /** The summing half of {@link #sumRun}: leaves the lanes in scratch. */
    private static Lanes sumLanes(FloatBuffer src, Runs runs, int task, int p0, int p1, boolean compensated) {
        int c = runs.c;
        int chunk = p1 - p0;
        int lanePixels = Math.max(1, Math.min(chunk, Math.min(STAGE_FLOATS / c, chunk / MIN_TERMS_PER_LANE)));
        int width = lanePixels * c;
        long terms = (chunk + lanePixels - 1) / lanePixels;
        Scratch scratch = Scratch.get();
        float[] lb = scratch.floats(2, width);
        float[] cs = scratch.floats(3, width);
        float[] ce = scratch.floats(4, width);
        float[] cq = scratch.floats(5, width);
        Arrays.fill(lb, 0, width, 0f);
        Arrays.fill(cs, 0, width, 0f);
        Arrays.fill(ce, 0, width, 0f);
        Arrays.fill(cq, 0, width, 0f);
        if (compensated) {
            float[] stage = scratch.floats(0, width);
            for (int p = p0; p < p1; p += lanePixels) {
                int len = Math.min(lanePixels, p1 - p) * c;
                src.get(runs.offset(task, p), stage, 0, len);
                for (int i = 0; i < len; i++) {
                    CompensatedSum.add(cs, ce, cq, i, stage[i]);
                }
            }
            return new Lanes(width, 0, CompensatedSum.errorBound(terms));
        }
        long flushes = sumGroups(src, runs, task, p0, p1, lanePixels, width, scratch);
        // lb is a float sum of at most 4 * groups <= terms + 3 non-negative terms.
        return new Lanes(width, 0x1p-24 * (1 + CompensatedSum.gamma(terms + 4)), CompensatedSum.errorBound(flushes));
    }

    /**
     * The fast form of {@link #sumLanes} by {@link VecGlobal#sum}: one lane per channel, so the
     * lanes, and the bound's factors, are those of the scalar form with one pixel per lane.
     */
    private static Lanes vectorLanes(ByteBuffer raw, Runs runs, int task) {
        int c = runs.c;
        int first = runs.first(task);
        int pixels = runs.end(task) - first;
        Scratch scratch = Scratch.get();
        int padded = VecGlobal.padded(c);
        long flushes = VecGlobal.sum(raw, runs.offset(task, first), pixels, c, scratch.floats(2, padded),
                scratch.floats(3, padded), scratch.floats(4, padded), scratch.floats(5, padded), scratch.floats(1, padded));
        return new Lanes(c, 0x1p-24 * (1 + CompensatedSum.gamma(pixels + 4L)), CompensatedSum.errorBound(flushes));
    }

    /**
     * The fast form of {@link #sumLanes}: a group of four staged blocks of pixels at a time (the
     * last group padded with zeros), summed pairwise, {@code g = (x0 + x1) + (x2 + x3)}, then
     * {@code t = lane + g}; the bound B adds |x0 + x1|, |x2 + x3|, |g| and |t|, one term per rounded
     * addition, so u·B still bounds the lane's error. Each lane is flushed into its compensated sum
     * every {@link #BLOCK} groups. One pass over the lanes per four blocks, not per block: the
     * lanes' loads and stores, not the additions, bounded the loop (one thread, 32×7×7×2048:
     * 1.08 → 0.62 ms in an A/B of the two loops). Returns the number of flushes (terms of the
     * compensated sums).
     */
    private static long sumGroups(FloatBuffer src, Runs runs, int task, int p0, int p1, int lanePixels, int width,
                                  Scratch scratch) {
        float[] x0 = scratch.floats(0, width);
        float[] ls = scratch.floats(1, width);
        float[] x1 = scratch.floats(8, width);
        float[] x2 = scratch.floats(9, width);
        float[] x3 = scratch.floats(10, width);
        float[] lb = scratch.floats(2, width);
        float[] cs = scratch.floats(3, width);
        float[] ce = scratch.floats(4, width);
        float[] cq = scratch.floats(5, width);
        Arrays.fill(ls, 0, width, 0f);
        int step = 4 * lanePixels;
        int inBlock = 0;
        long flushes = 0;
        for (int p = p0; p < p1; p += step) {
            stage(src, runs, task, p, p1, lanePixels, width, x0);
            stage(src, runs, task, p + lanePixels, p1, lanePixels, width, x1);
            stage(src, runs, task, p + 2 * lanePixels, p1, lanePixels, width, x2);
            stage(src, runs, task, p + 3 * lanePixels, p1, lanePixels, width, x3);
            for (int i = 0; i < width; i++) {
                float a = x0[i] + x1[i];
                float b = x2[i] + x3[i];
                float g = a + b;
                float t = ls[i] + g;
                ls[i] = t;
                lb[i] += (Math.abs(a) + Math.abs(b)) + (Math.abs(g) + Math.abs(t));
            }
            if (++inBlock == BLOCK || p + step >= p1) {
                for (int i = 0; i < width; i++) {
                    CompensatedSum.add(cs, ce, cq, i, ls[i]);
                }
                Arrays.fill(ls, 0, width, 0f);
                inBlock = 0;
                flushes++;
            }
        }
        return flushes;
    }

    /** Stages the block of pixels from {@code p} into {@code to}, zeros where it passes {@code p1}. */
    private static void stage(FloatBuffer src, Runs runs, int task, int p, int p1, int lanePixels, int width,
                              float[] to) {
        int len = p < p1 ? Math.min(lanePixels, p1 - p) * runs.c : 0;
        if (len > 0) {
            src.get(runs.offset(task, p), to, 0, len);
        }
        if (len < width) {
            Arrays.fill(to, len, width, 0f);
        }
    }

    /** The lanes left by {@link #sumLanes}, folded per channel in double. */
    private static Partial fold(Lanes l, int c) {
        Scratch scratch = Scratch.get();
        float[] lb = scratch.floats(2, l.width);
        float[] cs = scratch.floats(3, l.width);
        float[] ce = scratch.floats(4, l.width);
        float[] cq = scratch.floats(5, l.width);
        double[] sum = new double[c];
        double[] bound = new double[c];
        for (int a = 0; a < l.width; a += c) {
            for (int ch = 0; ch < c; ch++) {
                double lane = (double) cs[a + ch] + ce[a + ch];
                sum[ch] += lane;
                bound[ch] += l.perB * lb[a + ch] + l.perQ * cq[a + ch] + 0x1p-30 * Math.abs(lane);
            }
        }
        return new Partial(sum, bound);
    }

    /**
     * Item {@code n}'s averages straight from its lanes when it has one lane per channel (small
     * planes, such as 7×7): in float, in loops C2 vectorises, where the double fold was a scalar
     * loop as long as the sums themselves. avg = fl(fl(s + e) / hw); the bound adds 2^-23·|s + e|
     * for the rounding of s + e, and is scaled by 1 + 2^-20 for the rounding of its own three
     * float operations. Writes the item and returns true if every channel is certified (as
     * {@link #certify} would certify it); else writes nothing and returns false.
     */
    private static boolean finishInFloat(FloatBuffer dst, Runs runs, int n, Lanes l) {
        int c = runs.c;
        Scratch scratch = Scratch.get();
        float[] lb = scratch.floats(2, c);
        float[] cs = scratch.floats(3, c);
        float[] ce = scratch.floats(4, c);
        float[] cq = scratch.floats(5, c);
        float[] result = scratch.floats(6, c);
        float[] excess = scratch.floats(7, c);
        float perB = (float) (l.perB * (1 + 0x1p-20));
        float perQ = (float) (l.perQ * (1 + 0x1p-20));
        float perS = (float) (0x1p-23 * (1 + 0x1p-20));
        float allowed = (float) (AvgWindows.TOLERANCE * (double) runs.hw * (1 - 0x1p-20));
        float hw = runs.hw;
        for (int ch = 0; ch < c; ch++) {
            float sum = cs[ch] + ce[ch];
            float v = sum / hw;
            result[ch] = v;
            excess[ch] = perB * lb[ch] + perQ * cq[ch] + perS * Math.abs(sum) - allowed * Math.max(1f, Math.abs(v));
        }
        for (int ch = 0; ch < c; ch++) {
            if (!(excess[ch] <= 0)) {
                return false;
            }
        }
        dst.put(n * c, result, 0, c);
        return true;
    }

    /**
     * Item {@code n}'s averages from its runs' partial sums (in {@code parts}, runs.count per item),
     * certified per channel as {@link #avg} describes, written to {@code dst}.
     */
    private static void finishItem(FloatBuffer src, FloatBuffer dst, Runs runs, int n, Partial[] parts) {
        int c = runs.c;
        double[] total = new double[c];
        double[] bound = new double[c];
        for (int r = 0; r < runs.count; r++) {
            Partial part = parts[n * runs.count + r];
            for (int ch = 0; ch < c; ch++) {
                total[ch] += part.sum[ch];
                bound[ch] += part.bound[ch];
            }
        }
        float[] result = new float[c];
        if (certify(total, bound, runs.hw, result) < c) {
            Partial again = sumRun(src, runs, n * runs.count, 0, runs.hw, true);
            if (certify(again.sum, again.bound, runs.hw, result) < c) {
                for (int ch = 0; ch < c; ch++) {
                    if (Float.isNaN(result[ch])) {
                        result[ch] = exactAverage(src, runs, n, ch);
                    }
                }
            }
        }
        dst.put(n * c, result, 0, c);
    }

    /**
     * Writes each certified average into {@code result} and NaN (a marker, not a value) for each
     * channel whose bound fails or whose sum is not finite; returns the number certified.
     */
    private static int certify(double[] total, double[] bound, int hw, float[] result) {
        double allowed = AvgWindows.TOLERANCE * (double) hw;
        int certified = 0;
        for (int ch = 0; ch < total.length; ch++) {
            float v = (float) (total[ch] / hw);
            float size = Math.abs(v);
            boolean ok = bound[ch] <= allowed * Math.max(1f, size) && size <= Float.MAX_VALUE;
            result[ch] = ok ? v : Float.NaN;
            certified += ok ? 1 : 0;
        }
        return certified;
    }

    /** Channel {@code ch} of item {@code n} summed in double over its plane, in scan order. */
    private static float exactAverage(FloatBuffer src, Runs runs, int n, int ch) {
        double total = 0;
        for (int p = 0; p < runs.hw; p++) {
            total += src.get(runs.offset(n * runs.count, p) + ch);
        }
        return CpuBackend.canonicalNaN((float) (total / runs.hw));
    }
}
