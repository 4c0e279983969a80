package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.NaiveBackward;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The key-based argmax ({@link CpuArgmax}) behind max pooling with indices and max backward, on
 * the data where a wrong key would show: signed zeros of both signs, NaNs with distinct payloads
 * and of both signs, infinities, long runs of ties, over random geometries (stride, dilation,
 * padding, ceil mode) and every index convention, against the naive references; and the separable
 * avg backward on the same geometries.
 */
class CpuArgmaxTest {
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** Few distinct values (so ties are everywhere), ±0, ±∞ and NaNs of both signs with payloads. */
    static Tensor hard(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(40);
            v[i] = switch (k) {
                case 0 -> Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22));
                case 1 -> Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22));
                case 2 -> Float.POSITIVE_INFINITY;
                case 3 -> Float.NEGATIVE_INFINITY;
                case 4, 5, 6, 7, 8, 9 -> 0.0f;
                case 10, 11, 12, 13, 14, 15 -> -0.0f;
                default -> r.nextInt(5) - 3f;
            };
        }
        return Tensor.of(s, v);
    }

    static PoolSpec randomSpec(SplittableRandom r, boolean dilated) {
        int kh = 1 + r.nextInt(4);
        int kw = 1 + r.nextInt(4);
        int dh = dilated ? 1 + r.nextInt(2) : 1;
        int dw = dilated ? 1 + r.nextInt(3) : 1;
        int eh = (kh - 1) * dh + 1;
        int ew = (kw - 1) * dw + 1;
        return PoolSpec.max(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(3)).dilation(dh, dw)
                .padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)))
                .ceilMode(r.nextBoolean()).build();
    }

    @RepeatedTest(40)
    void maxWithIndices_hardData_everyConvention_matchesNaiveArgmax(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(700 + info.getCurrentRepetition());
        PoolSpec spec = randomSpec(r, info.getCurrentRepetition() % 2 == 0);
        Shape s = Shape.of(1 + r.nextInt(3), 9 + r.nextInt(9), 9 + r.nextInt(9), 1 + r.nextInt(9));
        Tensor x = hard(s, info.getCurrentRepetition());
        PoolGeometry g = spec.geometry(s);
        for (IndexConvention conv : IndexConvention.values()) {
            Tensor y = Tensor.allocate(g.output());
            Indices idx = Indices.allocate(g.output(), conv);
            cpu.maxWithIndices(g, x, y, idx);
            NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, conv);
            String what = spec + " on " + s + ", " + conv.word();
            Tolerance.assertBitIdentical(y.toArray(), want.values(), what);
            assertArrayEquals(want.indices(), idx.toArray(), what);
        }
    }

    @RepeatedTest(40)
    void backward_hardData_matchesNaiveBackward(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(800 + info.getCurrentRepetition());
        PoolSpec max = randomSpec(r, info.getCurrentRepetition() % 2 == 0);
        PoolSpec avg = PoolSpec.avg(max.windowH(), max.windowW()).stride(max.strideH(), max.strideW())
                .dilation(max.dilationH(), max.dilationW()).padding(max.padding()).ceilMode(max.ceilMode())
                .countIncludePad(r.nextBoolean()).build();
        Shape s = Shape.of(1 + r.nextInt(3), 9 + r.nextInt(9), 9 + r.nextInt(9), 1 + r.nextInt(9));
        Tensor x = hard(s, info.getCurrentRepetition());
        for (PoolSpec spec : new PoolSpec[] {max, avg}) {
            Shape os = spec.outputShape(s);
            float[] g = new float[Math.toIntExact(os.elementCount())];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) r.nextGaussian() * (r.nextInt(10) == 0 ? 1000 : 1);
            }
            Tensor dy = Tensor.of(os, g);
            Tensor dx = Tensor.allocate(s);
            cpu.backward(spec.geometry(s), x, dy, dx);
            Tolerance.assertClose(dx.toArray(), NaiveBackward.backward(x.toArray(), s, g, spec), spec + " on " + s);
        }
    }

    @Test
    void maxWithIndices_wideChannelsAndRows_matchNaiveArgmax() {
        // Long rows of many channels (the shapes the fast loops are for), ties and zeros throughout.
        Shape s = Shape.of(2, 13, 57, 70);
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        Tensor x = hard(s, 5);
        Tensor y = Tensor.allocate(spec.outputShape(s));
        Indices idx = Indices.allocate(spec.outputShape(s), IndexConvention.ONNX);
        cpu.maxWithIndices(spec.geometry(s), x, y, idx);
        NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, IndexConvention.ONNX);
        Tolerance.assertBitIdentical(y.toArray(), want.values(), "wide");
        assertArrayEquals(want.indices(), idx.toArray(), "wide");
    }
}
