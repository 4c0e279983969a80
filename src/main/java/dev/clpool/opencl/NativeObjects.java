package dev.clpool.opencl;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the native OpenCL objects one backend has created and released, so that tests (and the
 * soak run) can assert nothing is leaked. One instance per backend: no global state.
 */
public final class NativeObjects {
    private final AtomicLong created = new AtomicLong();
    private final AtomicLong released = new AtomicLong();

    void created() {
        created.incrementAndGet();
    }

    void released() {
        released.incrementAndGet();
    }

    /** Objects created and not yet released. */
    public long live() {
        return created.get() - released.get();
    }

    public long createdTotal() {
        return created.get();
    }

    @Override
    public String toString() {
        return live() + " live of " + created.get() + " created";
    }
}
