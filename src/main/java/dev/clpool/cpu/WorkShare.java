package dev.clpool.cpu;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * One parallel job of the CPU path: parts {@code [0, parts)}, claimed one at a time from a shared
 * counter by the calling thread and by up to {@code helpers} pool threads, so the caller works
 * instead of waiting. Before, the caller handed the whole job to the pool and slept until it was
 * done: each job paid a worker's wake-up before any work and the caller's wake-up after it (an
 * empty job 0.030 ms against 0.003 now), and the pool's parallel stream split the job in halves up
 * front, so a second worker that woke late found half the job waiting for it (docs/performance.md,
 * branch {@code torch}). A helper that starts late finds fewer parts, or none, and leaves at once;
 * the caller waits only for parts already running (spinning about a part's time, then parking).
 * A helper task still queued when the job is done holds nothing of it but the counters: the job's
 * results (a dropped tensor, say) are not kept reachable until a pool thread gets to it.
 *
 * <p>Each part runs exactly once. A part's exception does not stop the others already running;
 * parts not yet started are skipped, and the first exception is rethrown in the caller (a
 * checked one wrapped in a {@link RuntimeException}).
 */
final class WorkShare {
    /**
     * The caller spins for the parts still running as long as the longest part it ran itself (about
     * the most a helper's last part still has to run), at least {@code MIN_SPIN_NANOS} and at most
     * {@code MAX_SPIN_NANOS}, before it parks. A caller that parked after a few microseconds, as
     * before, was woken up to 0.05 ms after the last part ended, and its helper more often never
     * started in the next call (ResNet-50's head, two threads: 0.25 → 0.20 ms; docs/performance.md,
     * branch {@code gap3}). The cap: with parts of about 1 ms (ResNet-50's stem) a spin to the end
     * cost the caller 0.5 ms of CPU a call and gained nothing in wall time.
     */
    private static final long MIN_SPIN_NANOS = 10_000;
    private static final long MAX_SPIN_NANOS = 200_000;

    private final int parts;
    /** Cleared once the job is done: a helper task still queued then must not keep its outputs reachable. */
    private IntConsumer part;
    private final Thread caller = Thread.currentThread();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger unfinished;
    private volatile Throwable failure;
    /** The longest part the caller ran in this job, in nanoseconds (written and read by the caller only). */
    private long longestPart;

    private WorkShare(int parts, IntConsumer part) {
        this.parts = parts;
        this.part = part;
        this.unfinished = new AtomicInteger(parts);
    }

    /**
     * Runs {@code part} for every index in {@code [0, parts)}: on the calling thread and on up to
     * {@code helpers} tasks given to {@code pool}, and returns once every part has run.
     */
    static void run(Executor pool, int helpers, int parts, IntConsumer part) {
        WorkShare job = new WorkShare(parts, part);
        for (int h = 0; h < Math.min(helpers, parts - 1); h++) {
            pool.execute(job::work);
        }
        try {
            job.work();
            job.await();
        } finally {
            job.part = null; // every claimed part has run; later claims find none
        }
    }

    /** Claims and runs parts until none is left. */
    private void work() {
        // The caller times its parts (for its spin in await); a helper wakes the caller after the last.
        boolean byCaller = Thread.currentThread() == caller;
        for (int p = next.getAndIncrement(); p < parts; p = next.getAndIncrement()) {
            long start = byCaller ? System.nanoTime() : 0;
            try {
                if (failure == null) {
                    part.accept(p);
                }
            } catch (Throwable t) {
                synchronized (this) {
                    if (failure == null) {
                        failure = t;
                    }
                }
            } finally {
                if (byCaller) {
                    longestPart = Math.max(longestPart, System.nanoTime() - start);
                }
                if (unfinished.decrementAndGet() == 0 && !byCaller) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /** Waits for the parts other threads are running, then rethrows the first failure. */
    private void await() {
        if (unfinished.get() != 0) {
            long limit = Math.min(MAX_SPIN_NANOS, Math.max(MIN_SPIN_NANOS, longestPart));
            long start = System.nanoTime();
            while (unfinished.get() != 0 && System.nanoTime() - start < limit) {
                Thread.onSpinWait();
            }
            while (unfinished.get() != 0) {
                LockSupport.park(this);
            }
        }
        Throwable t = failure;
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new RuntimeException(t);
        }
    }
}
