package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Which channels-first averages take {@code pool_planar.cl}'s plane a work item ({@code CF_FLAT},
 * {@link KernelOptions#planarFlat}): stride-1 averages with {@code count_include_pad} whose padding
 * keeps the plane's size, on CPU devices with double sums, planes that fit the kernel's stage; the
 * property forces the row loop; GPUs (one work item per output) never take it.
 */
class PlanarFlatTest {
    /** Inception's 3x3 s1 p1 over 35 rows or columns. */
    private static final Axis SAME35 = new Axis(35, 35, 3, 1, 1, 1, 1);

    @AfterEach
    void clear() {
        System.clearProperty(KernelOptions.PLANAR_FLAT);
    }

    private static PlanarGeometry avg(boolean includePad, Axis... axes) {
        return new PlanarGeometry(4, axes, PoolMode.AVG, 0, includePad);
    }

    @Test
    void inceptionsAverage_takesTheFlatPlanes_onCpuDevicesOnly() {
        PlanarGeometry g = avg(true, SAME35, SAME35);
        assertTrue(KernelOptions.planarFlat(g, 8, true, true));
        assertTrue(KernelOptions.planar(g, 8, true, true).endsWith(" -D CF_FLAT"), KernelOptions.planar(g, 8, true, true));
        assertFalse(KernelOptions.planarFlat(g, 1, true, false), "the GPU layout");
        assertFalse(KernelOptions.planarFlat(g, 8, false, true), "compensated float sums");
        assertFalse(KernelOptions.planar(g, 1, true, false).contains("CF_FLAT"));
        // Uneven padding that keeps the size, windows up to 8, a 3-D tensor's depth slices.
        Axis uneven = new Axis(20, 20, 4, 1, 1, 2, 1);
        assertTrue(KernelOptions.planarFlat(avg(true, uneven, new Axis(9, 9, 8, 1, 1, 3, 4)), 8, true, true));
        Axis depth = new Axis(5, 5, 1, 1, 1, 0, 0);
        assertTrue(KernelOptions.planarFlat(avg(true, depth, SAME35, SAME35), 8, true, true));
    }

    @Test
    void otherAverages_keepTheRowLoop() {
        assertFalse(KernelOptions.planarFlat(avg(false, SAME35, SAME35), 8, true, true), "count_include_pad off");
        assertFalse(KernelOptions.planarFlat(new PlanarGeometry(4, new Axis[] {SAME35, SAME35}, PoolMode.MAX, 0, false),
                8, true, true), "max");
        Axis stride2 = new Axis(35, 18, 3, 2, 1, 1, 1);
        assertFalse(KernelOptions.planarFlat(avg(true, SAME35, stride2), 8, true, true), "stride 2");
        assertFalse(KernelOptions.planarFlat(avg(true, new Axis(35, 33, 3, 1, 1, 0, 0), SAME35), 8, true, true), "no padding");
        assertFalse(KernelOptions.planarFlat(avg(true, SAME35, new Axis(7, 7, 3, 1, 1, 1, 1)), 8, true, true), "rows under 8");
        assertFalse(KernelOptions.planarFlat(avg(true, SAME35, new Axis(35, 35, 3, 1, 2, 2, 2)), 8, true, true), "dilation");
        assertFalse(KernelOptions.planarFlat(avg(true, new Axis(9, 9, 9, 1, 1, 4, 4), SAME35), 8, true, true), "9 rows");
        Axis depth = new Axis(5, 3, 3, 1, 1, 0, 0);
        assertFalse(KernelOptions.planarFlat(avg(true, depth, SAME35, SAME35), 8, true, true), "a depth window");
    }

    /** The stage holds (H + KH - 1) * W + 8 doubles: 2560. */
    @Test
    void planesPastTheStage_keepTheRowLoop() {
        assertEquals(2560, KernelOptions.PLANAR_STAGE);
        Axis w64 = new Axis(64, 64, 3, 1, 1, 1, 1);
        assertTrue(KernelOptions.planarFlat(avg(true, new Axis(37, 37, 3, 1, 1, 1, 1), w64), 8, true, true)); // 39 * 64 + 8
        assertFalse(KernelOptions.planarFlat(avg(true, new Axis(38, 38, 3, 1, 1, 1, 1), w64), 8, true, true)); // 40 * 64 + 8
    }

    @Test
    void theProperty_forcesTheRowLoop() {
        PlanarGeometry g = avg(true, SAME35, SAME35);
        System.setProperty(KernelOptions.PLANAR_FLAT, "never");
        assertFalse(KernelOptions.planarFlat(g, 8, true, true));
        assertFalse(KernelOptions.planar(g, 8, true, true).contains("CF_FLAT"));
        System.setProperty(KernelOptions.PLANAR_FLAT, "always");
        assertFalse(KernelOptions.planarFlat(avg(false, SAME35, SAME35), 8, true, true), "never where unsupported");
    }
}
