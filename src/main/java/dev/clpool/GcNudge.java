package dev.clpool;

import java.lang.ref.Cleaner;
import java.util.concurrent.TimeUnit;

/**
 * One nudge of the garbage collector by a {@link HostMemoryPool} at its bound: {@link System#gc()}
 * with a marker, a cleaner action on an object dropped at once, whose run tells that the cleaner
 * has reached this collection's actions. The nudge is open (takes wait on it) while the collection
 * runs and then until {@link #GRACE_NANOS}, plus the marker's own delay, after the marker ran: the
 * collection's other cleaner actions are queued by then, though the cleaner may take some after
 * the marker, and the later the marker came the busier the machine. Without the marker (the
 * collection did not run: {@code -XX:+DisableExplicitGC}, or it runs concurrently) it is open for
 * {@link #WAIT_NANOS} after {@link System#gc()} returned, about what {@code java.nio.Bits} waits
 * for direct memory. After a stop-the-world collection the nudging take has already ended the
 * loans it cleared ({@link HostMemoryPool}), so the wait matters for the other takes and for
 * collections that clear references later.
 */
final class GcNudge {
    static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** The pool's count of loans recovered by the collector when this nudge began. */
    final long recoveredBefore;
    private volatile boolean collecting = true;
    private volatile long collectedAt;
    private volatile long markerAt;

    GcNudge(long recoveredBefore) {
        this.recoveredBefore = recoveredBefore;
    }

    /** Collects, with the marker on {@code cleaner}; {@code monitor}'s waiters are woken when the marker runs. */
    void collect(Cleaner cleaner, Object monitor) {
        cleaner.register(new Object(), () -> {
            markerAt = System.nanoTime();
            synchronized (monitor) {
                monitor.notifyAll();
            }
        });
        try {
            System.gc();
        } finally {
            collectedAt = System.nanoTime();
            collecting = false;
        }
    }

    /** Whether takes still wait on this nudge at {@code now} (a {@link System#nanoTime()}). */
    boolean open(long now) {
        if (collecting) {
            return true;
        }
        long m = markerAt;
        return now - (m != 0 ? m + GRACE_NANOS + (m - collectedAt) : collectedAt + WAIT_NANOS) < 0;
    }

    /**
     * Whether a take should wait on this nudge rather than begin another: it is open, and still
     * collecting, before its marker, or without a recovered loan yet ({@code recovered} is the
     * pool's count now).
     */
    boolean pending(long now, long recovered) {
        return open(now) && (collecting || markerAt == 0 || recovered == recoveredBefore);
    }
}
