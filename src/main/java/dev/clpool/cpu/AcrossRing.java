package dev.clpool.cpu;

import java.util.Arrays;

/**
 * The ring that the lane paths of channels-last adaptive pooling ({@link AdaptiveAvgRows}'s average,
 * {@link CpuAdaptive}'s max) keep within a task of output rows: each input row reduced across the
 * regions' columns once, into slot {@code y % tallest} of an array of {@code tallest} rows of
 * {@code width} floats, keyed by (item, row), for the output rows whose regions share it. A region's
 * rows are consecutive and at most {@code tallest}, so the rows of one output row never share a slot.
 */
final class AcrossRing {
    /** Reduces input row {@code y} of item {@code n} across the regions' columns into the ring's row at {@code at}. */
    interface Reduce {
        void row(int n, int y, int at);
    }

    private final int[] held;
    private final int[] rowAt;
    private final int tallest;
    private final int width;
    private final int inH;

    /** An empty ring of {@code tallest} rows of {@code width} floats over items of {@code inH} input rows (scratch ints 3). */
    AcrossRing(Scratch s, int tallest, int width, int inH) {
        int[][] ring = s.ints(3, 2, tallest);
        held = ring[0];
        rowAt = ring[1];
        this.tallest = tallest;
        this.width = width;
        this.inH = inH;
        Arrays.fill(held, 0, tallest, -1);
    }

    /**
     * Input rows {@code [ys, ye)} of item {@code n}, each reduced by {@code reduce} unless the ring
     * holds it: where row j of them (in scan order) lies, at element {@code [j]} of the array returned.
     */
    int[] rows(int n, int ys, int ye, Reduce reduce) {
        for (int y = ys; y < ye; y++) {
            int slot = y % tallest;
            if (held[slot] != n * inH + y) {
                reduce.row(n, y, slot * width);
                held[slot] = n * inH + y;
            }
            rowAt[y - ys] = slot * width;
        }
        return rowAt;
    }
}
