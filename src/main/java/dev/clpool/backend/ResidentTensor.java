package dev.clpool.backend;

import dev.clpool.Shape;
import dev.clpool.Tensor;

/**
 * A tensor's storage where a backend computes: a buffer on an OpenCL device, or host memory for
 * the CPU path. Created only by its backend ({@link PoolingBackend#upload},
 * {@link PoolingBackend#allocate}); the public handle is {@link dev.clpool.DeviceTensor}.
 *
 * <p>Work that writes a resident tensor may still be queued: {@link #download} waits for it.
 */
public interface ResidentTensor extends AutoCloseable {

    Shape shape();

    /** Copies the contents into {@code into} (same shape), after the work that produces them. */
    void download(Tensor into);

    /** Releases the storage; idempotent, never throws. Queued work that uses it still completes. */
    @Override
    void close();
}
