package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * Max backward of one-channel planes in the Vector API ({@link PlaneMaxGather}: the tap numbers of
 * {@link VecArgmaxPlanes#flatTaps}, the sums of {@link VecPlaneMaxGather}) against the scalar
 * general path of {@link CpuBackward#run} (whose bits {@link PlaneBackward}'s scalar bands have,
 * {@code PlanePathsTest}), called directly on the same inputs, bit for bit: {@link VecArgmaxPlanesTest}'s
 * geometries and inputs (column strides 1 and 2, row strides 1 to 3, dilation, asymmetric padding, ceil
 * mode, ties, ±0, NaNs, infinities, all-zero, constant
 * and all −∞ data, rows near the lane count) with gradients that have ±0, NaNs with payloads,
 * infinities and magnitudes far apart (so that sums of overlapping windows round, and another order
 * or precision would show), and the 3-D lowering's depth pass (window 2×1, stride 2×1).
 */
class VecPlaneMaxGatherTest {
    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
    }

    @RepeatedTest(30)
    void gradientsAreTheScalarPathsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(5500 + rep);
        PoolSpec spec = VecArgmaxPlanesTest.spec(r, rep);
        compare(spec, VecArgmaxPlanesTest.planes(r, spec), r, rep);
    }

    @Test
    void depthPassAndStemShapes() {
        SplittableRandom r = new SplittableRandom(5600);
        compare(PoolSpec.max(2, 1).stride(2, 1).build(), Shape.of(3, 6, 3 * VecWidth.floats() + 5, 1), r, 1);
        compare(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 9, 4 * VecWidth.floats(), 1), r, 2);
        compare(PoolSpec.max(2, 2).stride(2).build(), Shape.of(2, 6, 4 * VecWidth.floats(), 1), r, 4);
    }

    /** Planes of several bands (each stages its own output rows' taps and gradients), odd and narrow rows, dilation. */
    @Test
    void planesSpanningBands() {
        SplittableRandom r = new SplittableRandom(5700);
        int l = VecWidth.floats();
        compare(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, (1 << 14) / (2 * l + 3) + 7, 2 * l + 3, 1), r, 1);
        compare(PoolSpec.max(3, 3).stride(2).dilation(2).build(), Shape.of(1, (1 << 14) / (3 * l) + 9, 3 * l, 1), r, 3);
        compare(PoolSpec.max(2, 3).stride(2, 1).padding(Padding.of(1)).build(), Shape.of(1, (1 << 14) / (l + 1) + 3, l + 1, 1), r, 2);
        // Rows narrower than two vectors: the phases are interleaved one element at a time.
        compare(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 9, l + 5, 1), r, 4);
    }

    @Test
    void otherStridesChannelsAndNarrowRowsStayScalar() {
        assertFalse(PlaneMaxGather.fits(PoolSpec.max(3, 3).stride(3).build().geometry(Shape.of(1, 9, 200, 1))));
        assertFalse(PlaneMaxGather.fits(PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(1, 9, 200, 2))));
        assertFalse(PlaneMaxGather.fits(PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(1, 9, VecWidth.floats() - 1, 1))));
        assertFalse(PlaneMaxGather.fits(PoolSpec.avg(2, 2).stride(2).build().geometry(Shape.of(1, 9, 200, 1))));
        assertTrue(PlaneMaxGather.fits(PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(1, 9, 200, 1))));
    }

    private static void compare(PoolSpec spec, Shape s, SplittableRandom r, int rep) {
        Tensor x = VecArgmaxTest.data(s, rep % 5, rep);
        PoolGeometry g = spec.geometry(s);
        float[] dy = new float[Math.toIntExact(g.output().elementCount())];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = switch (r.nextInt(50)) {
                case 0 -> Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22));
                case 1 -> Float.POSITIVE_INFINITY;
                case 7 -> Float.NEGATIVE_INFINITY;
                case 2 -> -0.0f;
                case 3 -> 0.0f;
                case 4, 5, 6 -> (float) r.nextGaussian() * 1e8f;
                // ±1e30 against terms near 1: a sum in another order (or in float) loses the 1 or keeps it.
                case 8, 9, 10, 11 -> r.nextBoolean() ? 1e30f : -1e30f;
                default -> (float) r.nextGaussian();
            };
        }
        Tensor gradOut = Tensor.of(g.output(), dy);
        Tensor want = Tensor.allocate(s);
        Tensor got = Tensor.allocate(s);
        assertTrue(PlaneMaxGather.fits(g), spec + " on " + s);
        CpuBackward.run(g, x, gradOut, want, TestParallel.ONE_THREAD, false, false);
        PlaneMaxGather.run(g, x, gradOut, got, TestParallel.ONE_THREAD);
        assertArrayEquals(VecArgmaxTest.bits(want), VecArgmaxTest.bits(got), spec + " on " + s + ", data " + rep % 5);
    }
}
