package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.InvalidInputException;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.WideningBackend;
import dev.clpool.testing.NaiveUnpool;
import dev.clpool.testing.OnnxCases;
import dev.clpool.testing.UnpoolCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max unpooling on the CPU path: hand-checked decoding and duplicates (the last in channels-last
 * order wins, also for channels-first tensors), bad indices refused with the output untouched, a
 * seeded sweep of every rank, layout, convention and storage type against NaiveUnpool (one thread
 * and several), the round trip through the engine's max pooling with indices, and the ONNX
 * MaxUnpool conformance cases.
 */
class CpuUnpoolTest {
    private static final CpuBackend ONE = new CpuBackend(1);
    private static final CpuBackend SEVERAL = new CpuBackend(3);

    @AfterAll
    static void close() {
        ONE.close();
        SEVERAL.close();
    }

    private static int[] ints(int... v) {
        return v;
    }

    private static int[] floatBits(float... v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    private static float[] floats(Tensor t) {
        float[] f = new float[(int) (t.byteSize() / 4)];
        t.buffer().asFloatBuffer().get(f);
        return f;
    }

    @Test
    void pytorch2d_odd_sized_output_putsEachValueAtItsPlace() {
        // max_unpool2d(kernel 2, stride 2, output_size 5x5) of a 2x2 plane: indices y*5 + x.
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsFirst(1, 1, 2, 2), ints(2, 2), ints(2, 2), ints(0, 0),
                ints(0, 0), ints(5, 5), IndexConvention.PYTORCH);
        Tensor out = UnpoolCases.tensor(DType.FLOAT32, new int[25]);
        ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, floatBits(1, 2, 3, 4)),
                UnpoolCases.indices(IndexConvention.PYTORCH, new long[] {6, 8, 16, 18}), g, out);
        float[] want = new float[25];
        want[6] = 1;
        want[8] = 2;
        want[16] = 3;
        want[18] = 4;
        assertArrayEquals(want, floats(out));
    }

    @Test
    void duplicates_lastInChannelsLastOrderWins_evenChannelsFirst() {
        // Channels-first (1, 2, 2) values: storage order (c0: q0 q1, c1: q0 q1), channels-last order
        // (q0: c0 c1, q1: c0 c1). All four name element 0 (nhwc index 0): the last in channels-last
        // order is (q1, c1), which is also last in storage; make (q1, c0) and (q0, c1) name element 1:
        // channels-last order puts (q1, c0) last there, storage order would put (q0, c1) last.
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsFirst(1, 2, 2), ints(1), ints(1), ints(0), ints(0), null,
                IndexConvention.NHWC);
        Tensor values = UnpoolCases.tensor(DType.FLOAT32, floatBits(10, 11, 20, 21)); // (c, q) -> 10*(c+1) + q
        Indices ix = UnpoolCases.indices(IndexConvention.NHWC, new long[] {0, 1, 1, 0});
        for (CpuBackend b : List.of(ONE, SEVERAL)) {
            Tensor out = UnpoolCases.tensor(DType.FLOAT32, new int[4]);
            b.unpool(values, ix, g, out);
            float[] got = floats(out);
            // nhwc index 0 = (q0, c0) -> storage 0; index 1 = (q0, c1) -> storage (c1, q0) = 2.
            assertEquals(21f, got[0], "element (q0, c0): (q1, c1) comes last");
            assertEquals(11f, got[2], "element (q0, c1): (q1, c0) comes after (q0, c1) in channels-last order");
            assertEquals(0f, got[1]);
            assertEquals(0f, got[3]);
        }
    }

    @ParameterizedTest
    @EnumSource(IndexConvention.class)
    void outOfRange_isRefusedNamingTheFirst_andNothingIsWritten(IndexConvention conv) {
        // Channels-first (1, 2, 3): storage (c0: q0 q1 q2, c1: q0 q1 q2). Bad at storage 1 (c0, q1)
        // and at storage 3 (c1, q0): channels-last positions 2 and 1, so the one at storage 3 is first.
        TensorShape vs = TensorShape.channelsFirst(1, 2, 3);
        UnpoolGeometry g = UnpoolGeometry.of(vs, ints(1), ints(1), ints(0), ints(0), null, conv);
        long[] ix = new long[6];
        long tooBig = g.output().elementCount() + 7;
        ix[1] = tooBig;
        ix[3] = -3;
        UnpoolCases.Case c = new UnpoolCases.Case("bad", g, DType.FLOAT32, floatBits(1, 2, 3, 4, 5, 6), ix);
        for (CpuBackend b : List.of(ONE, SEVERAL)) {
            Tensor out = c.output();
            int[] before = UnpoolCases.bits(out);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> b.unpool(c.valuesTensor(), c.indicesArray(), g, out));
            assertTrue(e.getMessage().contains("index -3 of the value at channels-last position 1 (n=0, c=1, at 0)"),
                    e.getMessage());
            assertArrayEquals(before, UnpoolCases.bits(out), "nothing written");
        }
    }

    @Test
    void pytorchIndexOutsideItsPlane_andNhwcOutsideItsItem_areBad() {
        TensorShape vs = TensorShape.channelsLast(2, new int[] {2}, 2);
        UnpoolGeometry py = UnpoolGeometry.of(vs, ints(2), ints(2), ints(0), ints(0), null, IndexConvention.PYTORCH);
        // Output plane has 4 positions: 4 would be the next plane's first element in channels-first order.
        assertThrows(InvalidInputException.class, () -> ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, new int[8]),
                UnpoolCases.indices(IndexConvention.PYTORCH, new long[] {0, 0, 0, 4, 0, 0, 0, 0}), py,
                UnpoolCases.tensor(DType.FLOAT32, new int[16])));
        UnpoolGeometry nhwc = new UnpoolGeometry(vs, py.output(), IndexConvention.NHWC);
        // An item has 8 elements: index 8 would be the next item's first.
        assertThrows(InvalidInputException.class, () -> ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, new int[8]),
                UnpoolCases.indices(IndexConvention.NHWC, new long[] {0, 0, 0, 0, 0, 8, 0, 0}), nhwc,
                UnpoolCases.tensor(DType.FLOAT32, new int[16])));
    }

    @Test
    void mismatchedTensors_areRefused() {
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsLast(1, new int[] {2}, 1), ints(2), ints(2), ints(0),
                ints(0), null, IndexConvention.NHWC);
        Indices ix = UnpoolCases.indices(IndexConvention.NHWC, new long[2]);
        assertThrows(IllegalArgumentException.class,
                () -> ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, new int[3]), ix, g, UnpoolCases.tensor(DType.FLOAT32, new int[4])));
        assertThrows(IllegalArgumentException.class,
                () -> ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, new int[2]), ix, g, UnpoolCases.tensor(DType.FLOAT16, new int[4])));
    }

    static Stream<UnpoolCases.Case> sweep() {
        return UnpoolCases.generate(0x5eed, 96).stream();
    }

    @ParameterizedTest
    @MethodSource("sweep")
    void sweep_matchesNaiveUnpool_bitForBit(UnpoolCases.Case c) {
        UnpoolCases.assertMatchesNaive(ONE, c);
        UnpoolCases.assertMatchesNaive(SEVERAL, c);
        UnpoolCases.assertMatchesNaive(new WideningBackend(SEVERAL), c);
    }

    @Test
    void largeBatch_runsInParallel_andMatchesNaive() {
        // Enough elements for several tasks: each convention, channels-first (strided reads) and last.
        for (UnpoolCases.Case small : UnpoolCases.generate(77, 12)) {
            TensorShape v = small.g().values();
            TensorShape big = TensorShape.of(40, v.c(), v.spatial(), v.layout());
            // ONNX indices of the small case name items 0..N-1 only: most values then cross items.
            UnpoolGeometry g = new UnpoolGeometry(big, TensorShape.of(40, v.c(), small.g().output().spatial(), v.layout()),
                    small.g().convention());
            SplittableRandom r = new SplittableRandom(1);
            int[] bits = new int[(int) big.elementCount()];
            long[] ix = new long[bits.length];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = r.nextInt();
                ix[i] = small.indices()[i % small.indices().length];
            }
            UnpoolCases.Case c = new UnpoolCases.Case(small.name() + " x40", g, DType.FLOAT32, bits, ix);
            UnpoolCases.assertMatchesNaive(SEVERAL, c);
        }
    }

    /**
     * unpool(poolWithIndices(x)) puts each maximum back at its place, 2-D through the engine, in
     * every convention; with overlapping windows and an odd-sized input (the output size given).
     */
    @ParameterizedTest
    @EnumSource(IndexConvention.class)
    void roundTrip_poolWithIndicesThenUnpool_restoresTheMaxima(IndexConvention conv) {
        List<PoolSpec> specs = List.of(PoolSpec.max(2, 2).build(),
                PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build());
        Shape shape = Shape.of(2, 7, 5, 3);
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            Tensor x = Tensor.allocate(shape);
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < shape.elementCount(); i++) {
                x.floats().put(i, (float) r.nextGaussian());
            }
            for (PoolSpec spec : specs) {
                PooledWithIndices p = engine.poolWithIndices(x, spec, conv);
                Shape ps = p.values().shape();
                int[] k = {spec.windowH(), spec.windowW()};
                int[] s = {spec.strideH(), spec.strideW()};
                Padding pad = spec.padding();
                int[] pb = {pad.top(), pad.left()};
                int[] pe = {pad.bottom(), pad.right()};
                UnpoolGeometry g = UnpoolGeometry.of(TensorShape.of(ps), k, s, pb, pe, new int[] {7, 5}, conv);
                Tensor out = Tensor.allocate(shape);
                ONE.unpool(p.values(), p.indices(), g, out);
                float[] want = new float[(int) shape.elementCount()];
                long[] ix = p.indices().toArray();
                for (int i = 0; i < ix.length; i++) {
                    int n = (int) (i / ps.itemSize());
                    int[] t = NaiveUnpool.coordinates(g.output(), conv, n, i % ps.c(), ix[i]);
                    want[(int) shape.offset(t[0], t[2], t[3], t[1])] = x.get(t[0], t[2], t[3], t[1]);
                    assertEquals(p.values().floats().get(i), x.get(t[0], t[2], t[3], t[1]), "value " + i + " came from there");
                }
                assertArrayEquals(want, out.toArray(), spec + " " + conv);
            }
        }
    }

    /**
     * ONNX MaxUnpool conformance: the case without output_shape runs (channels-first, onnx indices);
     * the one with output_shape is not run as ONNX has it (its expected output decodes the indices
     * in the default 4x4 shape, SEMANTICS.md decodes them in the output's 5x5): here it checks
     * SEMANTICS' answer, each value at its index of the 5x5 output.
     */
    @Test
    void onnxConformance_maxUnpool() throws IOException {
        Path dir = OnnxCases.directory();
        Assumptions.assumeTrue(dir != null, "ONNX conformance data not found");
        JsonObject without = JsonParser.parseString(Files.readString(dir.resolve("test_maxunpool_export_without_output_shape.json")))
                .getAsJsonObject();
        float[] got = onnxRun(without, null);
        assertArrayEquals(floatsOf(without.getAsJsonArray("outputs").get(0).getAsJsonObject().getAsJsonArray("data")), got);
        JsonObject with = JsonParser.parseString(Files.readString(dir.resolve("test_maxunpool_export_with_output_shape.json")))
                .getAsJsonObject();
        float[] five = onnxRun(with, new int[] {5, 5});
        float[] want = new float[25];
        want[5] = 5;
        want[7] = 6;
        want[13] = 7;
        want[15] = 8;
        assertArrayEquals(want, five);
    }

    private static float[] onnxRun(JsonObject root, int[] size) {
        JsonArray inputs = root.getAsJsonArray("inputs");
        JsonObject x = inputs.get(0).getAsJsonObject();
        JsonObject i = inputs.get(1).getAsJsonObject();
        JsonArray dims = x.getAsJsonArray("shape");
        TensorShape vs = TensorShape.channelsFirst(dims.get(0).getAsInt(), dims.get(1).getAsInt(), dims.get(2).getAsInt(),
                dims.get(3).getAsInt());
        JsonObject attrs = root.getAsJsonObject("attributes_with_defaults");
        int[] k = intsOf(attrs.getAsJsonArray("kernel_shape"));
        int[] s = intsOf(attrs.getAsJsonArray("strides"));
        int[] pads = intsOf(attrs.getAsJsonArray("pads"));
        UnpoolGeometry g = UnpoolGeometry.of(vs, k, s, new int[] {pads[0], pads[1]}, new int[] {pads[2], pads[3]}, size,
                IndexConvention.ONNX);
        float[] v = floatsOf(x.getAsJsonArray("data"));
        long[] ix = new long[v.length];
        for (int j = 0; j < ix.length; j++) {
            ix[j] = i.getAsJsonArray("data").get(j).getAsLong();
        }
        Tensor out = UnpoolCases.tensor(DType.FLOAT32, new int[(int) g.output().elementCount()]);
        ONE.unpool(UnpoolCases.tensor(DType.FLOAT32, floatBits(v)), UnpoolCases.indices(IndexConvention.ONNX, ix), g, out);
        return floats(out);
    }

    private static int[] intsOf(JsonArray a) {
        int[] v = new int[a.size()];
        for (int j = 0; j < v.length; j++) {
            v[j] = a.get(j).getAsInt();
        }
        return v;
    }

    private static float[] floatsOf(JsonArray a) {
        float[] v = new float[a.size()];
        for (int j = 0; j < v.length; j++) {
            v[j] = a.get(j).getAsFloat();
        }
        return v;
    }
}
