package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * Channels-first max and avg backward of tiling pair windows in one pass ({@link CfPairBackward},
 * {@link VecCfPairBackward}) against the engine's lowering on the CPU backend, called directly
 * on the same inputs, bit for bit: for 3-D the forward (H, W) pass, the D pass's backward and the
 * (H, W) pass's backward of {@code NdHost}; for 1-D and 2-D the one-channel 2-D backward. Inputs
 * with ties, ±0, NaNs with payloads, infinities, all-zero, constant and all −∞ data
 * ({@link VecArgmaxTest#data}); gradients with ±0, NaNs with payloads and infinities; rows of two
 * to six vectors, not all a multiple of the block (the last block overlaps). Averages are the
 * lowering's bits in 1-D and 2-D, within SEMANTICS.md's tolerance in 3-D (the lowering divides twice).
 */
class VecCfPairBackwardTest {
    private static CpuBackend cpu;

    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
        cpu = new CpuBackend(1);
    }

    @AfterAll
    static void close() {
        if (cpu != null) {
            cpu.close();
        }
    }

    @RepeatedTest(6)
    void volumesAreTheLoweringsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        randomVolume(PoolMode.MAX, new SplittableRandom(7300 + rep), rep);
    }

    @RepeatedTest(3)
    void averagesAreTheLoweringsWithinTolerance(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(7500 + rep);
        int kh = randomVolume(PoolMode.AVG, r, rep);
        compare(PoolSpec.avg(kh, 2).stride(kh, 2).countIncludePad(rep % 2 == 0).build(), 1 + r.nextInt(3),
                new int[] {kh * (1 + r.nextInt(3)), 2 * (VecCfPairBackward.lanes() + r.nextInt(2 * VecCfPairBackward.lanes()))},
                r, rep);
    }

    /** A random 3-D case: window depth and height 1-3, rows of two to six vectors; returns the window height. */
    private static int randomVolume(PoolMode mode, SplittableRandom r, int rep) {
        int kd = 1 + r.nextInt(3);
        int kh = 1 + r.nextInt(3);
        int lanes = VecCfPairBackward.lanes();
        compare(PoolSpec.builder(mode).window(kd, kh, 2).stride(kd, kh, 2).build(), 1 + r.nextInt(3),
                new int[] {kd * (1 + r.nextInt(3)), kh * (1 + r.nextInt(3)), 2 * (lanes + r.nextInt(2 * lanes))}, r, rep);
        return kh;
    }

    @Test
    void planesAndSequences() {
        SplittableRandom r = new SplittableRandom(7400);
        int lanes = VecCfPairBackward.lanes();
        compare(PoolSpec.max(2, 2).stride(2).build(), 3, new int[] {6, 2 * lanes + 6}, r, 0);
        compare(PoolSpec.max(3, 2).stride(3, 2).build(), 2, new int[] {9, 4 * lanes}, r, 1);
        compare(PoolSpec.max(2).stride(2).build(), 5, new int[] {2 * lanes + 2}, r, 3);
        compare(PoolSpec.max(2, 2, 2).stride(2).build(), 2, new int[] {4, 4, 4 * lanes}, r, 4);
        compare(PoolSpec.avg(2, 2).stride(2).build(), 3, new int[] {4, 2 * lanes + 6}, r, 1);
    }

    @Test
    void otherGeometriesAreLowered() {
        int w = 4 * VecCfPairBackward.lanes();
        assertTrue(fits(PoolSpec.max(2, 2, 2).stride(2).build(), 4, 4, w));
        assertTrue(fits(PoolSpec.avg(2, 2, 2).stride(2).build(), 4, 4, w));
        assertFalse(fits(PoolSpec.builder(PoolMode.LP).window(2, 2, 2).stride(2).p(2.0).build(), 4, 4, w));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(1).build(), 4, 4, w));
        assertFalse(fits(PoolSpec.max(2, 2, 3).stride(2, 2, 3).build(), 4, 4, 3 * w));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(2).padding(Padding.of(1)).build(), 4, 4, w));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(2).dilation(1, 1, 2).build(), 4, 4, w));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(2).build(), 5, 4, w));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(2).build(), 4, 4, w + 1));
        assertFalse(fits(PoolSpec.max(2, 2, 2).stride(2).build(), 4, 4, 2 * VecCfPairBackward.lanes() - 2));
    }

    private static boolean fits(PoolSpec spec, int d, int h, int w) {
        TensorShape s = TensorShape.channelsFirst(1, 2, d, h, w);
        Tensor x = Tensor.allocate(s);
        return CfPairBackward.fits(spec.mode(), spec.axes(s), x, Tensor.allocate(spec.outputShape(s)), x);
    }

    private static void compare(PoolSpec spec, int planes, int[] dims, SplittableRandom r, int rep) {
        TensorShape s = TensorShape.channelsFirst(1, planes, dims);
        TensorShape os = spec.outputShape(s);
        Axis[] axes = spec.axes(s);
        Tensor x = VecArgmaxTest.data(Shape.of(1, 1, Math.toIntExact(s.elementCount()), 1), rep % 5, rep);
        Tensor dy = gradients(r, Math.toIntExact(os.elementCount()));
        Tensor got = Tensor.allocate(Shape.of(1, 1, Math.toIntExact(s.elementCount()), 1));
        Tensor want = Tensor.allocate(Shape.of(1, 1, Math.toIntExact(s.elementCount()), 1));
        assertTrue(CfPairBackward.fits(spec.mode(), axes, x, dy, got), spec + " on " + s);
        CfPairBackward.run(spec.mode(), axes, planes, x, dy, got, TestParallel.ONE_THREAD);
        lowered(spec, planes, axes, x, dy, want);
        String what = spec + " on " + s + ", data " + rep % 5;
        if (spec.mode() == PoolMode.MAX || axes.length < 3) {
            assertArrayEquals(bits(want), bits(got), what);
            return;
        }
        for (int i = 0; i < want.floats().capacity(); i++) {
            float a = want.floats().get(i);
            float b = got.floats().get(i);
            assertTrue(Float.isNaN(a) ? Float.isNaN(b) : a == b || Math.abs(a - b) <= 4e-6 * Math.max(1, Math.abs(a)),
                    what + " at " + i + ": " + b + ", lowered " + a);
        }
    }

    /** The engine's lowering of the same backward, on the CPU backend. */
    private static void lowered(PoolSpec spec, int planes, Axis[] axes, Tensor x, Tensor dy, Tensor dx) {
        Axis h = axes.length >= 2 ? axes[axes.length - 2] : new Axis(1, 1, 1, 1, 1, 0, 0);
        Axis w = axes[axes.length - 1];
        PoolSpec hw = PoolSpec.builder(spec.mode()).window(h.window(), 2).stride(h.window(), 2)
                .countIncludePad(spec.countIncludePad()).build();
        if (axes.length < 3) {
            Shape in = Shape.of(planes, h.in(), w.in(), 1);
            cpu.backward(hw.geometry(in), view(in, x), view(Shape.of(planes, h.out(), w.out(), 1), dy), view(in, dx));
            return;
        }
        Axis d = axes[0];
        Shape slices = Shape.of(planes * d.in(), h.in(), w.in(), 1);
        Shape mid = Shape.of(planes * d.in(), h.out(), w.out(), 1);
        Shape depth = Shape.of(planes, d.in(), h.out() * w.out(), 1);
        Tensor a = Tensor.allocate(mid);
        Tensor g = Tensor.allocate(mid);
        cpu.pool(hw.geometry(slices), view(slices, x), a);
        cpu.backward(PoolSpec.builder(spec.mode()).window(d.window(), 1).stride(d.window(), 1).build().geometry(depth),
                view(depth, a),
                view(Shape.of(planes, d.out(), h.out() * w.out(), 1), dy), view(depth, g));
        cpu.backward(hw.geometry(slices), view(slices, x), view(mid, g), view(slices, dx));
    }

    private static Tensor view(Shape s, Tensor t) {
        return Tensor.wrap(s, t.buffer());
    }

    private static Tensor gradients(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (r.nextInt(12)) {
                case 0 -> Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22));
                case 1 -> Float.intBitsToFloat(0x7f800001 + r.nextInt(1 << 22));
                case 2 -> -0.0f;
                case 3 -> 0.0f;
                case 4 -> Float.NEGATIVE_INFINITY;
                default -> (float) r.nextGaussian();
            };
        }
        return Tensor.of(Shape.of(1, 1, n, 1), v);
    }

    private static int[] bits(Tensor t) {
        int[] b = new int[t.floats().capacity()];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(t.floats().get(i));
        }
        return b;
    }
}
