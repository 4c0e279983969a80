package dev.clpool;

import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import java.util.Objects;

/**
 * The int64 indices of a max pooling, held where one {@link PoolingEngine} computes (its device, or
 * host memory on the CPU path), as {@link DeviceTensor} holds values: returned by
 * {@link PoolingEngine#poolWithIndices(DeviceTensor, PoolSpec, IndexConvention)}, with one index per
 * output element in the convention asked for. Close it when done (closing the engine releases
 * those still open). Not thread-safe: do not close it while another thread uses it.
 */
public final class DeviceIndices implements AutoCloseable {
    private final PoolingEngine engine;
    final PoolingBackend backend;
    final ResidentTensor storage;
    private final IndexConvention convention;
    private volatile boolean closed;

    DeviceIndices(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage, IndexConvention convention) {
        this.engine = engine;
        this.backend = backend;
        this.storage = storage;
        this.convention = convention;
    }

    /** The shape of the pooled values these indices belong to. */
    public Shape shape() {
        return storage.shape();
    }

    public IndexConvention convention() {
        return convention;
    }

    /** Size of the data in bytes (8 per index). */
    public long byteSize() {
        return shape().elementCount() * Long.BYTES;
    }

    /** {@code opencl} when the data is on a device, {@code cpu} when it is in host memory. */
    public String location() {
        return backend.kind();
    }

    /** New host indices with the contents, after the queued work that produces them. */
    public Indices download() {
        requireOpen();
        Indices into = Indices.allocate(engine.resident().memory(), shape(), convention);
        try {
            return download(into);
        } catch (RuntimeException e) {
            into.close();
            throw e;
        }
    }

    /** Copies the contents into {@code into} (same shape and convention) and returns it. */
    public Indices download(Indices into) {
        Objects.requireNonNull(into, "into");
        if (!into.shape().equals(shape())) {
            throw new IllegalArgumentException("download into indices " + into.shape() + ": the device indices are " + shape());
        }
        if (into.convention() != convention) {
            throw new IllegalArgumentException("download into indices of convention " + into.convention().word()
                    + ": the device indices are " + convention.word());
        }
        engine.resident().download(this, into);
        return into;
    }

    PoolingEngine engine() {
        return engine;
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the device indices " + shape() + " are closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            storage.close();
        }
    }

    @Override
    public String toString() {
        return "DeviceIndices[" + shape() + ", " + convention.word() + " on " + backend.kind() + (closed ? ", closed]" : "]");
    }
}
