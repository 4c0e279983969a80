package dev.clpool.bench;

import java.util.Arrays;

/**
 * Median timing: untimed warm-up runs (at least {@code warmups}, for at least {@code minWarmupMs},
 * and then until {@link #STABLE_RUNS} runs in a row were no faster than the best so far by 5%, or
 * {@code maxWarmupMs} have passed (all three from {@link Benchmark.Config}): the JIT compiles the CPU path's loops in steps, and 300 ms
 * left the global average on 32×7×7×2048 at 6× its steady time), then {@code reps} timed
 * repetitions of {@code k} operations followed by one {@code sync}, where {@code k} makes a
 * repetition last about {@code targetMs} (so that short operations are timed as a pipeline, not
 * one clock read each).
 */
final class Timing {
    private Timing() {
    }

    /** Warm-up ends once this many runs in a row did not beat the best so far by 5%. */
    static final int STABLE_RUNS = 5;

    /** Median milliseconds per operation and the operations per repetition. */
    record Result(double ms, int opsPerRep, int reps) { }

    static Result median(Runnable op, Runnable sync, Benchmark.Config config, double budgetMs) {
        int warmups = config.warmups();
        double minWarmupMs = config.minWarmupMs();
        double maxWarmupMs = config.maxWarmupMs();
        int reps = config.timedReps();
        double targetMs = config.targetMs();
        double single = Double.MAX_VALUE;
        int stable = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 10_000; i++) {
            long t0 = System.nanoTime();
            op.run();
            sync.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            stable = ms < 0.95 * single ? 0 : stable + 1;
            single = Math.min(single, ms);
            double elapsed = (System.nanoTime() - start) / 1e6;
            if (i + 1 >= warmups && elapsed >= minWarmupMs && (stable >= STABLE_RUNS || elapsed >= maxWarmupMs)) {
                break;
            }
        }
        int k = (int) Math.max(1, Math.min(1000, Math.ceil(targetMs / Math.max(single, 1e-3))));
        int n = reps;
        if (budgetMs > 0 && single * k * reps > budgetMs) {
            n = (int) Math.max(1, Math.min(reps, budgetMs / (single * k)));
        }
        double[] t = new double[n];
        for (int r = 0; r < n; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < k; i++) {
                op.run();
            }
            sync.run();
            t[r] = (System.nanoTime() - t0) / 1e6 / k;
        }
        Arrays.sort(t);
        double median = n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
        return new Result(median, k, n);
    }
}
