package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DType;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code <f2} .npy files: float16 tensors read and written byte for byte as NumPy does; bfloat16 refused. */
class NpyFloat16Test {

    // The exact bytes NumPy 2.4 writes, from
    //   np.save(f, np.array([1.5, -0.0, np.inf, np.nan], dtype='<f2').reshape(1, 2, 2, 1))
    private static final String NUMPY_F2_1221 = """
            934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20322c20322c2031292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            003e0080007c007e""";
    //   np.save(f, np.array([0x0001, 0x7bff, 0xfe01, 0x3555, 0x8400, 0xfc00], dtype='<u2').view('<f2').reshape(2, 1, 1, 3))
    //   (smallest subnormal, largest finite, a negative NaN with a payload, 1/3, -2^-14, -inf)
    private static final String NUMPY_F2_2113 = """
            934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20312c20312c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            0100ff7b01fe5535008400fc""";

    @TempDir
    Path dir;

    @Test
    void readsNumpyFloat16_asFloat16Tensor() throws IOException {
        Tensor t = Npy.readTensor(Files.write(dir.resolve("a.npy"), hex(NUMPY_F2_1221)));
        assertEquals(DType.FLOAT16, t.dtype());
        assertEquals(Shape.of(1, 2, 2, 1), t.shape());
        assertArrayEquals(new short[] {0x3e00, (short) 0x8000, 0x7c00, 0x7e00}, shorts(t));
        assertEquals(1.5f, t.get(0, 0, 0, 0));

        Tensor u = Npy.readTensor(Files.write(dir.resolve("b.npy"), hex(NUMPY_F2_2113)));
        assertArrayEquals(new short[] {0x0001, 0x7bff, (short) 0xfe01, 0x3555, (short) 0x8400, (short) 0xfc00}, shorts(u));
        assertEquals(0x1p-24f, u.get(0, 0, 0, 0));
        assertEquals(65504f, u.get(0, 0, 0, 1));
        assertEquals(-0x1p-14f, u.get(1, 0, 0, 1));
    }

    @Test
    void writesFloat16_asNumpyDoes_byteForByte() throws IOException {
        for (String hex : List.of(NUMPY_F2_1221, NUMPY_F2_2113)) {
            Tensor t = Npy.readTensor(Files.write(dir.resolve("in.npy"), hex(hex)));
            Path out = dir.resolve("out.npy");
            Npy.writeTensor(out, t);
            assertArrayEquals(hex(hex), Files.readAllBytes(out));
        }
        Path a = dir.resolve("a.npy");
        Npy.writeTensor(a, Tensor.of(Shape.of(1, 2, 2, 1), DType.FLOAT16, 1.5f, -0.0f, Float.POSITIVE_INFINITY, Float.NaN));
        assertArrayEquals(hex(NUMPY_F2_1221), Files.readAllBytes(a));
    }

    @Test
    void roundTrip_keepsEveryPattern() throws IOException {
        Tensor t = Tensor.allocate(Shape.of(2, 16, 64, 32), DType.FLOAT16);
        for (int i = 0; i < 65536; i++) {
            t.shorts().put(i, (short) i);
        }
        Path f = dir.resolve("all.npy");
        Npy.writeTensor(f, t);
        assertArrayEquals(shorts(t), shorts(Npy.readTensor(f)));
    }

    @Test
    void bfloat16_hasNoNpyDtype_andNothingIsWritten() throws IOException {
        Tensor t = Tensor.allocate(Shape.of(1, 1, 1, 2), DType.BFLOAT16);
        Path f = dir.resolve("bf.npy");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.writeTensor(f, t));
        assertTrue(e.getMessage().startsWith("bfloat16 has no .npy dtype"), e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void sizes_countTwoBytesPerElement() throws IOException {
        String dict = "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2, 2, 1), }";
        Path shortFile = Files.write(dir.resolve("s.npy"), NpyBytes.npy(1, dict, new byte[6]));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(shortFile));
        assertEquals("s.npy: data truncated: expected 8 bytes, found 6", e.getMessage());
        Path longFile = Files.write(dir.resolve("l.npy"), NpyBytes.npy(1, dict, new byte[16]));
        e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(longFile));
        assertEquals("l.npy: trailing data after the array: expected 8 bytes, found 16", e.getMessage());
        // The element limit is twice float32's: 2^30 - 1 elements of 2 bytes.
        Path huge = Files.write(dir.resolve("h.npy"), NpyBytes.npy(1,
                "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 1, 1, 1073741824), }", new byte[8]));
        e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(huge));
        assertEquals("h.npy: shape (1, 1, 1, 1073741824) has 1073741824 elements, more than the limit of 1073741823"
                + " per float16 tensor", e.getMessage());
    }

    @Test
    void otherHalfForms_areRefusedWithTheAcceptedDtypes() throws IOException {
        for (String descr : List.of(">f2", "<e", "|f2")) {
            String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1, 2, 2, 1), }";
            Path f = Files.write(dir.resolve("x.npy"), NpyBytes.npy(1, dict, new byte[8]));
            NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f));
            String why = descr.startsWith(">") ? " (big-endian byte order)" : "";
            assertEquals("x.npy: dtype " + descr + " not supported" + why + ", expected <f4 or <f2", e.getMessage());
        }
    }

    @Test
    void randomHalfTensors_roundTrip() throws IOException {
        Random r = new Random(16);
        Tensor t = Tensor.allocate(Shape.of(3, 5, 7, 9), DType.FLOAT16);
        for (int i = 0; i < t.shape().elementCount(); i++) {
            t.shorts().put(i, (short) r.nextInt());
        }
        Path f = dir.resolve("r.npy");
        Npy.writeTensor(f, t);
        Tensor back = Npy.readTensor(f);
        assertEquals(DType.FLOAT16, back.dtype());
        assertArrayEquals(shorts(t), shorts(back));
    }

    private static short[] shorts(Tensor t) {
        short[] s = new short[Math.toIntExact(t.shape().elementCount())];
        t.shorts().get(s);
        return s;
    }

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replaceAll("\\s", ""));
    }
}
