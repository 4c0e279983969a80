package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The one-channel paths (channels-first planes viewed as channels-last: {@link PlaneArgmax} behind
 * max with indices, {@link PlaneBackward}, {@link CpuAdaptive}'s planes) against the general
 * channel-vectorised paths they replace for C == 1, which must give the same bits: values,
 * indices in every convention, gradients (same sums in the same order) and adaptive results. The
 * data is {@link CpuArgmaxTest#hard} (ties everywhere, ±0, ±∞, NaNs with payloads); geometries
 * are random (stride, dilation, padding, ceil mode), some large enough to span several bands, and
 * tasks run on parallel streams.
 */
class PlanePathsTest {
    /** One channel; every fourth case a plane big enough for several bands of outputs and of inputs. */
    private static Shape planes(SplittableRandom r, int rep) {
        if (rep % 4 == 0) {
            return Shape.of(1 + r.nextInt(2), 130 + r.nextInt(40), 130 + r.nextInt(40), 1);
        }
        return Shape.of(1 + r.nextInt(6), 5 + r.nextInt(30), 5 + r.nextInt(30), 1);
    }

    @RepeatedTest(40)
    void maxWithIndices_onePlane_sameBitsAsGeneralPath_everyConvention(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(900 + rep);
        PoolSpec spec = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        Shape s = planes(r, rep);
        Tensor x = CpuArgmaxTest.hard(s, rep);
        PoolGeometry g = spec.geometry(s);
        for (IndexConvention conv : IndexConvention.values()) {
            Tensor fast = Tensor.allocate(g.output());
            Tensor general = Tensor.allocate(g.output());
            Indices fastIdx = Indices.allocate(g.output(), conv);
            Indices generalIdx = Indices.allocate(g.output(), conv);
            CpuMaxIndices.run(g, x, fast, fastIdx, TestParallel.FORK_JOIN);
            CpuMaxIndices.channels(g, x, general, generalIdx, TestParallel.FORK_JOIN);
            String what = spec + " on " + s + ", " + conv.word();
            Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), what);
            assertArrayEquals(generalIdx.toArray(), fastIdx.toArray(), what);
        }
    }

    @Test
    void maxWithIndices_onePlane_matchesNaiveArgmax() {
        // Independent of the general path: a band boundary inside the plane, ceil mode, padding.
        Shape s = Shape.of(3, 150, 141, 1);
        PoolSpec spec = PoolSpec.max(3, 3).stride(1, 2).padding(Padding.of(1)).ceilMode(true).build();
        Tensor x = CpuArgmaxTest.hard(s, 17);
        Tensor y = Tensor.allocate(spec.outputShape(s));
        Indices idx = Indices.allocate(spec.outputShape(s), IndexConvention.PYTORCH);
        CpuMaxIndices.run(spec.geometry(s), x, y, idx, TestParallel.FORK_JOIN);
        NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, IndexConvention.PYTORCH);
        Tolerance.assertBitIdentical(y.toArray(), want.values(), "plane");
        assertArrayEquals(want.indices(), idx.toArray(), "plane");
    }

    @Test
    void maxWithIndices_rowsWiderThanABand_bandsBoundedByStagedRows_sameBitsAsGeneralPath() {
        // Staged rows longer than a band's positions: one output row a band (many bands here).
        Shape s = Shape.of(2, 8, 5000, 1);
        PoolSpec spec = PoolSpec.max(3, 50).stride(1, 1).padding(Padding.of(1, 1, 0, 0)).build();
        PoolGeometry g = spec.geometry(s);
        assertTrue(ArgmaxPlanes.applies(g), "a window far narrower than the row runs flat");
        assertSameIndicesAsGeneralPath(g, CpuArgmaxTest.hard(s, 29));
    }

    @Test
    void windowsThatSpanTheRow_runOutputByOutput_sameBitsAsGeneralPath() {
        // One output a row: a flat pass would visit every column for every tap (22 s here with
        // indices and 24 s backward before); output by output it is the taps of 120 outputs.
        Shape s = Shape.of(2, 60, 3000, 1);
        PoolSpec spec = PoolSpec.max(3, 3000).stride(1, 1).padding(Padding.of(1, 1, 0, 0)).build();
        PoolGeometry g = spec.geometry(s);
        assertFalse(ArgmaxPlanes.applies(g), "indices");
        assertFalse(PlaneMaxGather.fits(g), "backward");
        Tensor x = CpuArgmaxTest.hard(s, 31);
        assertSameIndicesAsGeneralPath(g, x);
        float[] grad = new float[Math.toIntExact(g.output().elementCount())];
        SplittableRandom r = new SplittableRandom(31);
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (float) r.nextGaussian();
        }
        Tensor dy = Tensor.of(g.output(), grad);
        Tensor fast = Tensor.allocate(s);
        Tensor general = Tensor.allocate(s);
        CpuBackward.run(g, x, dy, fast, TestParallel.FORK_JOIN, true, true);
        CpuBackward.run(g, x, dy, general, TestParallel.FORK_JOIN, false, false);
        Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), "backward");
    }

    @Test
    void flatPassesCount_thePositionsTheirWindowsOverhang() {
        assertEquals(1.0, WindowPlan.flatPositionsPerOutput(new Axis(56, 56, 3, 1, 1, 1, 1), new Axis(56, 56, 3, 1, 1, 1, 1)), 0.1);
        // 1-D, a window of 64 over 64 columns: one output visits 64 positions.
        assertEquals(64.0, WindowPlan.flatPositionsPerOutput(new Axis(1, 1, 1, 1, 1, 0, 0), new Axis(64, 1, 64, 1, 1, 0, 0)), 1e-9);
        // SPP's 13x13 without padding on 19x19: 7 outputs a row, 19 positions, (19/7)^2.
        PoolGeometry spp = PoolSpec.max(13, 13).stride(1).build().geometry(Shape.of(1, 19, 19, 1));
        assertEquals(19.0 * 19 / 49, WindowPlan.flatPositionsPerOutput(spp.rows(), spp.cols()), 1e-9);
        assertTrue(ArgmaxPlanes.applies(spp));
        // The flat max backward only for few taps: 169 taps x 7.4 positions run output by output.
        assertFalse(PlaneMaxGather.fits(spp), "13x13 backward");
        PoolGeometry stem = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build().geometry(Shape.of(1, 30, 40, 1));
        assertEquals(VectorSupport.ENABLED, PlaneMaxGather.fits(stem), "3x3 s2 backward where the Vector API runs");
        PoolGeometry box4 = PoolSpec.max(4, 4).stride(1).build().geometry(Shape.of(1, 19, 19, 1));
        assertEquals(VectorSupport.ENABLED, PlaneMaxGather.fits(box4), "4x4: 16 taps x 1.4 positions");
        assertFalse(PlaneMaxGather.fits(PoolSpec.max(5, 5).stride(1).padding(Padding.of(2)).build()
                .geometry(Shape.of(1, 19, 19, 1))), "5x5: 25 taps x 1.5 positions");
        assertFalse(ArgmaxPlanes.applies(PoolSpec.max(1, 64).stride(1).build().geometry(Shape.of(8, 1, 64, 1))));
        assertFalse(ArgmaxPlanes.applies(PoolSpec.max(3, 3).build().geometry(Shape.of(8, 56, 56, 2))), "two channels");
    }

    private static void assertSameIndicesAsGeneralPath(PoolGeometry g, Tensor x) {
        Tensor fast = Tensor.allocate(g.output());
        Tensor general = Tensor.allocate(g.output());
        Indices fastIdx = Indices.allocate(g.output(), IndexConvention.ONNX);
        Indices generalIdx = Indices.allocate(g.output(), IndexConvention.ONNX);
        CpuMaxIndices.run(g, x, fast, fastIdx, TestParallel.FORK_JOIN);
        CpuMaxIndices.channels(g, x, general, generalIdx, TestParallel.FORK_JOIN);
        Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), "values");
        assertArrayEquals(generalIdx.toArray(), fastIdx.toArray(), "indices");
    }

    @RepeatedTest(40)
    void backward_onePlane_sameBitsAsGeneralPath(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(1000 + rep);
        PoolSpec max = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        PoolSpec avg = PoolSpec.avg(max.windowH(), max.windowW()).stride(max.strideH(), max.strideW())
                .dilation(max.dilationH(), max.dilationW()).padding(max.padding()).ceilMode(max.ceilMode())
                .countIncludePad(r.nextBoolean()).build();
        Shape s = planes(r, rep);
        Tensor x = CpuArgmaxTest.hard(s, rep);
        for (PoolSpec spec : new PoolSpec[] {max, avg}) {
            Shape os = spec.outputShape(s);
            float[] grad = new float[Math.toIntExact(os.elementCount())];
            for (int i = 0; i < grad.length; i++) {
                // Mixed magnitudes, so that a different summation order would change the rounding.
                grad[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(40) - 20));
            }
            Tensor dy = Tensor.of(os, grad);
            Tensor fast = Tensor.allocate(s);
            Tensor general = Tensor.allocate(s);
            CpuBackward.run(spec.geometry(s), x, dy, fast, TestParallel.FORK_JOIN, true, false);
            CpuBackward.run(spec.geometry(s), x, dy, general, TestParallel.FORK_JOIN, false);
            Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), spec + " on " + s);
        }
    }

    @RepeatedTest(20)
    void adaptive_onePlane_sameBitsAsGeneralPath(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(1100 + rep);
        Shape s = Shape.of(1 + r.nextInt(40), 1 + r.nextInt(30), 1 + r.nextInt(30), 1);
        int oh = 1 + r.nextInt(s.h() + 3);
        int ow = 1 + r.nextInt(s.w() + 3);
        Tensor hard = CpuArgmaxTest.hard(s, rep);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(40) - 20));
        }
        Tensor mixed = Tensor.of(s, v);
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
            for (Tensor x : new Tensor[] {hard, mixed}) {
                AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, oh, ow);
                Tensor fast = Tensor.allocate(g.output());
                Tensor general = Tensor.allocate(g.output());
                CpuAdaptive.run(g, x, fast, TestParallel.FORK_JOIN, true, false);
                CpuAdaptive.run(g, x, general, TestParallel.FORK_JOIN, false);
                Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), mode + " " + s + " to " + oh + "x" + ow);
            }
        }
    }

    @Test
    void adaptive_planeTooLargeToStageWhole_sameBitsAsGeneralPath() {
        // Over CpuAdaptive's STAGE_FLOATS: staged a row at a time.
        Shape s = Shape.of(2, 300, 260, 1);
        // Rows of -0, NaN and ties (the exact rule), and plain rows with one -0 in a few of them
        // (Math.max where a row allows it, the exact rule in the others).
        SplittableRandom r = new SplittableRandom(5);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 9973 == 0 ? -0.0f : (float) r.nextGaussian() - 4f;
        }
        for (Tensor x : new Tensor[] {CpuArgmaxTest.hard(s, 3), Tensor.of(s, v)}) {
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, 7, 9);
                Tensor fast = Tensor.allocate(g.output());
                Tensor general = Tensor.allocate(g.output());
                CpuAdaptive.run(g, x, fast, TestParallel.FORK_JOIN, true, false);
                CpuAdaptive.run(g, x, general, TestParallel.FORK_JOIN, false);
                Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), mode + " " + s);
            }
        }
    }
}
