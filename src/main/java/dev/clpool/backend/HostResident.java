package dev.clpool.backend;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.util.Objects;

/** A {@link ResidentTensor} in host memory: what the CPU path (and any host backend) computes on. */
public final class HostResident implements ResidentTensor {
    private final Tensor tensor;
    private volatile boolean closed;

    public HostResident(Tensor tensor) {
        this.tensor = Objects.requireNonNull(tensor, "tensor");
    }

    /** A host copy of {@code t}: an upload is a snapshot on every backend. */
    public static HostResident copyOf(Tensor t) {
        Tensor copy = Tensor.allocate(t.shape());
        copy.buffer().put(t.buffer());
        return new HostResident(copy);
    }

    /** The host tensor itself (no copy). */
    public Tensor tensor() {
        if (closed) {
            throw new IllegalStateException("the tensor is closed");
        }
        return tensor;
    }

    @Override
    public Shape shape() {
        return tensor.shape();
    }

    @Override
    public void download(Tensor into) {
        into.buffer().put(tensor().buffer());
    }

    @Override
    public void download(ByteBuffer into) {
        into.put(tensor().buffer());
    }

    @Override
    public ResidentTensor view(Shape shape) {
        return new HostResident(Tensor.wrap(shape, tensor().buffer()));
    }

    @Override
    public void close() {
        closed = true;
    }
}
