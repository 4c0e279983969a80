package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/**
 * Max backward in the Vector API ({@link VecArgmax#taps}, {@link VecMaxBackward}) against the
 * scalar branch of {@link CpuBackward#run}, called directly on the same inputs, bit for bit: the
 * inputs of {@link VecArgmaxTest} (ties, ±0, NaNs, infinities, constant and all-zero data, channel
 * tails) with gradients that have ±0, NaNs with payloads, infinities of both signs and magnitudes far apart (so that the sums of
 * overlapping windows round, and an order or precision other than the scalar path's would show).
 */
class VecMaxBackwardTest {
    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
    }

    @RepeatedTest(10)
    void gradientsAreTheScalarPathsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(1900 + rep);
        PoolSpec spec = VecArgmaxTest.spec(r, rep);
        Shape s = Shape.of(1 + r.nextInt(2), 5 + r.nextInt(6), 5 + r.nextInt(8), VecArgmaxTest.channels(r));
        Tensor x = VecArgmaxTest.data(s, rep % 5, rep);
        PoolGeometry g = spec.geometry(s);
        float[] dy = new float[Math.toIntExact(g.output().elementCount())];
        for (int i = 0; i < dy.length; i++) {
            int k = r.nextInt(50);
            dy[i] = switch (k) {
                case 0 -> Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22));
                case 1 -> Float.POSITIVE_INFINITY;
                case 7 -> Float.NEGATIVE_INFINITY;
                case 2 -> -0.0f;
                case 3 -> 0.0f;
                case 4, 5, 6 -> (float) r.nextGaussian() * 1e8f;
                default -> (float) r.nextGaussian();
            };
        }
        Tensor gradOut = Tensor.of(g.output(), dy);
        Tensor want = Tensor.allocate(s);
        Tensor got = Tensor.allocate(s);
        CpuBackward.run(g, x, gradOut, want, TestParallel.ONE_THREAD, false, false);
        CpuBackward.run(g, x, gradOut, got, TestParallel.ONE_THREAD, false, true);
        assertArrayEquals(VecArgmaxTest.bits(want), VecArgmaxTest.bits(got), spec + " on " + s + ", data " + rep % 5);
    }
}
