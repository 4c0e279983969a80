package dev.clpool;

import java.lang.ref.Cleaner;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An engine's reusable host memory: page-aligned direct blocks kept by size class, so that a
 * steady loop of allocating calls touches no fresh pages. A fresh direct buffer costs its size in
 * zero-filling and page faults (about 60 ms for 25 MB on the 2-core test machine); a block taken
 * from here costs nothing of the kind.
 *
 * <p>Size classes are whole pages, rounded up to four steps per power of two (at most a quarter
 * wasted). A block goes back when its owner {@link Block#release() releases} it (a tensor's
 * {@code close()}), or when the owner and every view of its memory have been collected: each loan
 * hands out a new direct buffer over the block ({@link RootBuffers}), which every view of it keeps
 * reachable, and a {@link Cleaner} on that buffer returns the block. A loan ends once, whichever
 * comes first; the other does nothing. Without root buffers (LWJGL's native library missing) a
 * loan is the block's own buffer, and a dropped one is not reused: only the JDK may free it.
 *
 * <p>The bound counts blocks lent and idle. A take that finds no idle block of its class evicts
 * idle blocks of other classes to stay within it. When the lent blocks alone would pass {@link
 * NudgeThreshold} (256 MiB, or room for four blocks of the class taken within half the bound; more
 * where collections take a large share of the time), the pool nudges the garbage collector once
 * ({@link System#gc()}, as {@code java.nio.Bits} does for direct memory: {@link GcNudge}), so that
 * dropped results come back before fresh memory is faulted. The nudging take ends every loan
 * whose root buffer the collection cleared ({@link Reference#refersTo}) itself, not waiting for
 * the cleaner's thread (a busy machine may not run it for a while). If that recovers nothing the
 * take allocates anyway (the caller holds live results beyond the bound, or the collection found
 * the latest results still referenced), and the pool does not nudge again until a collected result
 * came back or as many bytes as the bound have been allocated since. Blocks returned while the
 * pool is over its bound are dropped. So a loop whose results are dropped holds the bound and one
 * request, and up to a second bound's worth after a nudge that found nothing. {@link #close()}
 * drops every idle block (lent ones when their loans end). Thread-safe; a take waits at most a
 * collection and {@link GcNudge#WAIT_NANOS} per nudge.
 */
final class HostMemoryPool implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int LENT = 0;
    private static final int IDLE = 1;
    private static final int DROPPED = 2;

    private final long maxBytes;
    private final NudgeThreshold threshold;
    private final boolean roots;
    private final boolean nudges;
    private final Cleaner cleaner;
    // Guarded by this:
    /** Loans over root buffers not yet ended: what a nudge's collection may have cleared. */
    private final Set<Loan> rootLoans = new HashSet<>();
    private final Map<Integer, ArrayDeque<Chunk>> idle = new HashMap<>();
    private long idleBytes;
    private long lentBytes;
    private long peakBytes;
    private boolean closed;
    private long recoveredCount;
    private long nudgeCount;
    private GcNudge lastNudge;
    private long allocatedSinceNudge;
    // Counters for tests and diagnostics:
    private final AtomicLong allocatedBlocks = new AtomicLong();
    private final AtomicLong releasedLoans = new AtomicLong();
    private final AtomicLong endedLoans = new AtomicLong();

    HostMemoryPool(long maxBytes) {
        this(maxBytes, RootBuffers.available(), !"false".equalsIgnoreCase(System.getProperty("clpool.hostMemory.gcNudge")), CLEANER);
    }

    /**
     * A pool that lends root buffers (if {@code roots}), nudges the collector at its bound (if
     * {@code nudges}) and registers its blocks' and loans' actions on {@code cleaner}.
     */
    HostMemoryPool(long maxBytes, boolean roots, boolean nudges, Cleaner cleaner) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("host memory pool bound must be >= 0 bytes, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.threshold = new NudgeThreshold(maxBytes);
        this.roots = roots && RootBuffers.available();
        this.nudges = nudges && this.roots;
        this.cleaner = cleaner;
    }

    /**
     * A page-aligned block of at least {@code bytes} (limit set to {@code bytes}, native order not
     * set), zero-filled if {@code zeroed}; or null when {@code bytes} is too large to pool (within
     * a size class of the 2 GiB limit of one direct buffer).
     */
    Block take(long bytes, boolean zeroed) {
        long size = HostMemorySizes.classBytes(bytes);
        if (size > Integer.MAX_VALUE - HostMemorySizes.PAGE) {
            return null;
        }
        int cls = (int) size;
        Chunk c;
        synchronized (this) {
            c = reuseOrReserve(cls, false);
        }
        if (c == null) {
            c = nudge(cls);
        }
        if (c == null) {
            synchronized (this) {
                c = reuseOrReserve(cls, true);
            }
        }
        if (c == RESERVED) {
            try {
                c = allocate(cls);
            } catch (RuntimeException | Error e) {
                synchronized (this) {
                    lentBytes -= cls;
                }
                throw e;
            }
        } else if (zeroed) {
            zero(c.memory);
        }
        return lend(c);
    }

    /** Marks a new block as counted in {@link #lentBytes} before it exists. */
    private static final Chunk RESERVED = new Chunk(null, 0, null);

    /**
     * An idle block of class {@code cls}, else {@link #RESERVED} when a new one fits the bound
     * (idle blocks of other classes evicted to make room) or {@code force}, else null. Counts it lent.
     */
    private Chunk reuseOrReserve(int cls, boolean force) {
        ArrayDeque<Chunk> q = idle.get(cls);
        Chunk c = q == null ? null : q.poll();
        if (c != null) {
            idleBytes -= cls;
            c.status.state.set(LENT);
        } else {
            if (!force && !closed && lentBytes + cls > threshold.at(cls)) {
                return null;
            }
            for (Iterator<ArrayDeque<Chunk>> it = idle.values().iterator();
                 it.hasNext() && lentBytes + idleBytes + cls > maxBytes; ) {
                ArrayDeque<Chunk> other = it.next();
                while (!other.isEmpty() && lentBytes + idleBytes + cls > maxBytes) {
                    Chunk evicted = other.poll();
                    evicted.status.state.set(DROPPED);
                    idleBytes -= evicted.status.classBytes;
                }
            }
            c = RESERVED;
            allocatedSinceNudge += cls;
        }
        lentBytes += cls;
        peakBytes = Math.max(peakBytes, lentBytes + idleBytes);
        return c;
    }

    /**
     * When lending {@code cls} more would pass the bound: one {@link System#gc()}, then a wait
     * until a block of that class is idle or the lent bytes leave room for it, or the nudge is
     * over (see {@link GcNudge}). A take that finds a nudge still {@link GcNudge#pending pending}
     * waits on that one first. At most three rounds (other threads may take what a nudge
     * recovered), and none when it cannot help: the last nudge recovered nothing and less than the
     * bound has been allocated since. Returns the block (or {@link #RESERVED}) the take then got,
     * or null.
     */
    private Chunk nudge(int cls) {
        if (!nudges || cls > threshold.at(cls)) {
            return null;
        }
        GcNudge waited = null;
        for (int round = 0; round < 3; round++) {
            GcNudge n;
            boolean mine = false;
            synchronized (this) {
                n = lastNudge;
                if (n == null || n == waited || !n.pending(System.nanoTime(), recoveredCount)) {
                    // No nudge under way to wait on: a new one, unless the last recovered nothing.
                    if (closed || (n != null && recoveredCount == n.recoveredBefore && allocatedSinceNudge < threshold.at(cls))) {
                        return null;
                    }
                    n = new GcNudge(recoveredCount);
                    lastNudge = n;
                    nudgeCount++;
                    allocatedSinceNudge = 0;
                    mine = true;
                }
            }
            if (mine) {
                long start = System.nanoTime();
                n.collect(cleaner, this);
                synchronized (this) {
                    threshold.collected(start, System.nanoTime() - start);
                }
                endCollectedLoans();
            }
            Chunk c = awaitRoom(cls, n);
            if (c != null) {
                return c;
            }
            if (Thread.currentThread().isInterrupted()) {
                return null;
            }
            waited = n; // over, and other takes had what it recovered: another, if it recovered anything
        }
        return null;
    }

    /**
     * Ends the loans whose root buffers the last collection cleared, without waiting for the
     * cleaner (whose later run then does nothing). A concurrent collection may not have cleared
     * them yet when {@link System#gc()} returns; the cleaner still ends those.
     */
    private void endCollectedLoans() {
        List<Loan> cleared;
        synchronized (this) {
            cleared = rootLoans.stream().filter(l -> l.root.refersTo(null)).toList();
        }
        cleared.forEach(l -> l.end(true));
    }

    /** A block of class {@code cls} (or {@link #RESERVED}) once the bound leaves room, or null when {@code n} is over. */
    private synchronized Chunk awaitRoom(int cls, GcNudge n) {
        try {
            for (long now = System.nanoTime(); ; now = System.nanoTime()) {
                Chunk c = reuseOrReserve(cls, false);
                if (c != null || !n.open(now)) {
                    return c;
                }
                // Woken by every returned block and by the marker; the timeout bounds each wait.
                TimeUnit.NANOSECONDS.timedWait(this, TimeUnit.MILLISECONDS.toNanos(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private Chunk allocate(int cls) {
        ByteBuffer raw = ByteBuffer.allocateDirect(cls + HostMemorySizes.PAGE); // zero-filled by the JDK
        ByteBuffer aligned = raw.alignedSlice(HostMemorySizes.PAGE).limit(cls).slice();
        Status status = new Status(this, cls);
        // Registered on the allocation itself, which the block and every view of it keep reachable.
        cleaner.register(raw, status);
        allocatedBlocks.incrementAndGet();
        return new Chunk(aligned, roots ? RootBuffers.address(aligned) : 0, status);
    }

    /** A loan of {@code c}: over a new root buffer, whose collection ends it, or (without roots) the block itself. */
    private Block lend(Chunk c) {
        if (!roots) {
            return new Block(c.memory, new Loan(this, c, null));
        }
        ByteBuffer root = RootBuffers.over(c.address, c.status.classBytes);
        Loan loan = new Loan(this, c, new PhantomReference<>(root, null));
        synchronized (this) {
            rootLoans.add(loan);
        }
        cleaner.register(root, loan);
        return new Block(root, loan);
    }

    private void giveBack(Loan loan, boolean collected) {
        Chunk c = loan.chunk;
        int cls = c.status.classBytes;
        synchronized (this) {
            rootLoans.remove(loan);
            lentBytes -= cls;
            if (collected) {
                recoveredCount++;
            }
            if (!closed && lentBytes + idleBytes + cls <= maxBytes) {
                c.status.state.set(IDLE);
                idle.computeIfAbsent(cls, k -> new ArrayDeque<>()).push(c);
                idleBytes += cls;
            } else {
                c.status.state.set(DROPPED);
            }
            notifyAll();
        }
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
    Tensor filled(Tensor out, Consumer<Tensor> op) {
        try {
            op.accept(out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** Bytes of blocks lent whose loans have not ended. */
    synchronized long lentBytes() {
        return lentBytes;
    }

    /** Bytes of idle blocks kept for reuse. */
    synchronized long idleBytes() {
        return idleBytes;
    }

    /** The most bytes lent and idle at once so far. */
    synchronized long peakBytes() {
        return peakBytes;
    }

    /** Loans ended by the collector (results dropped without close) and taken back. */
    synchronized long recoveredLoans() {
        return recoveredCount;
    }

    /** Times a take nudged the garbage collector. */
    synchronized long nudges() {
        return nudgeCount;
    }

    /** Blocks allocated from the JDK so far (a reused block is not counted again). */
    long allocatedBlocks() {
        return allocatedBlocks.get();
    }

    /** Loans ended by {@link Block#release()}. */
    long releasedLoans() {
        return releasedLoans.get();
    }

    /** Times the cleaner found a loan's buffer collected, whether or not the loan had ended before. */
    long collectedLoans() {
        return endedLoans.get();
    }

    /** Whether loans are root buffers, so that dropped results come back. */
    boolean recoversDropped() {
        return roots;
    }

    /** Drops every idle block; later returns are dropped too. Blocks still lent stay valid. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        idle.values().forEach(q -> q.forEach(c -> c.status.state.set(DROPPED)));
        idle.clear();
        idleBytes = 0;
        notifyAll();
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16).asReadOnlyBuffer();

    private static void zero(ByteBuffer memory) {
        ByteBuffer m = memory.duplicate().clear();
        while (m.hasRemaining()) {
            m.put(ZEROS.duplicate().limit(Math.min(ZEROS.capacity(), m.remaining())));
        }
    }

    /**
     * One loan of a block, as its owner (a tensor or index array, and their batch views) sees it:
     * the memory to use and the loan to end.
     */
    static final class Block {
        private final ByteBuffer memory;
        private final Loan loan;

        private Block(ByteBuffer memory, Loan loan) {
            this.memory = memory;
            this.loan = loan;
        }

        /** The whole block (position 0, limit its size class); every view of it keeps the loan open. */
        ByteBuffer memory() {
            return memory.duplicate().clear();
        }

        /** Returns the block to its pool; only the first call counts. Its memory must no longer be used. */
        void release() {
            loan.end(false);
            Reference.reachabilityFence(memory);
        }

        boolean isReleased() {
            return loan.ended.get();
        }
    }

    /**
     * A block's memory (page-aligned, capacity its size class), its address (for root buffers)
     * and its status. Held by the pool while idle and by its loan while lent.
     */
    private record Chunk(ByteBuffer memory, long address, Status status) {
    }

    /**
     * One loan: ended by the owner's release or (root buffers only) by the cleaner or a nudge
     * that found the root buffer cleared, once; it holds the block and a phantom reference to the
     * root buffer, never the buffer itself, which would keep that reachable.
     */
    private static final class Loan implements Runnable {
        final HostMemoryPool pool;
        final Chunk chunk;
        /** The root buffer's reference (null without root buffers), cleared when the buffer is collected. */
        final PhantomReference<ByteBuffer> root;
        final AtomicBoolean ended = new AtomicBoolean();

        Loan(HostMemoryPool pool, Chunk chunk, PhantomReference<ByteBuffer> root) {
            this.pool = pool;
            this.chunk = chunk;
            this.root = root;
        }

        void end(boolean collected) {
            if (ended.compareAndSet(false, true)) {
                if (!collected) {
                    pool.releasedLoans.incrementAndGet();
                }
                pool.giveBack(this, collected);
            }
        }

        /** The root buffer and all its views were collected. */
        @Override
        public void run() {
            pool.endedLoans.incrementAndGet();
            end(true);
        }
    }

    /** What the cleaner of a block's allocation knows of it: never the memory, which would keep it reachable. */
    private static final class Status implements Runnable {
        final HostMemoryPool pool;
        final int classBytes;
        final AtomicInteger state = new AtomicInteger(LENT);

        Status(HostMemoryPool pool, int classBytes) {
            this.pool = pool;
            this.classBytes = classBytes;
        }

        /**
         * The block's memory was collected. Only without root buffers can that happen while it is
         * lent (a dropped result): the loan ends here, so the pool stops counting it.
         */
        @Override
        public void run() {
            if (state.getAndSet(DROPPED) == LENT) {
                synchronized (pool) {
                    pool.lentBytes -= classBytes;
                    pool.notifyAll();
                }
            }
        }
    }
}
