package dev.clpool;

/**
 * When a {@link HostMemoryPool} nudges the garbage collector: the lent bytes past which a take
 * calls {@link System#gc()} so that results dropped without {@code close()} come back before fresh
 * memory is faulted. Fewer bytes keep less memory out; more bytes pay fewer collections, and a full
 * collection costs about the same (10-20 ms on the test machine) whatever the results' size. So
 * the threshold starts low ({@link #NUDGE_BYTES}, or room for {@link #NUDGE_BLOCKS} blocks of the
 * class taken), and moves with the share of the time the collections take ({@link #GC_SHARE}),
 * never past the pool's bound. The pool moves it under its monitor.
 */
final class NudgeThreshold {
    /**
     * Lent bytes past which a take nudges the collector at first (or the bound, if smaller):
     * dropped results come back after at most this much fresh memory, while up to the bound stays
     * reusable.
     */
    static final long NUDGE_BYTES = 256L << 20;
    /**
     * A take of a large class nudges only once this many blocks of its class could be out (within
     * half the bound): at {@link #NUDGE_BYTES} alone a loop of 100 MiB results with their 200 MiB of
     * indices paid a full collection on every call, about a fifth of the call on the test machine.
     */
    static final int NUDGE_BLOCKS = 4;
    /**
     * A nudge whose collection took over 1/this of the time since the one before doubles the
     * threshold (up to the bound); one under 1/(8 x this) halves it (down to {@link #NUDGE_BYTES}):
     * a device that returned 100 MiB of values and 200 MiB of indices every 30 ms spent a quarter
     * of its time collecting when the threshold stayed at half the bound.
     */
    static final int GC_SHARE = 10;

    private final long maxBytes;
    private final long floor;
    private volatile long limit; // read by takes before they lock the pool
    private long lastStart = Long.MIN_VALUE;

    /** The threshold of a pool bounded at {@code maxBytes}. */
    NudgeThreshold(long maxBytes) {
        this.maxBytes = maxBytes;
        this.floor = Math.min(maxBytes, NUDGE_BYTES);
        this.limit = floor;
    }

    /**
     * Lent bytes past which a take of class {@code cls} nudges: the threshold, or room for {@link
     * #NUDGE_BLOCKS} such blocks within half the bound. The other half holds idle blocks of other
     * classes, which a take past the bound would evict, to be faulted in afresh.
     */
    long at(int cls) {
        return Math.max(limit, Math.min(maxBytes / 2, (long) NUDGE_BLOCKS * cls));
    }

    /** Moves the threshold by the share of the time the collection begun at {@code start} ({@link System#nanoTime()}) took. */
    void collected(long start, long gcNanos) {
        long last = lastStart;
        lastStart = start;
        if (last == Long.MIN_VALUE) {
            return; // no interval yet
        } else if (gcNanos * GC_SHARE > start - last) {
            limit = Math.min(maxBytes, limit * 2);
        } else if (gcNanos * GC_SHARE * 8 < start - last) {
            limit = Math.max(floor, limit / 2);
        }
    }

    /** Lent bytes past which a take nudges, whatever its class. */
    long limit() {
        return limit;
    }
}
