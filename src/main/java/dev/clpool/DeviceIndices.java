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
public final class DeviceIndices extends DeviceHandle {
    private final IndexConvention convention;

    DeviceIndices(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage, IndexConvention convention) {
        this(engine, backend, storage, convention, TensorShape.of(storage.shape()));
    }

    DeviceIndices(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage, IndexConvention convention,
                  TensorShape logical) {
        super(engine, backend, storage, logical);
        this.convention = convention;
    }

    public IndexConvention convention() {
        return convention;
    }

    /** Size of the data in bytes (8 per index). */
    public long byteSize() {
        return tensorShape().elementCount() * Long.BYTES;
    }

    /** New host indices with the contents, after the queued work that produces them. */
    public Indices download() {
        requireOpen();
        Indices into = Indices.allocate(engine().resident().memory(), tensorShape(), convention);
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
        if (!into.tensorShape().equals(tensorShape())) {
            throw new IllegalArgumentException("download into indices " + into.tensorShape() + ": the device indices are "
                    + tensorShape());
        }
        if (into.convention() != convention) {
            throw new IllegalArgumentException("download into indices of convention " + into.convention().word()
                    + ": the device indices are " + convention.word());
        }
        engine().resident().download(this, into);
        return into;
    }

    @Override
    String closedMessage() {
        return "the device indices " + tensorShape() + " are closed";
    }

    @Override
    public String toString() {
        return "DeviceIndices[" + tensorShape() + ", " + convention.word() + " on " + backend.kind() + (isClosed() ? ", closed]" : "]");
    }
}
