package dev.clpool.cpu;

import java.lang.ref.SoftReference;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The int array in which max backward keeps every output element's chosen tap between its two
 * passes, lent to one call at a time and kept softly between calls. A fresh array each call was a
 * zeroed, humongous heap allocation of one int per output (25 MB a call for ResNet-50's stem), where
 * the tensors themselves come from the engine's reused memory. Calls that overlap get arrays of their
 * own; the collector may take the kept one whenever the heap runs short.
 */
final class TapArrays {
    private static final AtomicReference<SoftReference<int[]>> IDLE = new AtomicReference<>();

    private TapArrays() {
    }

    /** An array of at least {@code n} ints, contents undefined: the kept one if it is free and long enough. */
    static int[] take(int n) {
        SoftReference<int[]> kept = IDLE.getAndSet(null);
        int[] a = kept == null ? null : kept.get();
        return a != null && a.length >= n ? a : new int[n];
    }

    /** Keeps {@code a} for the next call (in place of a shorter one, or of none). */
    static void give(int[] a) {
        SoftReference<int[]> kept = IDLE.get();
        int[] k = kept == null ? null : kept.get();
        if (k == null || k.length < a.length) {
            IDLE.compareAndSet(kept, new SoftReference<>(a));
        }
    }
}
