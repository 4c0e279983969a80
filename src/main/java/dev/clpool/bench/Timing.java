package dev.clpool.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Median timing: untimed warm-up runs (at least {@code warmups}, for at least {@code minWarmupMs},
 * and then until {@link #STABLE_RUNS} runs in a row were no faster than the best so far by 5% and
 * the JIT has compiled nothing for {@link #JIT_QUIET_MS}, or
 * {@code maxWarmupMs} have passed (all three from {@link Benchmark.Config}): the JIT compiles the CPU path's loops in steps, and 300 ms
 * left the global average on 32×7×7×2048 at 6× its steady time), then {@code reps} timed
 * repetitions of {@code k} operations followed by one {@code sync}, where {@code k} makes a
 * repetition last about {@code targetMs} (so that short operations are timed as a pipeline, not
 * one clock read each).
 *
 * <p>{@link #interleaved} times several operations that are to be compared with each other (one
 * layer on each kind of data) round by round, one repetition of each per round, so that a spell of
 * load on the machine falls on all of them alike rather than on whichever ran then.
 */
final class Timing {
    private Timing() {
    }

    /** Warm-up ends once this many runs in a row did not beat the best so far by 5%. */
    static final int STABLE_RUNS = 5;

    /** Median milliseconds per operation and the operations per repetition. */
    record Result(double ms, int opsPerRep, int reps) { }

    /** Where the timing reads the time and the JIT's progress: the JVM's, or a test's own. */
    interface Clock {
        long nanoTime();

        /** The JIT's compilation time so far in ms, or a constant where it is not known. */
        long jitMs();
    }

    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    /** The JVM's clock; the JIT's time is 0 where the JVM does not say (then only the stability rule counts). */
    static final Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long jitMs() {
            return JIT != null && JIT.isCompilationTimeMonitoringSupported() ? JIT.getTotalCompilationTime() : 0;
        }
    };

    static Result median(Runnable op, Runnable sync, Benchmark.Config config, double budgetMs) {
        return interleaved(List.of(op), sync, config, budgetMs).get(0);
    }

    static List<Result> interleaved(List<Runnable> ops, Runnable sync, Benchmark.Config config, double budgetMs) {
        return interleaved(ops, sync, config, budgetMs, SYSTEM);
    }

    /**
     * Each of {@code ops} warmed up as {@link #median} does, then their timed repetitions in
     * rounds: every round times one repetition of each, in order. Each operation keeps its own
     * {@code k}; every operation gets the same number of repetitions, as many as {@code budgetMs}
     * allows the slowest.
     */
    static List<Result> interleaved(List<Runnable> ops, Runnable sync, Benchmark.Config config, double budgetMs,
            Clock clock) {
        int m = ops.size();
        int[] k = new int[m];
        int n = config.timedReps();
        for (int j = 0; j < m; j++) {
            double single = warmUp(ops.get(j), sync, config, clock);
            k[j] = (int) Math.max(1, Math.min(1000, Math.ceil(config.targetMs() / Math.max(single, 1e-3))));
            if (budgetMs > 0 && single * k[j] * n > budgetMs) {
                n = (int) Math.max(1, Math.min(n, budgetMs / (single * k[j])));
            }
        }
        double[][] t = new double[m][n];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                Runnable op = ops.get(j);
                long t0 = clock.nanoTime();
                for (int i = 0; i < k[j]; i++) {
                    op.run();
                }
                sync.run();
                t[j][r] = (clock.nanoTime() - t0) / 1e6 / k[j];
            }
        }
        List<Result> results = new ArrayList<>(m);
        for (int j = 0; j < m; j++) {
            results.add(new Result(median(t[j]), k[j], n));
        }
        return results;
    }

    /**
     * Warm-up also waits until the JIT has finished no compilation for this long: Vector API code
     * runs boxed, at a steady tenth of its speed or less, until C2 compiles it, and under load C2
     * came later than the one-second minimum, so that the stability rule alone ended warm-up on
     * that plateau (0.2 ms operations timed at 24-42 ms).
     */
    static final double JIT_QUIET_MS = 300;

    /** The untimed warm-up runs of {@code op}; the fastest single run's milliseconds. */
    private static double warmUp(Runnable op, Runnable sync, Benchmark.Config config, Clock clock) {
        double single = Double.MAX_VALUE;
        int stable = 0;
        long start = clock.nanoTime();
        long compiled = clock.jitMs();
        long quietSince = start;
        for (int i = 0; i < 10_000; i++) {
            long t0 = clock.nanoTime();
            op.run();
            sync.run();
            long t1 = clock.nanoTime();
            double ms = (t1 - t0) / 1e6;
            stable = ms < 0.95 * single ? 0 : stable + 1;
            single = Math.min(single, ms);
            long jit = clock.jitMs();
            if (jit != compiled) {
                compiled = jit;
                quietSince = t1;
                stable = 0;
                single = ms; // what ran before the compilation no longer counts
            }
            double elapsed = (t1 - start) / 1e6;
            boolean settled = stable >= STABLE_RUNS && (t1 - quietSince) / 1e6 >= JIT_QUIET_MS;
            if (i + 1 >= config.warmups() && elapsed >= config.minWarmupMs()
                    && (settled || elapsed >= config.maxWarmupMs())) {
                break;
            }
        }
        return single;
    }

    /** The median of {@code v} (sorted in place). */
    static double median(double[] v) {
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
