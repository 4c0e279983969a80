package dev.clpool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Objects;

/**
 * The int64 indices of a max pooling: one per output element, laid out exactly like the values
 * (same rank and layout, for example NHWC (N, OH, OW, C)); what each number means is its
 * {@link #convention()}.
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

    private final TensorShape dims;
    /** {@code dims} as a {@link Shape} when it is 2-D channels-last, else null. */
    private final Shape shape;
    private final IndexConvention convention;
    private final ByteBuffer bytes;
    /** The pooled block these indices (or those they are a view of) hold; null if none. */
    private final HostMemoryPool.Block block;
    /** Whether {@link #close()} gives {@link #block} back: false for views. */
    private final boolean owner;
    private volatile boolean closed;

    private Indices(TensorShape dims, IndexConvention convention, ByteBuffer bytes, HostMemoryPool.Block block,
                    boolean owner) {
        this.dims = dims;
        this.shape = dims.isShape2d() ? dims.asShape() : null;
        this.convention = convention;
        this.bytes = bytes;
        this.block = block;
        this.owner = owner;
    }

    /** A zero-filled index array of the given shape. */
    public static Indices allocate(Shape shape, IndexConvention convention) {
        return allocate(TensorShape.of(Objects.requireNonNull(shape, "shape")), convention);
    }

    /** A zero-filled index array for values of any rank and layout. */
    public static Indices allocate(TensorShape shape, IndexConvention convention) {
        int size = checkedSize(shape, convention);
        return new Indices(shape, convention, ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder()), null, false);
    }

    /** Indices whose memory comes from {@code pool}, contents unspecified: for outputs written completely. */
    static Indices allocate(HostMemoryPool pool, TensorShape shape, IndexConvention convention) {
        int size = checkedSize(shape, convention);
        HostMemoryPool.Block b = pool.take(size, false);
        if (b == null) {
            return allocate(shape, convention);
        }
        return new Indices(shape, convention, b.memory().limit(size).slice().order(ByteOrder.nativeOrder()), b, true);
    }

    /** The same memory seen with another shape of the same element count and another convention label (a view). */
    Indices reshaped(TensorShape to, IndexConvention as) {
        if (to.elementCount() != dims.elementCount()) {
            throw new IllegalArgumentException("cannot view indices " + dims + " as " + to);
        }
        return new Indices(to, as, open().duplicate().order(ByteOrder.nativeOrder()), block, false);
    }

    /**
     * A view of batch items {@code first} .. {@code first + count - 1}: these indices' shape with
     * N = count, sharing their memory (writes show in both). The values are not rebased: for the
     * {@code nhwc} and {@code pytorch} conventions, which count within an item or a plane, a
     * view's indices are its items' own; ONNX's count from the whole tensor's first element.
     */
    public Indices batch(int first, int count) {
        if (first < 0 || count < 1 || first > dims.n() - count) {
            throw new IndexOutOfBoundsException("batch items " + first + " + " + count + " of " + dims.n());
        }
        long item = open().capacity() / dims.n();
        ByteBuffer view = open().slice(Math.toIntExact(first * item), Math.toIntExact(count * item))
                .order(ByteOrder.nativeOrder());
        return new Indices(TensorShape.of(count, dims.c(), dims.spatial(), dims.layout()), convention, view, block, false);
    }

    private static int checkedSize(TensorShape shape, IndexConvention convention) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(convention, "convention");
        long count = shape.elementCount();
        if (count > MAX_ELEMENTS) {
            throw new IllegalArgumentException("indices " + shape + " have " + count
                    + " elements; one index array holds at most " + MAX_ELEMENTS + " (2 GiB of int64)");
        }
        return (int) (count * Long.BYTES);
    }

    /**
     * The (N, OH, OW, C) shape of the 2-D channels-last values these indices belong to.
     *
     * @throws IllegalStateException the values have another rank or layout (use {@link #tensorShape()})
     */
    public Shape shape() {
        if (shape == null) {
            throw new IllegalStateException("indices " + dims + " are " + dims.describe()
                    + ", not 2-D channels-last: use tensorShape()");
        }
        return shape;
    }

    /** The shape of the pooled values these indices belong to, in every rank and layout. */
    public TensorShape tensorShape() {
        return dims;
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
        return closed || (block != null && block.isReleased());
    }

    /** Gives pooled memory back to its engine for reuse; afterwards every access throws. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (owner) {
            block.release();
        }
    }

    /** A view of the storage as longs (position 0); changes write through. */
    public LongBuffer longs() {
        return buffer().asLongBuffer();
    }

    /** The index for output element (n, oy, ox, c). */
    public long get(int n, int oy, int ox, int c) {
        return open().getLong(Math.toIntExact(shape().offset(n, oy, ox, c) * Long.BYTES));
    }

    /** A heap copy of all indices in storage order. */
    public long[] toArray() {
        long[] out = new long[Math.toIntExact(dims.elementCount())];
        longs().get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Indices[" + (shape != null ? shape.toString() : dims + " " + dims.describe()) + ", " + convention.word() + (closed ? ", closed]" : "]");
    }
}
