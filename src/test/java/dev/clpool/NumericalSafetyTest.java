package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.testing.Tolerance;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * Host arithmetic on large-but-cheap shapes (shape and spec math only, nothing allocated beyond a
 * few bytes): offsets, counts and divisors are 64-bit where a product of ints can pass 2^31, and
 * specs whose sizes would wrap an int are refused. Then global average accuracy on a 4096x4096
 * plane of values near 1e4 on the CPU path.
 */
class NumericalSafetyTest {

    // ---- divisors: a product of two axis extents ----

    @Test
    void countIncludePad_divisorBeyond2pow31_onAOnePixelInput_isExact() {
        // Regression: PoolGeometry.divisor multiplied two ints: 50000 * 50000 wrapped to -1794967296,
        // and the average of one pixel of 1e9 came out as -0.557 instead of 0.4.
        PoolSpec spec = PoolSpec.avg(50_000, 50_000).stride(50_000).padding(Padding.of(49_999)).countIncludePad(true).build();
        Shape one = Shape.of(1, 1, 1, 1);
        PoolGeometry g = spec.geometry(one);
        assertEquals(Shape.of(1, 1, 1, 1), g.output());
        assertEquals(2_500_000_000L, g.divisor(0, 0));
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            float got = cpu.pool(Tensor.of(one, 1e9f), spec).toArray()[0];
            Tolerance.assertClose(new float[] {got}, new double[] {0.4}, "1e9 / 2.5e9");
        }
    }

    @Test
    void countIncludePad_divisorBeyond2pow31_inBackward_isExact() {
        PoolSpec spec = PoolSpec.avg(50_000, 50_000).stride(50_000).padding(Padding.of(49_999)).countIncludePad(true).build();
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            float got = cpu.backward(Tensor.of(Shape.of(1, 1, 1, 1), 3f), Tensor.of(Shape.of(1, 1, 1, 1), 1e9f), spec).toArray()[0];
            Tolerance.assertClose(new float[] {got}, new double[] {0.4}, "backward 1e9 / 2.5e9");
        }
    }

    @Test
    void divisors_ofHugeShapes_areLongs() {
        // Shapes only: 2^40 elements, windows of 65536 and more.
        Shape huge = Shape.of(1, 1 << 20, 1 << 20, 1);
        PoolGeometry withPad = PoolSpec.avg(65_536, 65_536).stride(1 << 30).padding(Padding.of(65_535))
                .countIncludePad(true).build().geometry(huge);
        assertEquals(65_536L * 65_536L, withPad.divisor(0, 0));
        PoolGeometry counted = PoolSpec.avg(65_536, 65_537).stride(Integer.MAX_VALUE).build()
                .geometry(Shape.of(1, 1 << 17, 1 << 17, 1));
        assertEquals(65_536L * 65_537L, counted.divisor(0, 0));
    }

    // ---- sizes that would wrap an int are refused ----

    @Test
    void effectiveWindowBeyond2pow31_isRefused_namingDilation() {
        // Regression: Axis.effectiveWindow saturated at 2^31-1, so window 2 with dilation 2^31-1
        // (reach 2^31) was accepted on an input of 2^31-1 rows although it does not fit.
        InvalidSpecException e = assertThrows(InvalidSpecException.class,
                () -> PoolSpec.max(2, 1).dilation(Integer.MAX_VALUE, 1).build());
        assertEquals("dilation", e.field());
        assertEquals("dilation", assertThrows(InvalidSpecException.class,
                () -> PoolSpec.max(1, 3).dilation(1, 1 << 30).build()).field());
        // The largest effective window that fits is accepted and fits an input of that size exactly.
        PoolSpec widest = PoolSpec.max(2, 1).dilation(Integer.MAX_VALUE - 1, 1).build();
        assertEquals(Shape.of(1, 1, 1, 1), widest.outputShape(Shape.of(1, Integer.MAX_VALUE, 1, 1)));
        assertEquals("window", assertThrows(InvalidSpecException.class,
                () -> widest.geometry(Shape.of(1, Integer.MAX_VALUE - 1, 1, 1))).field());
    }

    @Test
    void paddedSizeBeyond2pow31_isRefused_namingPadding() {
        // Padding below a window of 2^30, on 2^30 rows: every number valid alone, the padded size is 3 * 2^30 - 2.
        int big = 1 << 30;
        PoolSpec spec = PoolSpec.max(big, 1).stride(Integer.MAX_VALUE).padding(Padding.of(big - 1, big - 1, 0, 0)).build();
        InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> spec.geometry(Shape.of(1, big, 1, 1)));
        assertEquals("padding", e.field());
        assertTrue(e.getMessage().contains("exceeds 2^31-1"), e.getMessage());
        assertTrue(spec.check(Shape.of(1, big, 1, 1)).isPresent());
        // The same padding on 1 row fits (1 + 2 * (2^30 - 1) < 2^31).
        assertEquals(Shape.of(1, 1, 1, 1), spec.outputShape(Shape.of(1, 1, 1, 1)));
    }

    @Test
    void sameDerivedPadding_onHugeAxes_staysExact() {
        // SAME padding on 2^31 - 1 columns with stride 2^30: out = ceil(in / s) = 2, total padding is
        // computed in long before it is split.
        PoolGeometry g = PoolSpec.max(3, 3).stride(1 << 30).padding(Padding.SAME).build()
                .geometry(Shape.of(1, 5, Integer.MAX_VALUE, 1));
        assertEquals(2, g.cols().out());
        long total = Math.max((long) (2 - 1) * (1 << 30) + 3 - Integer.MAX_VALUE, 0);
        assertEquals(total / 2, g.cols().padBegin());
        assertEquals(1L << 30, g.cols().start(1) + g.cols().padBegin());
    }

    // ---- shapes, offsets, tensor limits ----

    @Test
    void shapeCountsAndOffsets_are64bit() {
        Shape s = Shape.of(1 << 15, 1 << 16, 1 << 16, 1 << 15);
        assertEquals(1L << 62, s.elementCount());
        assertEquals(1L << 47, s.itemSize());
        assertEquals((1L << 62) - 1, s.offset(s.n() - 1, s.h() - 1, s.w() - 1, s.c() - 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.of(1 << 16, 1 << 16, 1 << 16, 1 << 16));
        assertTrue(e.getMessage().contains("2^63"), e.getMessage());
    }

    @Test
    void geometryOfAShapeBeyond2pow31Elements_needsNoAllocation() {
        Shape in = Shape.of(3, 1 << 20, 1 << 20, 5); // 1.6e13 elements
        PoolGeometry g = PoolSpec.avg(3, 3).stride(1 << 19).padding(Padding.of(1)).build().geometry(in);
        assertEquals(Shape.of(3, 2, 2, 5), g.output());
        assertEquals(in.elementCount(), 3L * (1 << 20) * (1 << 20) * 5);
        assertEquals((1L << 19) - 1, g.rows().start(1));
        assertEquals(9, g.divisor(1, 1));
    }

    @Test
    void tensorBeyondOneDirectBuffer_isRefusedBeforeAllocating() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(Shape.of(1, 1 << 16, 1 << 16, 1)));
        assertTrue(e.getMessage().contains("at most " + Tensor.MAX_ELEMENTS), e.getMessage());
        // An output that would exceed a tensor is refused the same way, through the engine.
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            PoolSpec grow = PoolSpec.max(46_341, 46_341).stride(1).padding(Padding.of(46_340)).build();
            assertThrows(IllegalArgumentException.class, () -> cpu.pool(Tensor.allocate(Shape.of(1, 1, 1, 1)), grow));
        }
    }

    // ---- accuracy ----

    @Test
    void globalAvg_4096x4096_valuesNear1e4_cpu_isWithinTolerance_ofFloat64() {
        Shape s = Shape.of(1, 4096, 4096, 2);
        Tensor x = Tensor.allocate(s);
        double[] sums = fillNear1e4(x);
        double hw = (double) s.h() * s.w();
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            float[] got = cpu.globalAvg(x).toArray();
            Tolerance.assertClose(got, new double[] {sums[0] / hw, sums[1] / hw}, "global avg 4096x4096x2 near 1e4");
            // an average pooling window as large as the plane is the same sum
            float[] pooled = cpu.pool(x, PoolSpec.avg(4096, 4096).build()).toArray();
            Tolerance.assertClose(pooled, new double[] {sums[0] / hw, sums[1] / hw}, "avg window 4096x4096");
        }
    }

    /**
     * Fills {@code x} (C = 2) with values near 1e4 (channel 0) and near -1e4 + 0.25 (channel 1) that
     * vary in their last bits, so a naive float sum drifts by far more than the tolerance; returns
     * the float64 sums per channel. Public for the device test.
     */
    public static double[] fillNear1e4(Tensor x) {
        FloatBuffer f = x.floats();
        double[] sums = new double[2];
        long state = 0x9E3779B97F4A7C15L;
        int pixels = Math.toIntExact(x.shape().elementCount() / 2);
        for (int p = 0; p < pixels; p++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            float a = 1e4f + ((int) (state >>> 44) - (1 << 19)) / (float) (1 << 21);   // 1e4 +- 0.25
            float b = -1e4f + 0.25f + ((int) (state >>> 24 & 0xFFFFF) - (1 << 19)) / (float) (1 << 16);
            f.put(2 * p, a);
            f.put(2 * p + 1, b);
            sums[0] += a;
            sums[1] += b;
        }
        return sums;
    }
}
