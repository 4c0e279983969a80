package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/** The separable passes' planning on the host: which geometries take them, and their blocks along an axis. */
class SeparablePoolTest {
    private static final Limits ANY = new Limits(Long.MAX_VALUE, Integer.MAX_VALUE);
    private static final Shape SPP = Shape.of(8, 19, 19, 512);

    private static PoolGeometry g(PoolMode mode, int k, int s, int pad) {
        return PoolSpec.builder(mode).window(k).stride(s).padding(Padding.of(pad)).build().geometry(SPP);
    }

    @Test
    void costModel_takesThePassesForLargeWindows_andKeepsTheDirectKernelForSmallOnes() {
        assertTrue(SeparablePool.chosen(g(PoolMode.MAX, 13, 1, 6), true, ANY, 8));
        assertTrue(SeparablePool.chosen(g(PoolMode.MAX, 5, 1, 2), true, ANY, 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.MAX, 3, 1, 1), true, ANY, 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.MAX, 3, 2, 1), true, ANY, 8));
        assertTrue(SeparablePool.chosen(g(PoolMode.AVG, 13, 1, 6), true, ANY, 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.AVG, 5, 1, 2), true, ANY, 8));
        assertTrue(SeparablePool.chosen(g(PoolMode.MAX, 9, 2, 4), true, ANY, 8));
    }

    @Test
    void unsupportedGeometries_keepTheDirectKernel() {
        // averages need double partial sums; LP and dilation have no passes
        assertFalse(SeparablePool.chosen(g(PoolMode.AVG, 13, 1, 6), false, ANY, 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.LP, 13, 1, 6), true, ANY, 8));
        PoolGeometry dilated = PoolSpec.max(7, 7).stride(1).dilation(2).build().geometry(SPP);
        assertFalse(SeparablePool.chosen(dilated, true, ANY, 8));
        // the scratch (8 items of 19x19x512 floats; doubles for avg windows over 32, whose suffixes
        // leave private memory) must fit an allocation
        long rows = 8L * 19 * 19 * 512;
        assertTrue(SeparablePool.chosen(g(PoolMode.MAX, 13, 1, 6), true, new Limits(rows * 4, Integer.MAX_VALUE), 8));
        assertTrue(SeparablePool.chosen(g(PoolMode.AVG, 13, 1, 6), true, new Limits(rows * 4, Integer.MAX_VALUE), 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.AVG, 35, 1, 17), true, new Limits(rows * 4, Integer.MAX_VALUE), 8));
        assertTrue(SeparablePool.chosen(g(PoolMode.AVG, 35, 1, 17), true, new Limits(rows * 8, Integer.MAX_VALUE), 8));
        assertFalse(SeparablePool.chosen(g(PoolMode.MAX, 13, 1, 6), true, new Limits(1L << 40, rows - 1), 8));
    }

    @Test
    void blocks_areAnchoredAtTheItemsRows_andCoverEveryWindowStart() {
        for (int origin : new int[] {0, 1, 5, 12, 13, 40}) {
            for (int pad = 0; pad < 13; pad += 3) {
                Axis a = new Axis(19, 19 + 2 * pad - 12, 13, 1, 1, pad, pad);
                int first = SeparablePool.firstBlock(a, origin);
                assertEquals(0, Math.floorMod(first + origin, 13), "origin " + origin + " pad " + pad);
                assertTrue(first <= -pad && -pad < first + 13, "the first window starts in the first block");
                int blocks = SeparablePool.blocks(a, a.out(), first);
                int lastStart = (a.out() - 1) - pad;
                assertTrue(first + (blocks - 1) * 13 <= lastStart && lastStart < first + blocks * 13, "the last in the last");
            }
        }
    }
}
