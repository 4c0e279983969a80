package dev.clpool.bench;

import java.util.Arrays;

/**
 * Median timing: untimed warm-up runs (at least {@code warmups}, and for at least
 * {@link #WARMUP_MS} so that the JIT has compiled the CPU path's loops), then {@code reps} timed
 * repetitions of {@code k}
 * operations followed by one {@code sync}, where {@code k} makes a repetition last about
 * {@code targetMs} (so that short operations are timed as a pipeline, not one clock read each).
 */
final class Timing {
    private Timing() {
    }

    /** Warm-up lasts at least this long: one or two cold runs left the CPU path interpreted. */
    static final double WARMUP_MS = 300;

    /** Median milliseconds per operation and the operations per repetition. */
    record Result(double ms, int opsPerRep, int reps) { }

    static Result median(Runnable op, Runnable sync, int warmups, int reps, double targetMs, double budgetMs) {
        double single = Double.MAX_VALUE;
        long start = System.nanoTime();
        for (int i = 0; i < Math.max(1, warmups) || (i < 1000 && (System.nanoTime() - start) / 1e6 < WARMUP_MS); i++) {
            long t0 = System.nanoTime();
            op.run();
            sync.run();
            single = Math.min(single, (System.nanoTime() - t0) / 1e6);
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
