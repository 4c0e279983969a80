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

    /** The backend part {@code i} runs on: it runs in the calling thread, with no threads of its own. */
    PoolingBackend lane(int i);

    /**
     * Runs {@code part.accept(p)} for every {@code p} in {@code [0, parts)}, {@code parts <= count()},
     * at the same time where threads are free; returns once all have run, rethrowing a part's failure.
     */
    void run(int parts, IntConsumer part);
}
