package dev.clpool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * An NHWC float32 tensor in direct (off-heap) memory, so that an OpenCL upload needs no copy.
 *
 * <p>The storage is one page-aligned direct buffer in native byte order; a single direct buffer
 * holds at most 2<sup>31</sup>−1 bytes, so a tensor holds at most {@link #MAX_ELEMENTS} elements.
 * A tensor is mutable (its elements), but its shape and storage never change. It is not
 * thread-safe for concurrent writes; concurrent reads are fine.
 */
public final class Tensor {

    /** The most elements one tensor holds: a Java direct buffer is limited to 2^31-1 bytes. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

    private static final int PAGE = 4096;

    private final Shape shape;
    private final ByteBuffer bytes;

    private Tensor(Shape shape, ByteBuffer bytes) {
        this.shape = shape;
        this.bytes = bytes;
    }

    /** A zero-filled tensor of the given shape. */
    public static Tensor allocate(Shape shape) {
        Objects.requireNonNull(shape, "shape");
        long count = shape.elementCount();
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException("tensor " + shape + " has " + count
                    + " elements; one tensor holds at most " + MAX_ELEMENTS + " (2 GiB of float32)");
        }
        int size = (int) (count * Float.BYTES);
        int rounded = (int) Math.min(Integer.MAX_VALUE, ((long) size + PAGE - 1) / PAGE * PAGE + PAGE);
        ByteBuffer raw = ByteBuffer.allocateDirect(rounded);
        ByteBuffer aligned = raw.alignedSlice(PAGE);
        if (aligned.capacity() < size) {
            // Only possible within a page of the 2 GiB limit: fall back to an unaligned buffer.
            aligned = raw;
        }
        aligned.limit(size);
        return new Tensor(shape, aligned.slice().order(ByteOrder.nativeOrder()));
    }

    /** A tensor holding a copy of {@code values}, which are in NHWC order. */
    public static Tensor of(Shape shape, float... values) {
        Objects.requireNonNull(values, "values");
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.elementCount()
                    + " values, got " + values.length);
        }
        Tensor t = allocate(shape);
        t.floats().put(values);
        return t;
    }

    /**
     * A tensor over existing direct memory (no copy). The buffer's remaining bytes, from its
     * position, must be exactly the tensor's size; it must be direct and in native byte order.
     */
    public static Tensor wrap(Shape shape, ByteBuffer buffer) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("tensor storage must be a direct buffer");
        }
        if (buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("tensor storage must be in native byte order ("
                    + ByteOrder.nativeOrder() + "), got " + buffer.order());
        }
        long need = shape.elementCount() * Float.BYTES;
        if (buffer.remaining() != need) {
            throw new IllegalArgumentException("shape " + shape + " needs " + need + " bytes, buffer has "
                    + buffer.remaining());
        }
        return new Tensor(shape, buffer.slice().order(ByteOrder.nativeOrder()));
    }

    public Shape shape() {
        return shape;
    }

    /** A view of the storage as bytes (native order, position 0); changes write through. */
    public ByteBuffer buffer() {
        return bytes.duplicate().order(ByteOrder.nativeOrder());
    }

    /** A view of the storage as floats (position 0); changes write through. */
    public FloatBuffer floats() {
        return buffer().asFloatBuffer();
    }

    /** Size of the storage in bytes. */
    public long byteSize() {
        return bytes.capacity();
    }

    public float get(int n, int y, int x, int c) {
        return bytes.getFloat(Math.toIntExact(shape.offset(n, y, x, c) * Float.BYTES));
    }

    public void set(int n, int y, int x, int c, float value) {
        bytes.putFloat(Math.toIntExact(shape.offset(n, y, x, c) * Float.BYTES), value);
    }

    /** A heap copy of all elements in NHWC order. */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(shape.elementCount())];
        floats().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor[" + shape + "]";
    }
}
