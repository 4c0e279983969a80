package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolMode;
import org.junit.jupiter.api.Test;

/** Which channels-first tiled backward writes whole lines by non-temporal stores ({@link BackwardRoutine#stream}). */
class TilesStreamTest {
    private static final String FORCE = "clpool.opencl.tilesStream";
    /** DenseNet's transition: 56 to 28 by windows of 2, 16 x 128 planes (25.7 MB of gradient). */
    private static final Axis H56 = tile(56, 2);
    private static final Axis W56 = tile(56, 2);
    private static final int DENSENET_PLANES = 16 * 128;

    private static Axis tile(int in, int k) {
        return new Axis(in, in / k, k, k, 1, 0, 0);
    }

    private static PlanarGeometry g(PoolMode mode, Axis... axes) {
        return new PlanarGeometry(1, axes, mode, 1, false);
    }

    @Test
    void densenetsAvg_onCpuDevices_streamsItsLines() {
        assertTrue(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT32, true, DENSENET_PLANES));
        assertTrue(BackwardRoutine.stream(g(PoolMode.AVG, tile(256, 2)), DType.FLOAT32, true, 16384)); // 1-D, 16 MB
        // below STREAM_BYTES (the lines stay in the cache), GPUs' lanes, max, 16-bit storage
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT32, true, 256));
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT32, false, DENSENET_PLANES));
        assertFalse(BackwardRoutine.stream(g(PoolMode.MAX, H56, W56), DType.FLOAT32, true, DENSENET_PLANES));
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT16, true, DENSENET_PLANES));
        // rows that are not whole lines (2 x 36), more than 256 elements (2 x 160), a depth window
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, tile(56, 2), tile(36, 2)), DType.FLOAT32, true, 100_000));
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, tile(56, 2), tile(160, 2)), DType.FLOAT32, true, 100_000));
        assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, tile(8, 2), H56, W56), DType.FLOAT32, true, DENSENET_PLANES));
    }

    @Test
    void property_forcesEitherWay_onlyWhereTheGeometryFits() {
        try {
            System.setProperty(FORCE, "never");
            assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT32, true, DENSENET_PLANES));
            System.setProperty(FORCE, "always");
            assertTrue(BackwardRoutine.stream(g(PoolMode.AVG, H56, W56), DType.FLOAT32, true, 1));
            assertFalse(BackwardRoutine.stream(g(PoolMode.AVG, tile(56, 2), tile(36, 2)), DType.FLOAT32, true, 1));
            assertFalse(BackwardRoutine.stream(g(PoolMode.MAX, H56, W56), DType.FLOAT32, true, 1));
        } finally {
            System.clearProperty(FORCE);
        }
    }
}
