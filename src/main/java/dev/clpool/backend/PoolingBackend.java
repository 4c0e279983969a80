package dev.clpool.backend;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;

/**
 * A place pooling runs: the CPU path or one OpenCL device. The engine validates every request
 * (through {@link dev.clpool.PoolSpec#geometry}) and allocates the output before calling a
 * backend, so backends only compute. Implementations are thread-safe.
 */
public interface PoolingBackend extends AutoCloseable {

    /** {@code cpu} or {@code opencl}. */
    String kind();

    /** A one-line description for people: the device, the binding, the thread count. */
    String description();

    /** Windowed pooling: {@code out} has shape {@code g.output()}. */
    void pool(PoolGeometry g, Tensor in, Tensor out);

    /** Global pooling over each H×W plane: {@code mode} is MAX or AVG, {@code out} is (N, 1, 1, C). */
    void global(PoolMode mode, Tensor in, Tensor out);

    /**
     * A copy of {@code t} where this backend computes (a snapshot: later changes to {@code t} do
     * not show). The default keeps it in host memory, which is right for host backends.
     */
    default ResidentTensor upload(Tensor t) {
        return HostResident.copyOf(t);
    }

    /** Uninitialised storage for a tensor of shape {@code s} where this backend computes. */
    default ResidentTensor allocate(Shape s) {
        return new HostResident(Tensor.allocate(s));
    }

    /**
     * Windowed pooling between resident tensors of this backend; may return before the work is
     * done ({@link ResidentTensor#download} and {@link #finish} wait for it).
     */
    default void pool(PoolGeometry g, ResidentTensor in, ResidentTensor out) {
        pool(g, host(in), host(out));
    }

    /** Global pooling between resident tensors of this backend; may return before the work is done. */
    default void global(PoolMode mode, ResidentTensor in, ResidentTensor out) {
        global(mode, host(in), host(out));
    }

    /** Waits until all work submitted to this backend has completed (nothing to wait for on the host). */
    default void finish() {
    }

    private static Tensor host(ResidentTensor t) {
        if (t instanceof HostResident h) {
            return h.tensor();
        }
        throw new IllegalArgumentException("a tensor resident on another backend: " + t);
    }

    /** Releases every resource; idempotent, never throws. */
    @Override
    void close();
}
