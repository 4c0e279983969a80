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
 *
 * <p>Indices returned by a {@link PoolingEngine} hold memory from the engine's pool, as its
 * tensors do: {@link #close()} gives it back for reuse, after which every access throws
 * {@link IllegalStateException} and earlier views must not be used (see {@link Tensor}).
 */
public final class Indices implements AutoCloseable {

    /** The most indices one array holds: a Java direct buffer is limited to 2^31-1 bytes. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Long.BYTES;

    private final Shape shape;
    private final IndexConvention convention;
    private final ByteBuffer bytes;
    /** The pooled block these indices own; null if none. */
    private final HostMemoryPool.Block block;
    private volatile boolean closed;

    private Indices(Shape shape, IndexConvention convention, ByteBuffer bytes, HostMemoryPool.Block block) {
        this.shape = shape;
        this.convention = convention;
        this.bytes = bytes;
        this.block = block;
    }

    /** A zero-filled index array of the given shape. */
    public static Indices allocate(Shape shape, IndexConvention convention) {
        int size = checkedSize(shape, convention);
        return new Indices(shape, convention, ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder()), null);
    }

    /** Indices whose memory comes from {@code pool}, contents unspecified: for outputs written completely. */
    static Indices allocate(HostMemoryPool pool, Shape shape, IndexConvention convention) {
        int size = checkedSize(shape, convention);
        HostMemoryPool.Block b = pool.take(size, false);
        if (b == null) {
            return allocate(shape, convention);
        }
        return new Indices(shape, convention, b.memory().limit(size).slice().order(ByteOrder.nativeOrder()), b);
    }

    private static int checkedSize(Shape shape, IndexConvention convention) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(convention, "convention");
        long count = shape.elementCount();
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException("indices " + shape + " have " + count
                    + " elements; one index array holds at most " + MAX_ELEMENTS + " (2 GiB of int64)");
        }
        return (int) (count * Long.BYTES);
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
        return open().duplicate().order(ByteOrder.nativeOrder());
    }

    private ByteBuffer open() {
        if (isClosed()) {
            throw new IllegalStateException("the indices " + this + " are closed");
        }
        return bytes;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Gives pooled memory back to its engine for reuse; afterwards every access throws. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (block != null) {
            block.release();
        }
    }

    /** A view of the storage as longs (position 0); changes write through. */
    public LongBuffer longs() {
        return buffer().asLongBuffer();
    }

    /** The index for output element (n, oy, ox, c). */
    public long get(int n, int oy, int ox, int c) {
        return open().getLong(Math.toIntExact(shape.offset(n, oy, ox, c) * Long.BYTES));
    }

    /** A heap copy of all indices in NHWC order. */
    public long[] toArray() {
        long[] out = new long[Math.toIntExact(shape.elementCount())];
        longs().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Indices[" + shape + ", " + convention.word() + (closed ? ", closed]" : "]");
    }
}
