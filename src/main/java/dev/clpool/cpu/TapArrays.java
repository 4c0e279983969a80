package dev.clpool.cpu;

import java.lang.ref.SoftReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The int arrays in which max backward keeps every output element's chosen tap between its two
 * passes, each lent to one call at a time and kept softly between calls. A fresh array each call was a
 * zeroed, humongous heap allocation of one int per output (25 MB a call for ResNet-50's stem), where
 * the tensors themselves come from the engine's reused memory. Up to {@link #SLOTS} arrays are kept,
 * so that calls that overlap (16-bit batches split between the CPU path's threads, callers sharing an
 * engine) each find one; beyond that they get arrays of their own. The collector may take a kept
 * array whenever the heap runs short.
 */
final class TapArrays {
    /** How many arrays are kept: one per call that runs at the same time as others, up to this. */
    static final int SLOTS = 4;
    private static final AtomicReferenceArray<SoftReference<int[]>> IDLE = new AtomicReferenceArray<>(SLOTS);

    private TapArrays() {
    }

    /** An array of at least {@code n} ints, contents undefined: a kept one if one is free and long enough. */
    static int[] take(int n) {
        for (int i = 0; i < SLOTS; i++) {
            SoftReference<int[]> kept = IDLE.getAndSet(i, null);
            int[] a = kept == null ? null : kept.get();
            if (a != null && a.length >= n) {
                return a;
            }
            if (a != null) {
                IDLE.compareAndSet(i, null, kept); // too short for this call: left for another
            }
        }
        return new int[n];
    }

    /** Keeps {@code a} for a later call: in a free slot, else in place of a shorter one (or of one collected). */
    static void give(int[] a) {
        for (int i = 0; i < SLOTS; i++) {
            if (IDLE.compareAndSet(i, null, new SoftReference<>(a))) {
                return;
            }
        }
        for (int i = 0; i < SLOTS; i++) {
            SoftReference<int[]> kept = IDLE.get(i);
            int[] k = kept == null ? null : kept.get();
            if ((k == null || k.length < a.length) && IDLE.compareAndSet(i, kept, new SoftReference<>(a))) {
                return;
            }
        }
    }

    /** Drops every kept array (tests). */
    static void clear() {
        for (int i = 0; i < SLOTS; i++) {
            IDLE.set(i, null);
        }
    }
}
