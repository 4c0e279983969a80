package dev.clpool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Objects;

/**
 * The int64 indices of a max pooling: one per output element, laid out exactly like the values
 * (NHWC, shape (N, OH, OW, C)); what each number means is its {@link #convention()}.
 *
 * <p>Storage is one direct buffer in native byte order (a Java direct buffer holds at most
 * 2<sup>31</sup>−1 bytes, so at most {@link #MAX_ELEMENTS} indices). Mutable elements, fixed shape;
 * concurrent reads are fine.
 */
public final class Indices {

    /** The most indices one array holds: a Java direct buffer is limited to 2^31-1 bytes. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Long.BYTES;

    private final Shape shape;
    private final IndexConvention convention;
    private final ByteBuffer bytes;

    private Indices(Shape shape, IndexConvention convention, ByteBuffer bytes) {
        this.shape = shape;
        this.convention = convention;
        this.bytes = bytes;
    }

    /** A zero-filled index array of the given shape. */
    public static Indices allocate(Shape shape, IndexConvention convention) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(convention, "convention");
        long count = shape.elementCount();
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException("indices " + shape + " have " + count
                    + " elements; one index array holds at most " + MAX_ELEMENTS + " (2 GiB of int64)");
        }
        ByteBuffer b = ByteBuffer.allocateDirect((int) (count * Long.BYTES)).order(ByteOrder.nativeOrder());
        return new Indices(shape, convention, b);
    }

    /** The shape of the pooled values these indices belong to. */
    public Shape shape() {
        return shape;
    }

    public IndexConvention convention() {
        return convention;
    }

    /** A view of the storage as bytes (native order, position 0); changes write through. */
    public ByteBuffer buffer() {
        return bytes.duplicate().order(ByteOrder.nativeOrder());
    }

    /** A view of the storage as longs (position 0); changes write through. */
    public LongBuffer longs() {
        return buffer().asLongBuffer();
    }

    /** The index for output element (n, oy, ox, c). */
    public long get(int n, int oy, int ox, int c) {
        return bytes.getLong(Math.toIntExact(shape.offset(n, oy, ox, c) * Long.BYTES));
    }

    /** A heap copy of all indices in NHWC order. */
    public long[] toArray() {
        long[] out = new long[Math.toIntExact(shape.elementCount())];
        longs().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Indices[" + shape + ", " + convention.word() + "]";
    }
}
