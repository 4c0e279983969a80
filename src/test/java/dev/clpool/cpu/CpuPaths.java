package dev.clpool.cpu;

import dev.clpool.PoolGeometry;

/** Which of the CPU path's kernels a geometry gets, for tests in other packages that must know. */
public final class CpuPaths {
    private CpuPaths() {
    }

    /** Whether the CPU path runs {@code g} as prefix–suffix averages ({@link AvgVanHerk}). */
    public static boolean avgPrefixSuffix(PoolGeometry g) {
        return AvgVanHerk.pays(g);
    }
}
