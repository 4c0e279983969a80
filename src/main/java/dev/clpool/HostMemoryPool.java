package dev.clpool;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An engine's reusable host memory: page-aligned direct blocks kept by size class, so that a
 * steady loop of allocating calls touches no fresh pages. A fresh direct buffer costs its size in
 * zero-filling and page faults (about 60 ms for 25 MB on the 2-core test machine); a block taken
 * from here costs nothing of the kind.
 *
 * <p>Size classes are whole pages, rounded up to four steps per power of two (at most a quarter
 * wasted). Blocks that are idle (returned and not yet taken again) are bounded in bytes: a block
 * returned beyond the bound is dropped for the garbage collector. {@link #close()} drops every idle
 * block; blocks still lent stay valid, and are dropped when returned.
 *
 * <p>A block goes back at once when its owner {@link Block#release() releases} it (a tensor's
 * {@code close()}). A block whose owner is dropped is not reused: views of a tensor's memory
 * ({@link Tensor#buffer()}, {@link Tensor#floats()}, ...) may outlive the tensor and keep reading it,
 * and they keep the block's memory alive, so only the JDK may free it, when the last view is
 * collected; a {@link Cleaner} then takes it off this pool's count of lent bytes. Thread-safe.
 */
final class HostMemoryPool implements AutoCloseable {
    static final int PAGE = 4096;
    /** The most idle bytes an engine keeps by default. */
    static final long DEFAULT_MAX_IDLE_BYTES = 256L << 20;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int LENT = 0;
    private static final int IDLE = 1;
    private static final int DROPPED = 2;

    private final long maxIdleBytes;
    private final Map<Integer, ArrayDeque<Block>> idle = new HashMap<>();
    private long idleBytes;
    private boolean closed;
    private final AtomicLong lentBytes = new AtomicLong();
    private final AtomicLong allocatedBlocks = new AtomicLong();

    HostMemoryPool(long maxIdleBytes) {
        if (maxIdleBytes < 0) {
            throw new IllegalArgumentException("host memory pool bound must be >= 0 bytes, got " + maxIdleBytes);
        }
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * A page-aligned block of at least {@code bytes} (limit set to {@code bytes}, native order not
     * set), zero-filled if {@code zeroed}; or null when {@code bytes} is too large to pool (within
     * a size class of the 2 GiB limit of one direct buffer).
     */
    Block take(long bytes, boolean zeroed) {
        long cls = classBytes(bytes);
        if (cls > Integer.MAX_VALUE - PAGE) {
            return null;
        }
        Block b = null;
        synchronized (this) {
            ArrayDeque<Block> q = idle.get((int) cls);
            if (q != null && !q.isEmpty()) {
                b = q.pop();
                idleBytes -= cls;
            }
        }
        if (b == null) {
            b = allocate((int) cls);
        } else if (zeroed) {
            zero(b.memory);
        }
        b.state.status.set(LENT);
        lentBytes.addAndGet(cls);
        return b;
    }

    private Block allocate(int cls) {
        ByteBuffer raw = ByteBuffer.allocateDirect(cls + PAGE); // zero-filled by the JDK
        ByteBuffer aligned = raw.alignedSlice(PAGE).limit(cls).slice();
        State state = new State(this, cls);
        // Registered on the allocation itself, which every view of the block keeps reachable.
        CLEANER.register(raw, state);
        allocatedBlocks.incrementAndGet();
        return new Block(aligned, state);
    }

    private void giveBack(Block b) {
        int cls = b.state.classBytes;
        lentBytes.addAndGet(-cls);
        synchronized (this) {
            if (!closed && idleBytes + cls <= maxIdleBytes) {
                b.state.status.set(IDLE);
                idle.computeIfAbsent(cls, k -> new ArrayDeque<>()).push(b);
                idleBytes += cls;
                return;
            }
        }
        b.state.status.set(DROPPED);
    }

    /** An engine output from this pool: not zeroed, the operation writes every element. */
    Tensor tensor(Shape shape, DType dtype) {
        return tensor(TensorShape.of(shape), dtype);
    }

    /** {@link #tensor(Shape, DType)} of any rank and layout. */
    Tensor tensor(TensorShape shape, DType dtype) {
        return Tensor.allocate(this, shape, dtype, false);
    }

    /** Runs {@code op} on {@code out} and returns it; on failure gives its memory back and rethrows. */
    Tensor filled(Tensor out, java.util.function.Consumer<Tensor> op) {
        try {
            op.accept(out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** Max pooling outputs (values and indices) from this pool, filled by {@code op}; given back if it fails. */
    PooledWithIndices filled(TensorShape shape, DType dtype, IndexConvention convention,
                             java.util.function.Consumer<PooledWithIndices> op) {
        Tensor values = tensor(shape, dtype);
        PooledWithIndices result;
        try {
            result = new PooledWithIndices(values, Indices.allocate(this, shape, convention));
        } catch (RuntimeException | Error e) {
            values.close();
            throw e;
        }
        try {
            op.accept(result);
            return result;
        } catch (RuntimeException | Error e) {
            result.close();
            throw e;
        }
    }

    /** Bytes of blocks lent and neither released nor collected. */
    long lentBytes() {
        return lentBytes.get();
    }

    /** Bytes of idle blocks kept for reuse (at most the bound). */
    synchronized long idleBytes() {
        return idleBytes;
    }

    /** Blocks allocated from the JDK so far (a reused block is not counted again). */
    long allocatedBlocks() {
        return allocatedBlocks.get();
    }

    /** Drops every idle block; later returns are dropped too. Blocks still lent stay valid. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        idle.values().forEach(q -> q.forEach(b -> b.state.status.set(DROPPED)));
        idle.clear();
        idleBytes = 0;
    }

    /** The size class of {@code bytes}: whole pages, rounded up to 4, 5, 6 or 7 times a power of two pages. */
    static long classBytes(long bytes) {
        long pages = Math.max(1, (bytes + PAGE - 1) / PAGE);
        if (pages > 4) {
            long step = Long.highestOneBit(pages) >> 2;
            pages = (pages + step - 1) / step * step;
        }
        return pages * PAGE;
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16).asReadOnlyBuffer();

    private static void zero(ByteBuffer memory) {
        ByteBuffer m = memory.duplicate().clear();
        while (m.hasRemaining()) {
            m.put(ZEROS.duplicate().limit(Math.min(ZEROS.capacity(), m.remaining())));
        }
    }

    /**
     * One lent block: its memory (page-aligned, capacity its size class) and whether it has gone
     * back. Owned by one tensor or index array; views of that owner share it.
     */
    static final class Block {
        private final ByteBuffer memory;
        private final State state;
        private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

        private Block(ByteBuffer memory, State state) {
            this.memory = memory;
            this.state = state;
        }

        /** The whole block (position 0, limit its size class). */
        ByteBuffer memory() {
            return memory.duplicate().clear();
        }

        /** Returns the block to its pool; only the first call counts. Its memory must no longer be used. */
        void release() {
            if (released.compareAndSet(false, true)) {
                state.pool.giveBack(new Block(memory, state));
            }
        }

        boolean isReleased() {
            return released.get();
        }
    }

    /** What the cleaner knows of a block: never the memory, which would keep it reachable. */
    private static final class State implements Runnable {
        final HostMemoryPool pool;
        final int classBytes;
        final AtomicInteger status = new AtomicInteger(LENT);

        State(HostMemoryPool pool, int classBytes) {
            this.pool = pool;
            this.classBytes = classBytes;
        }

        /** The block's memory was collected: if it was still lent, its owner was dropped unreleased. */
        @Override
        public void run() {
            if (status.getAndSet(DROPPED) == LENT) {
                pool.lentBytes.addAndGet(-classBytes);
            }
        }
    }
}
