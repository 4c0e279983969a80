package dev.clpool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Objects;

/**
 * A tensor in direct (off-heap) memory, so that an OpenCL upload needs no copy: spatial rank 1, 2
 * or 3, channels-last or channels-first ({@link TensorShape}); the classic 2-D channels-last
 * (N, H, W, C) tensor also has a {@link Shape} ({@link #shape()}). Elements are
 * stored as its {@link DType}: float32 (the default), float16 or bfloat16. Computation is float32
 * whatever the storage; {@link #get} and {@link #set} convert (see {@link DType}).
 *
 * <p>The storage is one page-aligned direct buffer in native byte order; a single direct buffer
 * holds at most 2<sup>31</sup>−1 bytes, so a tensor holds at most {@link #maxElements(DType)}
 * elements ({@link #MAX_ELEMENTS} of float32). A tensor is mutable (its elements), but its shape,
 * type and storage never change. It is not thread-safe for concurrent writes; concurrent reads are
 * fine.
 *
 * <p>Tensors returned by a {@link PoolingEngine} hold memory from that engine's pool of reusable
 * blocks: {@link #close()} gives the block back at once, for the next result to reuse. After
 * {@code close()} the tensor refuses every access with {@link IllegalStateException}, and views
 * taken before ({@link #buffer()}, {@link #floats()}, {@link #batch}) must no longer be used: the
 * memory may hold another tensor by then. A tensor that is never closed stays valid while it or
 * any view of it is reachable; once neither is, the garbage collector gives its memory back to
 * the engine for reuse (where LWJGL's JNI library loads; elsewhere the JDK frees it). Closing a
 * tensor that owns no pooled block ({@link #allocate}, {@link #of}, {@link #wrap}) only marks it
 * closed.
 */
public final class Tensor implements AutoCloseable {

    /** The most float32 elements one tensor holds: a Java direct buffer is limited to 2^31-1 bytes. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

    private static final int PAGE = 4096;
    /** Elements converted per step by {@link #convert} (heap scratch, not per element). */
    private static final int CONVERT_CHUNK = 1 << 14;

    private final TensorShape dims;
    /** {@code dims} as a {@link Shape} when it is 2-D channels-last, else null. */
    private final Shape shape;
    private final DType dtype;
    private final ByteBuffer bytes;
    /** The pooled block this tensor (or the tensor it is a batch view of) holds; null if none. */
    private final HostMemoryPool.Block block;
    /** Whether {@link #close()} gives {@link #block} back: false for batch views. */
    private final boolean owner;
    private volatile boolean closed;

    private Tensor(TensorShape dims, DType dtype, ByteBuffer bytes) {
        this(dims, dtype, bytes, null, false);
    }

    private Tensor(TensorShape dims, DType dtype, ByteBuffer bytes, HostMemoryPool.Block block, boolean owner) {
        this.dims = dims;
        this.shape = dims.isShape2d() ? dims.asShape() : null;
        this.dtype = dtype;
        this.bytes = bytes;
        this.block = block;
        this.owner = owner;
    }

    /** The most elements one tensor of {@code dtype} holds (2^31-1 bytes). */
    public static long maxElements(DType dtype) {
        return Integer.MAX_VALUE / Objects.requireNonNull(dtype, "dtype").byteSize();
    }

    /** A zero-filled float32 tensor of the given shape. */
    public static Tensor allocate(Shape shape) {
        return allocate(shape, DType.FLOAT32);
    }

    /** A zero-filled tensor of the given shape and storage type. */
    public static Tensor allocate(Shape shape, DType dtype) {
        return allocate(TensorShape.of(Objects.requireNonNull(shape, "shape")), dtype);
    }

    /** A zero-filled float32 tensor of any rank and layout. */
    public static Tensor allocate(TensorShape shape) {
        return allocate(shape, DType.FLOAT32);
    }

    /** A zero-filled tensor of any rank and layout and the given storage type. */
    public static Tensor allocate(TensorShape shape, DType dtype) {
        int size = checkedSize(shape, dtype);
        int rounded = (int) Math.min(Integer.MAX_VALUE, ((long) size + PAGE - 1) / PAGE * PAGE + PAGE);
        ByteBuffer raw = ByteBuffer.allocateDirect(rounded);
        ByteBuffer aligned = raw.alignedSlice(PAGE);
        if (aligned.capacity() < size) {
            // Only possible within a page of the 2 GiB limit: fall back to an unaligned buffer.
            aligned = raw;
        }
        aligned.limit(size);
        return new Tensor(shape, dtype, aligned.slice().order(ByteOrder.nativeOrder()));
    }

    /**
     * A tensor whose memory comes from {@code pool}; its contents are unspecified (whatever the
     * block held) unless {@code zeroed}. For outputs that an operation overwrites completely.
     */
    static Tensor allocate(HostMemoryPool pool, TensorShape shape, DType dtype, boolean zeroed) {
        int size = checkedSize(shape, dtype);
        HostMemoryPool.Block b = pool.take(size, zeroed);
        if (b == null) {
            return allocate(shape, dtype);
        }
        ByteBuffer view = b.memory().limit(size).slice().order(ByteOrder.nativeOrder());
        return new Tensor(shape, dtype, view, b, true);
    }

    private static int checkedSize(TensorShape shape, DType dtype) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(dtype, "dtype");
        long count = shape.elementCount();
        long max = maxElements(dtype);
        if (count > max) {
            throw new IllegalArgumentException("tensor " + shape + " has " + count
                    + " elements; one " + dtype.word() + " tensor holds at most " + max + " (2 GiB)");
        }
        return (int) (count * dtype.byteSize());
    }

    /** A float32 tensor holding a copy of {@code values}, which are in NHWC order. */
    public static Tensor of(Shape shape, float... values) {
        return of(shape, DType.FLOAT32, values);
    }

    /** A tensor of {@code dtype} holding {@code values} (NHWC order), each rounded once to {@code dtype}. */
    public static Tensor of(Shape shape, DType dtype, float... values) {
        return of(TensorShape.of(Objects.requireNonNull(shape, "shape")), dtype, values);
    }

    /** A float32 tensor of any rank and layout holding a copy of {@code values}, in its storage order. */
    public static Tensor of(TensorShape shape, float... values) {
        return of(shape, DType.FLOAT32, values);
    }

    /** A tensor of any rank and layout holding {@code values} in its storage order, each rounded once to {@code dtype}. */
    public static Tensor of(TensorShape shape, DType dtype, float... values) {
        Objects.requireNonNull(values, "values");
        if (values.length != shape.elementCount()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.elementCount()
                    + " values, got " + values.length);
        }
        Tensor t = allocate(shape, dtype);
        if (dtype == DType.FLOAT32) {
            t.floats().put(values);
        } else {
            ShortBuffer s = t.shorts();
            for (int i = 0; i < values.length; i++) {
                s.put(i, encode(dtype, values[i]));
            }
        }
        return t;
    }

    /** A float32 tensor over existing direct memory (no copy); see {@link #wrap(Shape, DType, ByteBuffer)}. */
    public static Tensor wrap(Shape shape, ByteBuffer buffer) {
        return wrap(shape, DType.FLOAT32, buffer);
    }

    /**
     * A tensor of {@code dtype} over existing direct memory (no copy). The buffer's remaining
     * bytes, from its position, must be exactly the tensor's size; it must be direct and in native
     * byte order.
     */
    public static Tensor wrap(Shape shape, DType dtype, ByteBuffer buffer) {
        return wrap(TensorShape.of(Objects.requireNonNull(shape, "shape")), dtype, buffer);
    }

    /** A tensor of any rank and layout over existing direct memory; see {@link #wrap(Shape, DType, ByteBuffer)}. */
    public static Tensor wrap(TensorShape shape, DType dtype, ByteBuffer buffer) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("tensor storage must be a direct buffer");
        }
        if (buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("tensor storage must be in native byte order ("
                    + ByteOrder.nativeOrder() + "), got " + buffer.order());
        }
        long need = shape.elementCount() * dtype.byteSize();
        if (buffer.remaining() != need) {
            throw new IllegalArgumentException("shape " + shape + " of " + dtype.word() + " needs " + need
                    + " bytes, buffer has " + buffer.remaining());
        }
        return new Tensor(shape, dtype, buffer.slice().order(ByteOrder.nativeOrder()));
    }

    /**
     * The (N, H, W, C) shape of a 2-D channels-last tensor.
     *
     * @throws IllegalStateException the tensor has another rank or layout (use {@link #tensorShape()})
     */
    public Shape shape() {
        if (shape == null) {
            throw new IllegalStateException("tensor " + dims + " is " + dims.describe()
                    + ", not 2-D channels-last: use tensorShape()");
        }
        return shape;
    }

    /** The shape in every rank and layout. */
    public TensorShape tensorShape() {
        return dims;
    }

    /** The same memory seen with another shape of the same element count (a view; never owns the block). */
    Tensor reshaped(TensorShape to) {
        if (to.elementCount() != dims.elementCount()) {
            throw new IllegalArgumentException("cannot view " + dims + " as " + to);
        }
        return new Tensor(to, dtype, open().duplicate().order(ByteOrder.nativeOrder()), block, false);
    }

    /** {@link #reshaped(TensorShape)} with a 2-D channels-last shape. */
    Tensor reshaped(Shape to) {
        return reshaped(TensorShape.of(to));
    }

    /** How the elements are stored. */
    public DType dtype() {
        return dtype;
    }

    /** A view of the storage as bytes (native order, position 0); changes write through. */
    public ByteBuffer buffer() {
        return open().duplicate().order(ByteOrder.nativeOrder());
    }

    /** The storage, after checking that the tensor is open. */
    private ByteBuffer open() {
        if (isClosed()) {
            throw new IllegalStateException("the tensor " + this + " is closed");
        }
        return bytes;
    }

    /** Whether {@link #close()} was called (on this tensor, or on the tensor this is a batch view of). */
    public boolean isClosed() {
        return closed || (block != null && block.isReleased());
    }

    /**
     * Closes this tensor: a tensor from a {@link PoolingEngine} gives its memory back to the
     * engine for reuse at once. Afterwards every access throws {@link IllegalStateException}, and
     * neither this tensor's views nor (for a tensor that owns its memory) its batch views may be
     * used. Do not close a tensor that an operation in flight still reads or writes. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        if (owner) {
            block.release();
        }
    }

    /**
     * A view of a float32 tensor's storage as floats (position 0); changes write through.
     *
     * @throws IllegalStateException the tensor is float16 or bfloat16 (use {@link #shorts()},
     *                               {@link #get}, {@link #toArray()} or {@link #convert})
     */
    public FloatBuffer floats() {
        if (dtype != DType.FLOAT32) {
            throw new IllegalStateException("floats() views float32 storage, this tensor is " + dtype.word()
                    + ": use shorts() for its raw bits, get/set or toArray() for values, or convert(DType.FLOAT32)");
        }
        return buffer().asFloatBuffer();
    }

    /**
     * A view of a float16 or bfloat16 tensor's storage as raw 16-bit patterns (position 0);
     * changes write through. {@link Float16} and {@link BFloat16} convert them.
     *
     * @throws IllegalStateException the tensor is float32 (use {@link #floats()})
     */
    public ShortBuffer shorts() {
        if (dtype.byteSize() != Short.BYTES) {
            throw new IllegalStateException("shorts() views 16-bit storage, this tensor is " + dtype.word()
                    + ": use floats()");
        }
        return buffer().asShortBuffer();
    }

    /**
     * A view of batch items {@code first} .. {@code first + count - 1}: this shape with N = count,
     * sharing this tensor's memory (writes show in both).
     */
    public Tensor batch(int first, int count) {
        if (first < 0 || count < 1 || first > dims.n() - count) {
            throw new IndexOutOfBoundsException("batch items " + first + " + " + count + " of " + dims.n());
        }
        long item = byteSize() / dims.n();
        ByteBuffer view = open().slice(Math.toIntExact(first * item), Math.toIntExact(count * item))
                .order(ByteOrder.nativeOrder());
        return new Tensor(TensorShape.of(count, dims.c(), dims.spatial(), dims.layout()), dtype, view, block, false);
    }

    /** Size of the storage in bytes: elements times {@code dtype().byteSize()}. */
    public long byteSize() {
        return bytes.capacity();
    }

    /** Element (n, y, x, c) as a float (exact for every storage type). */
    public float get(int n, int y, int x, int c) {
        int i = Math.toIntExact(shape().offset(n, y, x, c) * dtype.byteSize());
        ByteBuffer b = open();
        return dtype == DType.FLOAT32 ? b.getFloat(i) : decode(dtype, b.getShort(i));
    }

    /** Sets element (n, y, x, c) to {@code value} rounded once to the storage type (nearest, ties to even). */
    public void set(int n, int y, int x, int c, float value) {
        int i = Math.toIntExact(shape().offset(n, y, x, c) * dtype.byteSize());
        ByteBuffer b = open();
        if (dtype == DType.FLOAT32) {
            b.putFloat(i, value);
        } else {
            b.putShort(i, encode(dtype, value));
        }
    }

    /** A heap copy of all elements in storage order, as floats (exact for every storage type). */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(dims.elementCount())];
        if (dtype == DType.FLOAT32) {
            floats().get(out);
        } else {
            ShortBuffer s = shorts();
            for (int i = 0; i < out.length; i++) {
                out[i] = decode(dtype, s.get(i));
            }
        }
        return out;
    }

    /**
     * A new tensor of {@code to} with this tensor's values, each rounded once to {@code to}
     * (widening to float32 is exact; float16 to bfloat16 and back round). Always a copy, even
     * when {@code to} is this tensor's type.
     */
    public Tensor convert(DType to) {
        Tensor t = allocate(dims, Objects.requireNonNull(to, "dtype"));
        convertInto(this, t);
        return t;
    }

    /**
     * Copies this tensor's values into {@code dst} (same shape, any type), each rounded once to
     * {@code dst}'s type as {@link #convert} does, without allocating a tensor.
     */
    public void convertInto(Tensor dst) {
        convertInto(this, Objects.requireNonNull(dst, "dst"));
    }

    /** Copies {@code src} into {@code dst} (same shape), rounding each element once to {@code dst}'s type. */
    static void convertInto(Tensor src, Tensor dst) {
        if (!src.dims.equals(dst.dims)) {
            throw new IllegalArgumentException("cannot convert " + src + " into " + dst + ": shapes differ");
        }
        if (src.dtype == dst.dtype) {
            dst.buffer().put(src.buffer());
            return;
        }
        int count = Math.toIntExact(src.dims.elementCount());
        float[] f = new float[Math.min(count, CONVERT_CHUNK)];
        short[] s = new short[f.length];
        for (int i0 = 0; i0 < count; i0 += f.length) {
            int len = Math.min(f.length, count - i0);
            if (src.dtype == DType.FLOAT32) {
                src.floats().get(i0, f, 0, len);
            } else {
                src.shorts().get(i0, s, 0, len);
                for (int i = 0; i < len; i++) {
                    f[i] = decode(src.dtype, s[i]);
                }
            }
            if (dst.dtype == DType.FLOAT32) {
                dst.floats().put(i0, f, 0, len);
            } else {
                for (int i = 0; i < len; i++) {
                    s[i] = encode(dst.dtype, f[i]);
                }
                dst.shorts().put(i0, s, 0, len);
            }
        }
    }

    private static float decode(DType dtype, short bits) {
        return dtype == DType.FLOAT16 ? Float16.toFloat(bits) : BFloat16.toFloat(bits);
    }

    private static short encode(DType dtype, float value) {
        return dtype == DType.FLOAT16 ? Float16.fromFloat(value) : BFloat16.fromFloat(value);
    }

    @Override
    public String toString() {
        return "Tensor[" + (shape != null ? shape.toString() : dims + " " + dims.describe()) + (dtype == DType.FLOAT32 ? "" : " " + dtype.word()) + (isClosed() ? ", closed]" : "]");
    }
}
