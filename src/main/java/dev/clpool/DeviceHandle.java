package dev.clpool;

import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;

/**
 * What {@link DeviceTensor} and {@link DeviceIndices} share: the engine that made them, the
 * backend and storage that hold the data, and being closed exactly once.
 */
abstract class DeviceHandle implements AutoCloseable {
    private final PoolingEngine engine;
    final PoolingBackend backend;
    final ResidentTensor storage;
    private volatile boolean closed;

    DeviceHandle(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage) {
        this.engine = engine;
        this.backend = backend;
        this.storage = storage;
    }

    /** The shape of the data (for indices: of the pooled values they belong to). */
    public Shape shape() {
        return storage.shape();
    }

    /** {@code opencl} when the data is on a device, {@code cpu} when it is in host memory. */
    public String location() {
        return backend.kind();
    }

    PoolingEngine engine() {
        return engine;
    }

    /** The message of the {@link IllegalStateException} for using this handle once closed. */
    abstract String closedMessage();

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException(closedMessage());
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Releases the storage (or gives it back to the engine for reuse); idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            storage.close();
        }
    }
}
