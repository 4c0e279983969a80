package dev.clpool.opencl;

import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The choice of a kernel path that a system property can force for measurements:
 * {@code -D<property>=always|never|auto} (default {@code auto}: the path's cost model). Read on
 * every call, so that a test or a benchmark can switch it between calls. {@code always} still
 * needs a geometry the path supports.
 */
final class ForcedChoice {
    private ForcedChoice() {
    }

    /** Whether the path runs: never where not {@code supported}, else as {@code property} says, else {@code pays}. */
    static boolean chosen(String property, boolean supported, BooleanSupplier pays) {
        String force = System.getProperty(property, "auto").strip().toLowerCase(Locale.ROOT);
        if (force.equals("never") || !supported) {
            return false;
        }
        return force.equals("always") || pays.getAsBoolean();
    }
}
