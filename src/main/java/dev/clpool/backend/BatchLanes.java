package dev.clpool.backend;

import java.util.function.IntConsumer;

/**
 * Backends of one thread each that run parts of one operation at the same time.
 * {@link WideningBackend} splits a 16-bit batch between them by items, so that each thread widens,
 * pools and rounds its own items in chunks that stay in its caches, with no hand-off between the
 * threads at each step (docs/performance.md).
 */
public interface BatchLanes {
    /** How many parts can run at once. */
    int count();

    /**
     * Lane {@code i} of {@link #count()}: a backend that runs in the calling thread, with no threads of
     * its own, and may serve several parts at once.
     */
    PoolingBackend lane(int i);

    /**
     * Runs {@code part.accept(p)} for every {@code p} in {@code [0, parts)}, the parts claimed by the
     * threads as they come free, at most {@link #count()} at once; returns once all have run,
     * rethrowing a part's failure.
     */
    void run(int parts, IntConsumer part);
}
