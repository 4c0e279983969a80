package dev.clpool.opencl;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owner of one native OpenCL object: {@link #close()} releases it exactly once, is idempotent and
 * never throws (a failing release is logged at WARN).
 */
public abstract class ClObject implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClObject.class);

    protected final ClBinding binding;
    private final NativeObjects objects;
    private final AtomicBoolean closed = new AtomicBoolean();

    ClObject(ClBinding binding, NativeObjects objects) {
        this.binding = binding;
        this.objects = objects;
        objects.created();
    }

    /** Releases the native handle; called once. */
    protected abstract void release();

    NativeObjects objects() {
        return objects;
    }

    protected final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    @Override
    public final void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            release();
        } catch (RuntimeException e) {
            LOG.warn("releasing {} failed: {}", getClass().getSimpleName(), e.getMessage());
        } finally {
            objects.released();
        }
    }
}
