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
    /** The shape users see; the storage holds it as a 2-D channels-last view ({@link Lowering}). */
    private final TensorShape logical;
    private volatile boolean closed;

    DeviceHandle(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage, TensorShape logical) {
        this.engine = engine;
        this.backend = backend;
        this.storage = storage;
        this.logical = logical;
    }

    /**
     * The (N, H, W, C) shape of 2-D channels-last data (for indices: of the pooled values they
     * belong to).
     *
     * @throws IllegalStateException the data has another rank or layout (use {@link #tensorShape()})
     */
    public Shape shape() {
        if (!logical.isShape2d()) {
            throw new IllegalStateException(logical + " is " + logical.describe() + ", not 2-D channels-last: use tensorShape()");
        }
        return storage.shape();
    }

    /** The shape of the data in every rank and layout. */
    public TensorShape tensorShape() {
        return logical;
    }

    /** The 2-D channels-last shape the storage holds {@code s} as: the view of rank 1-2, the depth slices of rank 3. */
    static Shape storageShape(TensorShape s) {
        return s.isShape2d() ? s.asShape() : s.rank() <= 2 ? Lowering.view(s) : Lowering.slices(s);
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
