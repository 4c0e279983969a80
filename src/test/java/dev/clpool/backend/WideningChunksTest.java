package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.StorageCases;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/**
 * {@link WideningBackend} runs 16-bit operations in chunks of batch items. With chunks of one item
 * and of two (the last one shorter; nine items are more than {@link WideningBackend#WHOLE_CHUNKS}
 * chunks of two, so they are not taken whole), every operation in both layouts must give exactly the float32
 * result on the widened tensors rounded once (float32 tensors pass straight through to the CPU
 * path), and the temporaries it keeps must be a chunk's, not the whole tensors' float32 form.
 */
class WideningChunksTest {
    private static final int N = 9;
    /** Channels-last (N, 12, 12, 16): about 11 KB of float32 an item for max 3×3 s2's input and output. */
    private static final Shape CL = Shape.of(N, 12, 12, 16);
    /** Channels-first (N, 4, 8, 32): W long enough for the planar backward's one-pass kernel. */
    private static final TensorShape CF = TensorShape.channelsFirst(N, 4, 8, 32);
    private static final List<PoolSpec> SPECS = List.of(PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1"),
            PoolSpec.parse("avg k=3x3 s=1x1 pad=1,1,1,1 include-pad"), PoolSpec.parse("lp k=2x2 s=2x2 p=2"),
            PoolSpec.parse("avg k=2x2 s=2x2"), PoolSpec.parse("max k=2x2 s=2x2"));

    private static Tensor random(TensorShape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 7 == 0 ? 0f : (float) r.nextDouble(-4, 4); // zeros: ties and the signed-zero rule
        }
        return StorageCases.input(Tensor.of(s, v), DType.FLOAT16, r, true);
    }

    /** {@code op(in, out)} on the 16-bit tensors against the float32 ones, the result rounded once. */
    private static void same(String what, Tensor in, TensorShape out, BiConsumer<Tensor, Tensor> op) {
        Tensor got = Tensor.allocate(out, DType.FLOAT16);
        op.accept(in, got);
        Tensor want = Tensor.allocate(out, DType.FLOAT32);
        op.accept(in.convert(DType.FLOAT32), want);
        assertArrayEquals(want.convert(DType.FLOAT16).toArray(), got.toArray(), what);
        assertEquals(want.convert(DType.FLOAT16).shorts(), got.shorts(), what); // NaN payloads too
    }

    private static void channelsLast(WideningBackend b) {
        Tensor x = random(TensorShape.of(CL), 1);
        TensorShape planes = TensorShape.of(Shape.of(N, 1, 1, CL.c()));
        for (PoolSpec spec : SPECS) {
            PoolGeometry g = spec.geometry(CL);
            TensorShape o = TensorShape.of(g.output());
            same("pool " + spec, x, o, (in, out) -> b.pool(g, in, out));
            if (spec.mode() == PoolMode.LP) {
                continue; // no LP backward
            }
            Tensor dy = random(o, 2);
            same("backward " + spec, x, TensorShape.of(CL), (in, dx) -> b.backward(g, in,
                    in.dtype() == DType.FLOAT16 ? dy : dy.convert(DType.FLOAT32), dx));
        }
        for (PoolMode m : List.of(PoolMode.AVG, PoolMode.MAX)) {
            same("global " + m, x, planes, (in, out) -> b.global(m, in, out));
            AdaptiveGeometry a = AdaptiveGeometry.of(m, CL, 5, 7);
            same("adaptive " + m, x, TensorShape.of(a.output()), (in, out) -> b.adaptive(a, in, out));
        }
        PoolGeometry g = SPECS.get(0).geometry(CL);
        for (IndexConvention c : IndexConvention.values()) {
            Indices got = Indices.allocate(g.output(), c);
            Indices want = Indices.allocate(g.output(), c);
            same("indices " + c, x, TensorShape.of(g.output()), (in, out) ->
                    b.maxWithIndices(g, in, out, in.dtype() == DType.FLOAT16 ? got : want));
            assertArrayEquals(want.toArray(), got.toArray(), "indices " + c);
        }
    }

    private static void channelsFirst(WideningBackend b) {
        Tensor x = random(CF, 3);
        int planes = N * CF.c();
        Axis[] pairs = {new Axis(8, 4, 2, 2, 1, 0, 0), new Axis(32, 16, 2, 2, 1, 0, 0)};
        Axis[] stem = {new Axis(8, 4, 3, 2, 1, 1, 1), new Axis(32, 16, 3, 2, 1, 1, 1)};
        TensorShape pooled = TensorShape.channelsFirst(N, CF.c(), 4, 16);
        for (PoolMode m : List.of(PoolMode.MAX, PoolMode.AVG)) {
            for (Axis[] axes : List.of(pairs, stem)) {
                PlanarGeometry g = new PlanarGeometry(planes, axes, m, 2, false);
                same("planar " + m, x, pooled, (in, out) -> b.poolPlanar(g, in, out));
            }
            same("global planar " + m, x, TensorShape.channelsFirst(N, CF.c(), 1, 1),
                    (in, out) -> b.globalPlanar(m, planes, 8 * 32, in, out));
            Tensor dy = random(pooled, 4);
            boolean[] took = new boolean[2];
            same("planar backward " + m, x, CF, (in, dx) -> took[in.dtype() == DType.FLOAT16 ? 0 : 1] =
                    b.backwardPlanar(m, pairs, planes, in, in.dtype() == DType.FLOAT16 ? dy : dy.convert(DType.FLOAT32), dx));
            assertEquals(took[1], took[0], "planar backward " + m + " taken");
        }
        // nhwc indices of the channels-first tensor, its planes viewed as (N·C, H, W, 1).
        Shape view = Shape.of(planes, 8, 32, 1);
        PoolGeometry g = SPECS.get(0).geometry(view);
        Indices got = Indices.allocate(g.output(), IndexConvention.PYTORCH);
        Indices want = Indices.allocate(g.output(), IndexConvention.PYTORCH);
        same("nhwc plane indices", x, pooled, (in, out) -> b.maxWithNhwcPlaneIndices(g, viewed(in, view),
                viewed(out, g.output()), in.dtype() == DType.FLOAT16 ? got : want, CF.c()));
        assertArrayEquals(want.toArray(), got.toArray(), "nhwc plane indices");
    }

    private static Tensor viewed(Tensor t, Shape s) {
        return Tensor.wrap(TensorShape.of(s), t.dtype(), t.buffer());
    }

    @Test
    void everyOperation_inChunksOfOneAndTwoItems_givesTheWholeTensorsBits() {
        long item = (12 * 12 * 16 + 6 * 6 * 16) * Float.BYTES;
        for (long chunk : new long[] {1, 2 * item + 1}) {
            try (WideningBackend b = new WideningBackend(new CpuBackend(2), chunk)) {
                channelsLast(b);
                channelsFirst(b);
            }
        }
    }

    /**
     * Split between two one-thread lanes, each in chunks of one item or two: the same bits, and
     * both lanes take items (nine items of about 11 KB are more than four chunks of one or two).
     */
    @Test
    void everyOperation_splitBetweenLanes_givesTheWholeTensorsBits() {
        long item = (12 * 12 * 16 + 6 * 6 * 16) * Float.BYTES;
        for (long chunk : new long[] {1, 2 * item + 1}) {
            try (CpuBackend cpu = new CpuBackend(2)) {
                Recorded lanes = new Recorded(cpu.lanes());
                try (WideningBackend b = new WideningBackend(cpu, WideningBackend.WHOLE, lanes, chunk)) {
                    channelsLast(b);
                    channelsFirst(b);
                }
                assertTrue(lanes.ran[0] > 0 && lanes.ran[1] > 0, "parts per lane " + Arrays.toString(lanes.ran));
            }
        }
    }

    /** A batch of at most {@link WideningBackend#WHOLE_CHUNKS} lane chunks goes whole over the delegate, not to the lanes. */
    @Test
    void aSmallBatch_goesWholeOverTheDelegate() {
        long item = (12 * 12 * 16 + 6 * 6 * 16) * Float.BYTES;
        try (CpuBackend cpu = new CpuBackend(2)) {
            Recorded lanes = new Recorded(cpu.lanes());
            try (WideningBackend b = new WideningBackend(cpu, WideningBackend.WHOLE, lanes, 3 * item)) {
                PoolGeometry g = SPECS.get(0).geometry(CL);
                b.pool(g, random(TensorShape.of(CL), 6), Tensor.allocate(g.output(), DType.FLOAT16));
                assertEquals(9 * item, b.idleBytes(), "temporaries kept: the whole batch's");
            }
            assertArrayEquals(new int[] {0, 0}, lanes.ran, "parts per lane");
        }
    }

    /** Counts the parts each lane ran. */
    private static final class Recorded implements BatchLanes {
        private final BatchLanes lanes;
        final int[] ran = new int[2];

        Recorded(BatchLanes lanes) {
            this.lanes = lanes;
        }

        @Override
        public int count() {
            return lanes.count();
        }

        @Override
        public PoolingBackend lane(int i) {
            synchronized (ran) {
                ran[i]++;
            }
            return lanes.lane(i);
        }

        @Override
        public void run(int parts, IntConsumer part) {
            lanes.run(parts, part);
        }
    }

    @Test
    void temporariesHoldAChunk_notTheWholeTensors() {
        long item = (12 * 12 * 16 + 6 * 6 * 16) * Float.BYTES;
        try (WideningBackend b = new WideningBackend(new CpuBackend(2), 2 * item)) {
            PoolGeometry g = SPECS.get(0).geometry(CL);
            b.pool(g, random(TensorShape.of(CL), 5), Tensor.allocate(g.output(), DType.FLOAT16));
            assertEquals(2 * item, b.idleBytes(), "temporaries kept: two items' float32 input and output");
        }
        assertTrue(WideningBackend.CHUNK_BYTES >= 1 << 20, "chunks of at least a megabyte");
    }
}
