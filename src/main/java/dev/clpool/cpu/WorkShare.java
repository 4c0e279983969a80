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
 * the caller waits only for parts already running. A helper task still queued when the job is done
 * holds nothing of it but the counters: the job's results (a dropped tensor, say) are not kept
 * reachable until a pool thread gets to it.
 *
 * <p>Each part runs exactly once. A part's exception does not stop the others already running;
 * parts not yet started are skipped, and the first exception is rethrown in the caller (a
 * checked one wrapped in a {@link RuntimeException}).
 */
final class WorkShare {
    /** Spins while waiting for the last running parts before the caller parks. */
    private static final int SPINS = 1 << 8;

    private final int parts;
    /** Cleared once the job is done: a helper task still queued then must not keep its outputs reachable. */
    private IntConsumer part;
    private final Thread caller = Thread.currentThread();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger unfinished;
    private volatile Throwable failure;

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
        for (int p = next.getAndIncrement(); p < parts; p = next.getAndIncrement()) {
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
                if (unfinished.decrementAndGet() == 0 && Thread.currentThread() != caller) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /** Waits for the parts other threads are running, then rethrows the first failure. */
    private void await() {
        for (int spin = 0; unfinished.get() != 0; spin++) {
            if (spin < SPINS) {
                Thread.onSpinWait();
            } else {
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
