package dev.clpool;

import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A tensor held where one {@link PoolingEngine} computes: a buffer on its OpenCL device, or host
 * memory when the engine runs on the CPU path (so code written against device tensors works
 * everywhere). Made by {@link PoolingEngine#upload(Tensor)} and returned by the engine's
 * operations on device tensors, which queue their work and return at once: nothing waits for the
 * device until {@link #download()} (or {@link PoolingEngine#finish()}).
 *
 * <pre>{@code
 * try (DeviceTensor x = engine.upload(input);
 *      DeviceTensor y = engine.pool(x, PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build());
 *      DeviceTensor z = engine.globalAvg(y)) {
 *     Tensor result = z.download();    // the only wait
 * }
 * }</pre>
 *
 * <p>Close every device tensor (the device memory is released, or reused by the engine for the
 * next one); closing the engine releases those still open. A device tensor belongs to the engine
 * that made it and is not thread-safe: do not close it while another thread uses it.
 */
public final class DeviceTensor extends DeviceHandle {

    DeviceTensor(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage) {
        this(engine, backend, storage, TensorShape.of(storage.shape()));
    }

    DeviceTensor(PoolingEngine engine, PoolingBackend backend, ResidentTensor storage, TensorShape logical) {
        super(engine, backend, storage, logical);
    }

    /** Size of the data in bytes. */
    public long byteSize() {
        return tensorShape().elementCount() * Float.BYTES;
    }

    /**
     * A new host tensor with the contents, after the queued work that produces them; its memory
     * comes from the engine's pool (close it when done, see {@link PoolingEngine}).
     */
    public Tensor download() {
        requireOpen();
        Tensor into = Tensor.allocate(engine().resident().memory(), tensorShape(), DType.FLOAT32, false);
        try {
            return download(into);
        } catch (RuntimeException e) {
            into.close();
            throw e;
        }
    }

    /** Copies the contents into {@code into} (same shape) and returns it. */
    public Tensor download(Tensor into) {
        Objects.requireNonNull(into, "into");
        if (!into.tensorShape().equals(tensorShape())) {
            throw new IllegalArgumentException("download into " + into.tensorShape() + ": the device tensor is " + tensorShape());
        }
        engine().resident().download(this, into.reshaped(storage.shape()));
        return into;
    }

    /**
     * {@link #download()} without waiting: runs on the engine's submission thread after the work
     * submitted before it ({@link PoolingEngine#submit}). Keep this tensor open until it completes.
     */
    public CompletableFuture<Tensor> downloadAsync() {
        return engine().submit(e -> download());
    }

    @Override
    String closedMessage() {
        return "the device tensor " + tensorShape() + " is closed";
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + tensorShape() + " on " + backend.kind() + (isClosed() ? ", closed]" : "]");
    }
}
