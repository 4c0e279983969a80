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

/** The sliding sums' planning on the host: which geometries take them, and their tiles. */
class SlidingPoolTest {
    private static PoolGeometry g(PoolMode mode, int k, Shape s) {
        return PoolSpec.builder(mode).window(k).stride(1).padding(Padding.of(k / 2)).build().geometry(s);
    }

    @Test
    void averagesWithDoubleSums_onCpuDevices_slide() {
        Shape box = Shape.of(8, 19, 19, 512);
        assertTrue(SlidingPool.chosen(g(PoolMode.AVG, 13, box), true, true));
        // GPUs (channel lanes) keep the passes; so do max, float sums, dilation, windows over half a tile
        assertFalse(SlidingPool.chosen(g(PoolMode.AVG, 13, box), true, false));
        assertFalse(SlidingPool.chosen(g(PoolMode.MAX, 13, box), true, true));
        assertFalse(SlidingPool.chosen(g(PoolMode.AVG, 13, box), false, true));
        assertFalse(SlidingPool.chosen(PoolSpec.avg(7, 7).stride(1).dilation(2).build().geometry(box), true, true));
        assertFalse(SlidingPool.chosen(g(PoolMode.AVG, 33, Shape.of(1, 40, 40, 8)), true, true));
        assertTrue(SlidingPool.chosen(g(PoolMode.AVG, 31, Shape.of(1, 40, 40, 8)), true, true));
    }

    @Test
    void costModel_slidesFromFiveByFive_andKeepsTheDirectKernelForThreeByThree() {
        Shape box = Shape.of(8, 19, 19, 512);
        assertTrue(SlidingPool.chosen(g(PoolMode.AVG, 5, box), true, true));
        assertTrue(SlidingPool.chosen(g(PoolMode.AVG, 7, box), true, true));
        assertFalse(SlidingPool.chosen(g(PoolMode.AVG, 3, box), true, true));
        // stride 2 reads four input elements per output: 3x3 s2 stays direct, 7x7 s2 slides
        assertFalse(SlidingPool.chosen(PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build().geometry(box), true, true));
        assertTrue(SlidingPool.chosen(PoolSpec.avg(7, 7).stride(2).padding(Padding.of(3)).build().geometry(box), true, true));
    }

    @Test
    void tiles_coverTheRow_withinThePrivateColumns_andBandsGiveEnoughWorkItems() {
        // 19 outputs of a 13 window: one tile, one band of 19 rows (8 items x 32 channel vectors)
        PoolGeometry box = g(PoolMode.AVG, 13, Shape.of(8, 19, 19, 512));
        assertEquals(19, SlidingPool.tileCols(box));
        assertEquals(19, SlidingPool.band(box, 16));
        // 224 outputs: tiles of at most 52 outputs (64 input columns), balanced: 5 tiles of 45
        PoolGeometry wide = g(PoolMode.AVG, 13, Shape.of(1, 100, 224, 16));
        assertEquals(45, SlidingPool.tileCols(wide));
        assertTrue((SlidingPool.tileCols(wide) - 1) + 13 <= SlidingPool.TILE_IN);
        // 1 item, 1 channel vector, 5 tiles: bands cut to give at least 64 work items
        int band = SlidingPool.band(wide, 16);
        long items = 5L * ((100 + band - 1) / band);
        assertTrue(items >= SlidingPool.MIN_ITEMS && band >= 1, band + " rows a band");
        // never more than MAX_BAND rows a band
        assertEquals(25, SlidingPool.band(g(PoolMode.AVG, 13, Shape.of(64, 50, 19, 512)), 16));
    }
}
