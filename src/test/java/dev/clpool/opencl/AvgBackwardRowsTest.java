package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/** Which average backward takes {@code pool2d_avg_backward_rows} ({@link BackwardRoutine#avgRows}). */
class AvgBackwardRowsTest {
    private static final String FORCE = "clpool.opencl.avgBackwardRows";
    private static final Shape INCEPTION = Shape.of(32, 35, 35, 256);

    private static PoolGeometry avg(int kh, int kw, int sh, int sw, Padding p) {
        return PoolSpec.builder(PoolMode.AVG).window(kh, kw).stride(sh, sw).padding(p).countIncludePad(true).build().geometry(INCEPTION);
    }

    @Test
    void strideOneAlongW_onCpuDevicesWithDoubleSums_walksRows() {
        PoolGeometry inception = avg(3, 3, 1, 1, Padding.of(1));
        assertTrue(BackwardRoutine.avgRows(inception, true, true));
        assertTrue(BackwardRoutine.avgRows(avg(3, 2, 2, 1, Padding.of(0)), true, true)); // rows of any stride
        assertTrue(BackwardRoutine.avgRows(avg(5, 5, 1, 1, Padding.of(2)), true, true)); // 25 taps
        PoolGeometry dilatedRows = PoolSpec.builder(PoolMode.AVG).window(3, 3).stride(1).dilation(2, 1).build().geometry(INCEPTION);
        assertTrue(BackwardRoutine.avgRows(dilatedRows, true, true));
        // GPUs' channel lanes, float sums (no fp64), max
        assertFalse(BackwardRoutine.avgRows(inception, false, true));
        assertFalse(BackwardRoutine.avgRows(inception, true, false));
        PoolGeometry max = PoolSpec.builder(PoolMode.MAX).window(3, 3).stride(1).padding(Padding.of(1)).build().geometry(INCEPTION);
        assertFalse(BackwardRoutine.avgRows(max, true, true));
        // stride or dilation 2 along W, one column (the tiled path's 2x1), more than 25 taps
        assertFalse(BackwardRoutine.avgRows(avg(3, 3, 1, 2, Padding.of(1)), true, true));
        PoolGeometry dilatedCols = PoolSpec.builder(PoolMode.AVG).window(3, 3).stride(1).dilation(1, 2).build().geometry(INCEPTION);
        assertFalse(BackwardRoutine.avgRows(dilatedCols, true, true));
        assertFalse(BackwardRoutine.avgRows(avg(2, 1, 2, 1, Padding.of(0)), true, true));
        assertFalse(BackwardRoutine.avgRows(avg(7, 7, 1, 1, Padding.of(3)), true, true));
    }

    @Test
    void twoRowsPerItem_whereTheirCandidateRowsOverlap() {
        assertEquals(2, BackwardRoutine.avgRowsPerItem(avg(3, 3, 1, 1, Padding.of(1))));
        assertEquals(2, BackwardRoutine.avgRowsPerItem(avg(5, 2, 1, 1, Padding.of(0))));
        assertEquals(1, BackwardRoutine.avgRowsPerItem(avg(3, 2, 2, 1, Padding.of(0))));
        PoolGeometry dilatedRows = PoolSpec.builder(PoolMode.AVG).window(3, 3).stride(1).dilation(2, 1).build().geometry(INCEPTION);
        assertEquals(1, BackwardRoutine.avgRowsPerItem(dilatedRows));
    }

    @Test
    void property_forcesEitherWay_onlyWhereTheGeometryFits() {
        PoolGeometry inception = avg(3, 3, 1, 1, Padding.of(1));
        try {
            System.setProperty(FORCE, "never");
            assertFalse(BackwardRoutine.avgRows(inception, true, true));
            System.setProperty(FORCE, "always");
            assertTrue(BackwardRoutine.avgRows(inception, true, true));
            assertFalse(BackwardRoutine.avgRows(inception, false, true));
            assertFalse(BackwardRoutine.avgRows(avg(3, 3, 1, 2, Padding.of(1)), true, true));
        } finally {
            System.clearProperty(FORCE);
        }
    }
}
