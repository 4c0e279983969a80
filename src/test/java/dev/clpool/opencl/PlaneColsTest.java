package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which channels-first adaptive pooling takes {@code adaptive_cols.cl}'s plane a work item
 * ({@link AdaptiveRoutine#planeCols}): max, and averages with double sums, over planes of at most 16 rows of at
 * most 16 columns to 4–8 output columns and 2–16 output rows, column regions at most 4 wide; the
 * property forces the groups of planes; the geometry goes into the program's options.
 */
class PlaneColsTest {
    private static final String PROPERTY = "clpool.opencl.planeCols";

    @AfterEach
    void clear() {
        System.clearProperty(PROPERTY);
    }

    private static AdaptiveGeometry avg(int h, int w, int oh, int ow) {
        return AdaptiveGeometry.of(PoolMode.AVG, Shape.of(512, h, w, 1), oh, ow);
    }

    @Test
    void theHeads_takeTheColumns_averagesWithDoubleSumsOnly() {
        AdaptiveGeometry vgg = avg(10, 10, 7, 7);
        assertTrue(AdaptiveRoutine.planeCols(vgg, true));
        assertFalse(AdaptiveRoutine.planeCols(vgg, false), "compensated float sums");
        AdaptiveGeometry spp = AdaptiveGeometry.of(PoolMode.MAX, Shape.of(256, 13, 13, 1), 6, 6);
        assertTrue(AdaptiveRoutine.planeCols(spp, true), "SPP-net's max");
        assertTrue(AdaptiveRoutine.planeCols(spp, false), "max needs no double sums");
        assertEquals("-D MODE_AVG -D AH=10 -D AW=10 -D AOH=7 -D AOW=7", AdaptiveRoutine.colsOptions("-D MODE_AVG", vgg));
        System.setProperty(PROPERTY, "never");
        assertFalse(AdaptiveRoutine.planeCols(vgg, true), "forced off");
    }

    @Test
    void theLimits() {
        assertTrue(AdaptiveRoutine.planeCols(avg(16, 16, 16, 8), true), "16 rows of 16 to 16 x 8");
        assertTrue(AdaptiveRoutine.planeCols(avg(5, 11, 3, 4), true), "column regions of 4");
        assertTrue(AdaptiveRoutine.planeCols(avg(3, 9, 5, 5), true), "more output rows than input rows");
        assertFalse(AdaptiveRoutine.planeCols(avg(10, 17, 7, 7), true), "rows of 17");
        assertFalse(AdaptiveRoutine.planeCols(avg(17, 10, 7, 7), true), "17 rows");
        assertFalse(AdaptiveRoutine.planeCols(avg(10, 10, 7, 3), true), "3 output columns");
        assertFalse(AdaptiveRoutine.planeCols(avg(10, 16, 7, 9), true), "9 output columns");
        assertFalse(AdaptiveRoutine.planeCols(avg(10, 10, 1, 7), true), "one output row");
        assertFalse(AdaptiveRoutine.planeCols(avg(16, 10, 17, 7), true), "17 output rows");
        assertFalse(AdaptiveRoutine.planeCols(avg(10, 15, 7, 4), true), "column regions of 5");
    }
}
