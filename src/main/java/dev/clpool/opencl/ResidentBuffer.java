package dev.clpool.opencl;

import dev.clpool.IndexConvention;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import java.nio.ByteBuffer;

/**
 * A device buffer holding one tensor of a {@link DeviceSession}: float32 values, or the int64
 * indices of a max pooling in one {@link IndexConvention}. Closing it gives the buffer back to the
 * session's pool; a download waits for the work queued before it.
 */
final class ResidentBuffer implements ResidentTensor {
    private final DeviceSession session;
    private final ClBuffer buffer;
    private final Shape shape;
    private final IndexConvention convention;
    /** The tensor this is a view of (closing a view releases nothing); null for the owner. */
    private final ResidentBuffer viewOf;
    private volatile boolean released;

    ResidentBuffer(DeviceSession session, ClBuffer buffer, Shape shape, IndexConvention convention) {
        this(session, buffer, shape, convention, null);
    }

    private ResidentBuffer(DeviceSession session, ClBuffer buffer, Shape shape, IndexConvention convention,
                           ResidentBuffer viewOf) {
        this.session = session;
        this.buffer = buffer;
        this.shape = shape;
        this.convention = convention;
        this.viewOf = viewOf;
    }

    @Override
    public ResidentTensor view(Shape to) {
        if (to.elementCount() != shape.elementCount() || convention != null) {
            throw new IllegalArgumentException("cannot view " + this + " as " + to);
        }
        return new ResidentBuffer(session, buffer, to, null, viewOf != null ? viewOf : this);
    }

    ClBuffer buffer() {
        return buffer;
    }

    /** The index convention of int64 indices; null for float32 values. */
    IndexConvention convention() {
        return convention;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public int elementBytes() {
        return convention == null ? Float.BYTES : Long.BYTES;
    }

    @Override
    public void download(Tensor into) {
        if (convention != null) {
            throw new IllegalArgumentException("int64 indices cannot be downloaded into a float tensor " + into.shape());
        }
        session.locked(() -> {
            requireLive();
            session.queue().read(buffer, into.buffer(), true);
        });
    }

    @Override
    public void download(ByteBuffer into) {
        session.locked(() -> {
            requireLive();
            int bytes = Math.toIntExact(shape.elementCount() * elementBytes());
            session.queue().read(buffer, into.slice(into.position(), bytes), true);
            into.position(into.position() + bytes);
        });
    }

    /**
     * This tensor, checked to belong to {@code owner}, to be open and to have shape {@code want}
     * and this kind ({@code indices}: int64 indices, else float32 values).
     */
    static ResidentBuffer of(DeviceSession owner, ResidentTensor t, Shape want, boolean indices) {
        if (!(t instanceof ResidentBuffer b) || b.session != owner) {
            throw new IllegalArgumentException(t + " is not resident on this device");
        }
        owner.locked(b::requireLive);
        if (!b.shape.equals(want)) {
            throw new IllegalArgumentException("device tensor " + b.shape + ": expected " + want);
        }
        if ((b.convention != null) != indices) {
            throw new IllegalArgumentException("device tensor " + b.shape + ": expected " + (indices ? "int64 indices" : "float32 values"));
        }
        return b;
    }

    private void requireLive() {
        if (released || viewOf != null && viewOf.released) {
            throw new IllegalStateException("the device tensor " + shape + " is closed");
        }
    }

    @Override
    public void close() {
        boolean first;
        synchronized (this) {
            first = !released;
            released = true;
        }
        if (first && viewOf == null) {
            session.release(this);
        }
    }

    @Override
    public String toString() {
        return "device " + (convention == null ? "tensor " : "indices (" + convention + ") ") + shape + " on " + session.device();
    }
}
