package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.PoolMode;
import org.junit.jupiter.api.Test;

/**
 * The channels-first kernel's geometry and options without a device: a lower rank's outer axes are
 * windows of one over one element (so the three ranks of a window share one program), sizes are
 * not compiled in, the layout and the lp exponent are, and invalid geometries are refused.
 */
class PlanarGeometryTest {
    /** Width 10, window 3, stride 2, padding 1 and 0: outputs 5. */
    private static final Axis W = new Axis(10, 5, 3, 2, 1, 1, 0);
    private static final Axis H = new Axis(7, 7, 3, 1, 1, 1, 1);
    private static final Axis D = new Axis(4, 2, 2, 2, 1, 0, 0);
    private static final Axis UNIT = new Axis(1, 1, 1, 1, 1, 0, 0);

    @Test
    void lowerRanks_areWindowsOfOneOnTheOuterAxes() {
        assertArrayEquals(new Axis[] {UNIT, UNIT, W}, new PlanarGeometry(3, new Axis[] {W}, PoolMode.MAX, 0, false).axes3());
        assertArrayEquals(new Axis[] {UNIT, H, W}, new PlanarGeometry(3, new Axis[] {H, W}, PoolMode.MAX, 0, false).axes3());
        assertArrayEquals(new Axis[] {D, H, W}, new PlanarGeometry(3, new Axis[] {D, H, W}, PoolMode.MAX, 0, false).axes3());
        PlanarGeometry g = new PlanarGeometry(6, new Axis[] {D, H, W}, PoolMode.AVG, 0, true);
        assertEquals(3, g.rank());
        assertEquals(4 * 7 * 10, g.inputPlane());
        assertEquals(2 * 7 * 5, g.outputPlane());
    }

    @Test
    void options_compileTheWindowAndLayout_notTheSizes_andRank1SharesRank2sProgramShape() {
        PlanarGeometry rank1 = new PlanarGeometry(2, new Axis[] {W}, PoolMode.MAX, 0, false);
        String rows = KernelOptions.planar(rank1, 8, true, true);
        assertTrue(rows.contains("-D KD=1 -D SD=1 -D DD=1 -D KH=1 -D SH=1 -D DH=1 -D KW=3 -D SW=2 -D DW=1"), rows);
        assertTrue(rows.contains("-D PAD_L=1 -D PAD_R=0") && rows.contains("-D VEC=8") && rows.contains("-D ROWLOOP=1"), rows);
        // Another width and plane count with the same window: the same program.
        PlanarGeometry wider = new PlanarGeometry(9, new Axis[] {new Axis(40, 20, 3, 2, 1, 1, 0)}, PoolMode.MAX, 0, false);
        assertEquals(rows, KernelOptions.planar(wider, 8, true, true));
        assertNotEquals(rows, KernelOptions.planar(rank1, 1, true, false));
        String lp = KernelOptions.planar(new PlanarGeometry(2, new Axis[] {W}, PoolMode.LP, 2.5, false), 1, false, false);
        assertTrue(lp.contains("-D MODE_LP") && lp.contains("-D LP_P=2.5000000000000000") && lp.contains("-D ACC_DOUBLE=0"), lp);
    }

    @Test
    void invalidGeometries_areRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PlanarGeometry(0, new Axis[] {W}, PoolMode.MAX, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new PlanarGeometry(1, new Axis[0], PoolMode.MAX, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new PlanarGeometry(1, new Axis[] {D, H, W, W}, PoolMode.MAX, 0, false));
        // The last window starts past the input (covers only padding).
        Axis overhang = new Axis(4, 4, 2, 2, 1, 0, 4);
        assertThrows(IllegalArgumentException.class, () -> new PlanarGeometry(1, new Axis[] {overhang}, PoolMode.MAX, 0, false));
    }

    @Test
    void axesAreCopied() {
        Axis[] axes = {H, W};
        PlanarGeometry g = new PlanarGeometry(1, axes, PoolMode.MAX, 0, false);
        axes[0] = D;
        assertEquals(H, g.axes()[0]);
        g.axes()[1] = D;
        assertEquals(W, g.axes()[1]);
        assertEquals(g, new PlanarGeometry(1, new Axis[] {H, W}, PoolMode.MAX, 0, false));
    }
}
