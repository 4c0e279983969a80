package dev.clpool.jmh;

import dev.clpool.bench.Workload;

/** A peer's result against clpool's: the comparison means nothing unless both compute the same. */
final class Compare {
    /** Sums (and routed gradients) may differ in rounding order: this much, relative to max(1, |want|). */
    static final double TOLERANCE = 1e-5;

    private Compare() {
    }

    /** Throws unless {@code got} equals {@code want}: bit for bit if {@code exact}, else within {@link #TOLERANCE}. */
    static void check(String peer, Workload w, float[] want, float[] got, boolean exact) {
        if (want.length != got.length) {
            throw new IllegalStateException(w.name() + ": " + peer + " gives " + got.length + " values, clpool "
                    + want.length);
        }
        for (int i = 0; i < want.length; i++) {
            boolean ok = exact ? Float.floatToRawIntBits(want[i]) == Float.floatToRawIntBits(got[i])
                    : Math.abs(want[i] - got[i]) <= TOLERANCE * Math.max(1, Math.abs(want[i]));
            if (!ok) {
                throw new IllegalStateException(w.name() + ": " + peer + " gives " + got[i] + " at " + i + ", clpool "
                        + want[i]);
            }
        }
    }
}
