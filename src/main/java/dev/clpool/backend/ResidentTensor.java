package dev.clpool.backend;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;

/**
 * A tensor's storage where a backend computes: a buffer on an OpenCL device, or host memory for
 * the CPU path. Created only by its backend ({@link PoolingBackend#upload},
 * {@link PoolingBackend#allocate}); the public handle is {@link dev.clpool.DeviceTensor}.
 *
 * <p>Work that writes a resident tensor may still be queued: {@link #download} waits for it.
 */
public interface ResidentTensor extends AutoCloseable {

    Shape shape();

    /** Bytes per element: {@link Float#BYTES} for float32 values, {@link Long#BYTES} for int64 indices. */
    default int elementBytes() {
        return Float.BYTES;
    }

    /** Copies the contents into {@code into} (same shape, float32), after the work that produces them. */
    void download(Tensor into);

    /**
     * Copies the raw contents ({@code shape().elementCount() * elementBytes()} bytes, native
     * order) into {@code into} from its position, after the work that produces them: how int64
     * indices come back ({@link dev.clpool.Indices#buffer()}).
     */
    void download(ByteBuffer into);

    /**
     * The same storage seen with another shape of the same element count, for one operation's
     * calls: closing the view releases nothing, and the view must not outlive this tensor.
     */
    ResidentTensor view(Shape shape);

    /** Releases the storage; idempotent, never throws. Queued work that uses it still completes. */
    @Override
    void close();
}
