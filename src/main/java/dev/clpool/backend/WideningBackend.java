package dev.clpool.backend;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;
import dev.clpool.cpu.CpuBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Gives a float32-only backend (the CPU path) every storage type, converting at the edges and
 * nowhere else: 16-bit inputs are widened to float32 temporaries (exact), the backend runs its
 * float32 code unchanged, and each output is rounded once into its storage type. Float32 requests
 * pass straight through, with no copy. Windowed pooling that the backend can run on the 16-bit
 * patterns themselves, to the same bits ({@link PoolingBackend#poolStored},
 * {@link PoolingBackend#globalStored}: the CPU path's channels-last max windows and global max), is
 * handed over as it is, nothing widened.
 *
 * <p>This is SEMANTICS' rule for 16-bit storage by construction: the output is the float32 result
 * rounded once. On one thread, operations whose batch items are independent run item by item, in
 * chunks of about {@link #CHUNK_BYTES} of float32 temporaries: each chunk's input widened, pooled
 * and its result rounded before the next chunk, so the temporaries stay in the caches and are
 * reused by every chunk (the whole tensor at once when its indices count across items: ONNX's
 * conventions). With more threads the batch is split by items between {@link BatchLanes}, one-thread
 * backends that run at once, each taking its items in such chunks; a tensor that cannot be split
 * so (one item, or indices counted across items) goes whole over the threads ({@link #WHOLE}):
 * chunks split over the threads step by step cost more than the caches save (docs/performance.md).
 * On the CPU path the conversions run in blocks over its threads ({@link CpuBackend#convert}), and the
 * float32 temporaries come from a small cache of direct buffers kept between calls (at most
 * {@link #MAX_IDLE_BYTES} idle, dropped on {@link #close()}): a fresh direct buffer costs its size
 * in zero-filling and page faults, several times the conversion itself.
 */
public final class WideningBackend implements PoolingBackend {
    /** The most bytes of idle float32 temporaries kept for the next call. */
    static final long MAX_IDLE_BYTES = 256L << 20;
    /**
     * Float32 bytes of temporaries per chunk of batch items: a chunk is widened, pooled and rounded
     * before the next, so its temporaries are written and read back in the caches instead of
     * memory. Stem max over 32×112×112×64 float16, one thread: 19.9 ms widened whole, 17.0 in
     * chunks of 4 MB, 17.5 in 16 MB; its average 22.4, 15.8 and 17.0 (docs/performance.md).
     */
    static final long CHUNK_BYTES = 4L << 20;
    /**
     * Temporaries of at most this many chunks are taken whole: they fit the caches as they are
     * (ResNet-50's head, 12.8 MB of float32, ran 12% slower in chunks of ten items).
     */
    static final int WHOLE_CHUNKS = 4;
    /**
     * The chunk size that takes every tensor whole. With two threads, chunks of 4 MB made the
     * float16 Inception 3×3 average 9.3–9.9 → 18–21 ms, DenseNet's 3.8–4.0 → 5.2–6.0 and the stem's
     * max backward 33–42 → 49–53 (16 MB: 15–20, 3.7–4.3, 45–52): each chunk's widening, pooling and
     * rounding are three jobs over the threads, and a chunk's few rows split into ranges too short
     * for the row rings the kernels fill at each range's start.
     */
    static final long WHOLE = Long.MAX_VALUE / 16;
    /** Shares of a batch split between lanes, per lane: the threads claim them as they come free. */
    static final int SHARES_PER_THREAD = 4;

    private final PoolingBackend delegate;
    private final long chunkBytes;
    /** One-thread backends the batch is split between, each in chunks of {@link #laneChunkBytes}; null on one thread. */
    private final BatchLanes lanes;
    private final long laneChunkBytes;
    private final List<ByteBuffer> idle = new ArrayList<>();
    private long idleBytes;

    /** Over {@code delegate}, every tensor whole. */
    public WideningBackend(PoolingBackend delegate) {
        this(delegate, WHOLE);
    }

    /** Over a delegate that runs on one thread: chunks of {@link #CHUNK_BYTES}. */
    public WideningBackend(PoolingBackend delegate, int threads) {
        this(delegate, threads == 1 ? CHUNK_BYTES : WHOLE);
    }

    /**
     * Over a delegate of several threads, whose batches split by items between {@code lanes} (each
     * in chunks of {@link #CHUNK_BYTES}); what cannot be split so goes whole over the delegate.
     */
    public WideningBackend(PoolingBackend delegate, BatchLanes lanes) {
        this(delegate, WHOLE, lanes, CHUNK_BYTES);
    }

    /** With chunks of {@code chunkBytes} of float32 temporaries (tests use small ones). */
    WideningBackend(PoolingBackend delegate, long chunkBytes) {
        this(delegate, chunkBytes, null, CHUNK_BYTES);
    }

    /** Split between {@code lanes} in chunks of {@code laneChunkBytes}, else whole or in chunks of {@code chunkBytes}. */
    WideningBackend(PoolingBackend delegate, long chunkBytes, BatchLanes lanes, long laneChunkBytes) {
        this.delegate = delegate;
        this.chunkBytes = chunkBytes;
        this.lanes = lanes;
        this.laneChunkBytes = laneChunkBytes;
    }

    @Override
    public String kind() {
        return delegate.kind();
    }

    @Override
    public String description() {
        return delegate.description();
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        if (!float32(in, out) && delegate.poolStored(g, in, out)) {
            return; // pooled on the 16-bit patterns, to the bits of the widened path below
        }
        if (float32(in, out) || !batchOf(g.input().n(), in, out)) {
            widened(in, out, (x, y) -> delegate.pool(g, x, y));
            return;
        }
        inChunks(in.tensorShape().n(), new Tensor[] {in}, false, out,
                (b, first, count, x, y) -> b.pool(sub(g, count), x[0], y));
    }

    @Override
    public void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        int n = in.tensorShape().n();
        if (float32(in, out) || g.planes() % n != 0) {
            widened(in, out, (x, y) -> delegate.poolPlanar(g, x, y));
            return;
        }
        int perItem = g.planes() / n;
        inChunks(n, new Tensor[] {in}, false, out, (b, first, count, x, y) -> b.poolPlanar(
                new PlanarGeometry(count * perItem, g.axes(), g.mode(), g.p(), g.countIncludePad()), x[0], y));
    }

    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        int n = in.tensorShape().n();
        if (float32(in, out) || planes % n != 0) {
            widened(in, out, (x, y) -> delegate.globalPlanar(mode, planes, planeSize, x, y));
            return;
        }
        int perItem = planes / n;
        inChunks(n, new Tensor[] {in}, false, out,
                (b, first, count, x, y) -> b.globalPlanar(mode, count * perItem, planeSize, x[0], y));
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        if (!float32(in, out) && delegate.globalStored(mode, in, out)) {
            return;
        }
        if (float32(in, out)) {
            delegate.global(mode, in, out);
            return;
        }
        inChunks(in.tensorShape().n(), new Tensor[] {in}, false, out,
                (b, first, count, x, y) -> b.global(mode, x[0], y));
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (float32(in, gradOut) && gradIn.dtype() == DType.FLOAT32) {
            delegate.backward(g, in, gradOut, gradIn);
            return;
        }
        int n = g.input().n();
        if (!batchOf(n, in, gradOut) || gradIn.tensorShape().n() != n) {
            backwardWhole(g.mode(), in, gradOut, gradIn, (x, dy, dx) -> {
                delegate.backward(g, x, dy, dx);
                return true;
            });
            return;
        }
        // Avg's gradient depends on dy and the geometry only: its x is never read, so not converted.
        inChunks(n, new Tensor[] {in, gradOut}, g.mode() == PoolMode.AVG, gradIn,
                (b, first, count, x, dx) -> b.backward(sub(g, count), x[0], x[1], dx));
    }

    /**
     * The delegate's one-pass kernel, on float32 forms of 16-bit tensors (the gradient rounded
     * once); where the delegate has none, nothing is written and the caller lowers the operation.
     */
    @Override
    public boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (float32(in, gradOut) && gradIn.dtype() == DType.FLOAT32) {
            return delegate.backwardPlanar(mode, axes, planes, in, gradOut, gradIn);
        }
        if (!delegate.hasBackwardPlanar(mode, axes)) {
            return false;
        }
        int n = in.tensorShape().n();
        if (planes % n != 0 || !batchOf(n, gradOut, gradIn)) {
            return backwardWhole(mode, in, gradOut, gradIn,
                    (x, dy, dx) -> delegate.backwardPlanar(mode, axes, planes, x, dy, dx));
        }
        int perItem = planes / n;
        // hasBackwardPlanar holds, and float32 tensors are what the kernel takes: no chunk refuses.
        inChunks(n, new Tensor[] {in, gradOut}, mode == PoolMode.AVG, gradIn, (b, first, count, x, dx) -> {
            if (!b.backwardPlanar(mode, axes, count * perItem, x[0], x[1], dx)) {
                throw new IllegalStateException("the planar " + mode + " backward refused float32 items " + first + ".."
                        + (first + count - 1) + " of a geometry it has a kernel for");
            }
        });
        return true;
    }

    @Override
    public boolean hasBackwardPlanar(PoolMode mode, Axis[] axes) {
        return delegate.hasBackwardPlanar(mode, axes);
    }

    /** A backward on float32 tensors: true once it wrote the whole gradient. */
    @FunctionalInterface
    private interface Backward {
        boolean run(Tensor in, Tensor gradOut, Tensor gradIn);
    }

    /** {@code op} on float32 forms of the whole tensors; where it wrote the gradient, rounds it once into {@code gradIn}. */
    private boolean backwardWhole(PoolMode mode, Tensor in, Tensor gradOut, Tensor gradIn, Backward op) {
        boolean[] done = {false};
        whileTaken(1, new Tensor[] {in, gradOut}, mode == PoolMode.AVG, gradIn, (first, count, x, dx) -> {
            done[0] = op.run(x[0], x[1], dx);
            return done[0];
        });
        return done[0];
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        if (float32(in, out) || !batchOf(g.input().n(), in, out)) {
            widened(in, out, (x, y) -> delegate.adaptive(g, x, y));
            return;
        }
        inChunks(in.tensorShape().n(), new Tensor[] {in}, false, out, (b, first, count, x, y) -> b.adaptive(
                new AdaptiveGeometry(g.mode(), withN(g.input(), count), withN(g.output(), count)), x[0], y));
    }

    /**
     * In chunks of batch items where each item's indices count from its own item or plane
     * ({@code nhwc}, {@code pytorch}); ONNX's count from the whole tensor, so those run whole.
     */
    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        IndexConvention c = indices.convention();
        boolean perItem = c == IndexConvention.NHWC || c == IndexConvention.PYTORCH;
        if (float32(in, out) || !perItem || !batchOf(g.input().n(), in, out)
                || indices.tensorShape().n() != g.input().n()) {
            widened(in, out, (x, y) -> delegate.maxWithIndices(g, x, y, indices));
            return;
        }
        inChunks(g.input().n(), new Tensor[] {in}, false, out, (b, first, count, x, y) ->
                b.maxWithIndices(sub(g, count), x[0], y, indices.batch(first, count)));
    }

    /** In chunks of whole batch items: {@code channels} planes each, so that each plane keeps its channel. */
    @Override
    public void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        int planes = g.input().n();
        if (float32(in, out) || planes % channels != 0 || !batchOf(planes, in, out)
                || indices.tensorShape().n() != planes) {
            widened(in, out, (x, y) -> delegate.maxWithNhwcPlaneIndices(g, x, y, indices, channels));
            return;
        }
        inChunks(planes / channels, new Tensor[] {in}, false, out, (b, first, count, x, y) ->
                b.maxWithNhwcPlaneIndices(sub(g, count * channels), x[0], y,
                        indices.batch(first * channels, count * channels), channels));
    }

    /** Runs {@code op} on float32 forms of {@code in} and {@code out}, whole (the tensors themselves when they are float32). */
    private void widened(Tensor in, Tensor out, BiConsumer<Tensor, Tensor> op) {
        if (float32(in, out)) {
            op.accept(in, out);
            return;
        }
        inChunks(1, new Tensor[] {in}, false, out, (b, first, count, x, y) -> op.accept(x[0], y));
    }

    /** An operation, on backend {@code b}, on float32 forms of batch items {@code first .. first + count - 1}. */
    @FunctionalInterface
    private interface Chunk {
        void run(PoolingBackend b, int first, int count, Tensor[] ins, Tensor out);
    }

    /** An operation on the delegate, on float32 forms of batch items {@code first .. first + count - 1}: false when it wrote nothing. */
    @FunctionalInterface
    private interface RefusableChunk {
        boolean run(int first, int count, Tensor[] ins, Tensor out);
    }

    /**
     * Runs {@code op} over the batch: split by items between the {@link BatchLanes}, each lane in
     * chunks of {@link #laneChunkBytes}, where there are lanes and the float32 temporaries of the
     * whole batch would be more than {@link #WHOLE_CHUNKS} such chunks; else on the delegate
     * ({@link #whileTaken}).
     */
    private void inChunks(int items, Tensor[] ins, boolean firstUnread, Tensor out, Chunk op) {
        long wide = wideBytesPerItem(items, ins, out);
        if (lanes != null && items > 1 && items * wide > WHOLE_CHUNKS * laneChunkBytes) {
            // More shares than threads, claimed as the threads come free: a thread held up elsewhere
            // leaves its next shares to the others. Each share has temporaries of its own.
            int parts = Math.min(items, SHARES_PER_THREAD * lanes.count());
            lanes.run(parts, p -> {
                PoolingBackend lane = lanes.lane(p % lanes.count());
                taken(lane, items, (int) ((long) items * p / parts), (int) ((long) items * (p + 1) / parts),
                        laneChunkBytes, 1, ins, firstUnread, out, (first, count, x, y) -> {
                            op.run(lane, first, count, x, y);
                            return true;
                        });
            });
            return;
        }
        whileTaken(items, ins, firstUnread, out, (first, count, x, y) -> {
            op.run(delegate, first, count, x, y);
            return true;
        });
    }

    /** {@link #taken} on the delegate over the whole batch, in chunks of {@link #chunkBytes}. */
    private void whileTaken(int items, Tensor[] ins, boolean firstUnread, Tensor out, RefusableChunk op) {
        taken(delegate, items, 0, items, chunkBytes, WHOLE_CHUNKS, ins, firstUnread, out, op);
    }

    /**
     * Runs {@code op} over batch items {@code from .. to - 1} in chunks of whole items, each chunk's
     * 16-bit inputs widened by {@code b} into float32 temporaries and its float32 result rounded
     * once into {@code out}'s items; float32 tensors are used in place. A chunk's temporaries hold
     * about {@code chunk} bytes, so that they are still in the processor's caches when the delegate
     * reads them and when the result is rounded, and the same temporaries serve every chunk (all
     * the items at once when they fit {@code wholeChunks} chunks: a lane's share of a batch goes
     * whole only within one chunk, since the lanes' temporaries share the caches). Each tensor is split by its own
     * first axis, {@code n / items} entries an item. With {@code firstUnread} the first input is not
     * converted (its temporary only has the right shape: avg's backward never reads x). Stops at
     * the first chunk {@code op} refuses, rounding nothing of it.
     */
    private void taken(PoolingBackend b, int items, int from, int to, long chunk, int wholeChunks, Tensor[] ins,
            boolean firstUnread, Tensor out, RefusableChunk op) {
        long wide = wideBytesPerItem(items, ins, out);
        int range = to - from;
        int per = range * wide <= wholeChunks * chunk ? range : (int) Math.max(1, Math.min(range, chunk / Math.max(1, wide)));
        Tensor[] temps = new Tensor[ins.length];
        for (int i = 0; i < ins.length; i++) {
            temps[i] = ins[i].dtype() == DType.FLOAT32 ? null : temporary(slice(ins[i], 0, per, items));
        }
        Tensor tempOut = out.dtype() == DType.FLOAT32 ? null : temporary(slice(out, 0, per, items));
        try {
            Tensor[] x = new Tensor[ins.length];
            for (int first = from; first < to; first += per) {
                int count = Math.min(per, to - first);
                for (int i = 0; i < ins.length; i++) {
                    Tensor part = slice(ins[i], first, count, items);
                    x[i] = temps[i] == null ? part : slice(temps[i], 0, count, per);
                    if (temps[i] != null && !(firstUnread && i == 0)) {
                        b.convert(part, x[i]);
                    }
                }
                Tensor result = slice(out, first, count, items);
                Tensor y = tempOut == null ? result : slice(tempOut, 0, count, per);
                if (!op.run(first, count, x, y)) {
                    return;
                }
                if (y != result) {
                    b.convert(y, result);
                }
            }
        } finally {
            for (Tensor t : temps) {
                if (t != null) {
                    giveBack(t);
                }
            }
            if (tempOut != null) {
                giveBack(tempOut);
            }
        }
    }

    /** Bytes of float32 temporaries an item of the batch needs (inputs and output that are not float32). */
    private static long wideBytesPerItem(int items, Tensor[] ins, Tensor out) {
        long wide = 0;
        for (Tensor t : ins) {
            wide += t.dtype() == DType.FLOAT32 ? 0 : elements(t) * Float.BYTES / items;
        }
        return wide + (out.dtype() == DType.FLOAT32 ? 0 : elements(out) * Float.BYTES / items);
    }

    /** Items {@code first .. first + count - 1} of {@code t}, whose first axis holds {@code items} items. */
    private static Tensor slice(Tensor t, int first, int count, int items) {
        int k = t.tensorShape().n() / items;
        return first == 0 && count == items ? t : t.batch(first * k, count * k);
    }

    /** Whether {@code a} and {@code b} hold {@code n} entries on their first axis (as the geometry says). */
    private static boolean batchOf(int n, Tensor a, Tensor b) {
        return a.tensorShape().n() == n && b.tensorShape().n() == n;
    }

    private static PoolGeometry sub(PoolGeometry g, int n) {
        return new PoolGeometry(g.spec(), withN(g.input(), n), withN(g.output(), n), g.rows(), g.cols(), g.rowOrigin());
    }

    private static Shape withN(Shape s, int n) {
        return Shape.of(n, s.h(), s.w(), s.c());
    }

    private static long elements(Tensor t) {
        return t.byteSize() / t.dtype().byteSize();
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        delegate.convert(src, dst);
    }

    /** Unpooling copies values bit for bit, so every storage type passes straight through. */
    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        delegate.unpool(values, indices, g, out);
    }

    /** Bytes of float32 temporaries kept idle for the next call (for tests). */
    long idleBytes() {
        synchronized (idle) {
            return idleBytes;
        }
    }

    @Override
    public void close() {
        synchronized (idle) {
            idle.clear();
            idleBytes = 0;
        }
        delegate.close();
    }

    private static boolean float32(Tensor a, Tensor b) {
        return a.dtype() == DType.FLOAT32 && b.dtype() == DType.FLOAT32;
    }

    /** A float32 tensor of {@code like}'s shape over a cached or new direct buffer; contents undefined. */
    private Tensor temporary(Tensor like) {
        long bytes = like.byteSize() / like.dtype().byteSize() * Float.BYTES;
        ByteBuffer b = null;
        synchronized (idle) {
            for (int i = 0; i < idle.size(); i++) {
                ByteBuffer c = idle.get(i);
                if (c.capacity() >= bytes && (b == null || c.capacity() < b.capacity())) {
                    b = c;
                }
            }
            if (b != null) {
                idle.remove(b);
                idleBytes -= b.capacity();
            }
        }
        if (b == null) {
            b = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
        }
        ByteBuffer view = b.duplicate().clear().limit(Math.toIntExact(bytes)).slice().order(ByteOrder.nativeOrder());
        return Tensor.wrap(like.tensorShape(), DType.FLOAT32, view);
    }

    /**
     * Keeps the memory of {@code temp} for the next call (unless it is larger than the cache), dropping the oldest idle buffers to stay within {@link #MAX_IDLE_BYTES}.
     */
    private void giveBack(Tensor temp) {
        ByteBuffer b = temp.buffer();
        if (b.capacity() > MAX_IDLE_BYTES) {
            return;
        }
        synchronized (idle) {
            while (idleBytes + b.capacity() > MAX_IDLE_BYTES) {
                idleBytes -= idle.remove(0).capacity(); // the oldest make room
            }
            idle.add(b);
            idleBytes += b.capacity();
        }
    }
}
