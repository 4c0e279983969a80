package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code .npy} files of rank 3 and 5 in both layouts: round trips, headers, and the ranks refused. */
class NpyRankTest {
    @TempDir
    Path dir;

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(TensorShape.channelsLast(2, new int[] {5}, 3), DType.FLOAT32, "(2, 5, 3)"),
                Arguments.of(TensorShape.channelsFirst(2, 3, 5), DType.FLOAT16, "(2, 3, 5)"),
                Arguments.of(TensorShape.channelsLast(1, new int[] {2, 3, 4}, 5), DType.FLOAT16, "(1, 2, 3, 4, 5)"),
                Arguments.of(TensorShape.channelsFirst(1, 2, 3, 4, 5), DType.FLOAT32, "(1, 2, 3, 4, 5)"),
                Arguments.of(TensorShape.channelsFirst(3, 2, 4, 5), DType.FLOAT32, "(3, 2, 4, 5)"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void roundTrip_keepsShapeAndBits_andWritesNumpysHeader(TensorShape shape, DType dtype, String tuple)
            throws IOException {
        Random r = new Random(shape.hashCode());
        float[] v = new float[(int) shape.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(2001) - 1000; // exact in float16 too
        }
        Path f = dir.resolve("t.npy");
        Npy.writeTensor(f, Tensor.of(shape, dtype, v));
        String header = new String(Files.readAllBytes(f), 10, 100, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '" + (dtype == DType.FLOAT32 ? "<f4" : "<f2")
                + "', 'fortran_order': False, 'shape': " + tuple + ", }"), header);
        Tensor back = Npy.readTensor(f, shape.layout());
        assertEquals(shape, back.tensorShape());
        assertEquals(dtype, back.dtype());
        assertArrayEquals(v, back.toArray());
    }

    @Test
    void theLayoutSaysWhichAxisIsC() throws IOException {
        Path f = dir.resolve("t.npy");
        Npy.writeTensor(f, Tensor.of(TensorShape.channelsFirst(1, 2, 3, 4, 5), DType.FLOAT32, new float[120]));
        assertEquals(TensorShape.channelsLast(1, new int[] {2, 3, 4}, 5), Npy.readTensor(f, Layout.CHANNELS_LAST).tensorShape());
        assertEquals(TensorShape.channelsFirst(1, 2, 3, 4, 5), Npy.readTensor(f, Layout.CHANNELS_FIRST).tensorShape());
    }

    @Test
    void withoutALayout_only4dNhwcIsRead() throws IOException {
        Path f = dir.resolve("five.npy");
        Npy.writeTensor(f, Tensor.of(TensorShape.channelsLast(1, new int[] {1, 1, 2}, 1), DType.FLOAT32, 1, 2));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f));
        assertEquals("five.npy: rank 5 not supported, expected a 4-D NHWC array", e.getMessage());
    }

    @Test
    void ranks2And6_areRefused_namingFileAndRank() throws IOException {
        for (int[] dims : new int[][] {{2, 2}, {1, 1, 1, 1, 2, 2}}) {
            Path f = dir.resolve("rank" + dims.length + ".npy");
            Npy.write(f, Npy.FLOAT32, dims, ch -> ch.write(ByteBuffer.allocate(16)));
            for (Layout layout : Layout.values()) {
                NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f, layout));
                assertTrue(e.getMessage().startsWith(f.getFileName() + ": rank " + dims.length
                        + " not supported, expected 3, 4 or 5"), e.getMessage());
            }
        }
    }

    @Test
    void aZeroDimension_isNamedInTheLayoutsTerms() throws IOException {
        Path f = dir.resolve("zero.npy");
        Npy.write(f, Npy.FLOAT32, new int[] {1, 2, 0, 3, 1}, ch -> { });
        NpyFormatException cl = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f, Layout.CHANNELS_LAST));
        assertEquals("zero.npy: dimension H of shape (1, 2, 0, 3, 1) is 0, expected >= 1", cl.getMessage());
        NpyFormatException cf = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f, Layout.CHANNELS_FIRST));
        assertEquals("zero.npy: dimension D of shape (1, 2, 0, 3, 1) is 0, expected >= 1", cf.getMessage());
    }

    @Test
    void int64_ofAnyShape() throws IOException {
        Path f = dir.resolve("idx.npy");
        TensorShape shape = TensorShape.channelsFirst(1, 2, 1, 1, 3);
        Npy.writeInt64(f, shape, LongBuffer.wrap(new long[] {0, 1, 2, 3, 4, 5}));
        byte[] bytes = Files.readAllBytes(f);
        String header = new String(bytes, 10, 100, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2, 1, 1, 3), }"), header);
        ByteBuffer data = ByteBuffer.wrap(bytes, bytes.length - 48, 48).slice().order(ByteOrder.LITTLE_ENDIAN);
        long[] back = new long[6];
        data.asLongBuffer().get(back);
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5}, back);
        assertThrows(IllegalArgumentException.class,
                () -> Npy.writeInt64(dir.resolve("bad.npy"), shape, LongBuffer.wrap(new long[5])));
    }

    @Test
    void indices_roundTrip_withTheValuesLayout_andOnlyInt64() throws IOException {
        Path f = dir.resolve("idx.npy");
        TensorShape shape = TensorShape.channelsFirst(1, 2, 1, 3);
        Npy.writeInt64(f, shape, LongBuffer.wrap(new long[] {5, -1, 2, 0, 4, 1L << 40}));
        try (Indices back = Npy.readIndices(f, Layout.CHANNELS_FIRST, IndexConvention.ONNX)) {
            assertEquals(shape, back.tensorShape());
            assertEquals(IndexConvention.ONNX, back.convention());
            assertArrayEquals(new long[] {5, -1, 2, 0, 4, 1L << 40}, back.toArray());
        }
        Path floats = dir.resolve("floats.npy");
        Npy.writeTensor(floats, Tensor.of(shape, DType.FLOAT32, new float[6]));
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.readIndices(floats, Layout.CHANNELS_FIRST, IndexConvention.ONNX));
        assertEquals("floats.npy: dtype '<f4' not supported, expected <i8 (int64 indices)", e.getMessage());
        Path rank2 = dir.resolve("rank2.npy");
        Npy.write(rank2, Npy.INT64, new int[] {2, 2}, ch -> ch.write(ByteBuffer.allocate(32)));
        assertThrows(NpyFormatException.class, () -> Npy.readIndices(rank2, Layout.CHANNELS_LAST, IndexConvention.NHWC));
    }
}
