package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static dev.clpool.npy.NpyBytes.concat;
import static dev.clpool.npy.NpyBytes.floats;
import static dev.clpool.npy.NpyBytes.hex;
import static dev.clpool.npy.NpyBytes.npy;
import static dev.clpool.npy.NpyBytes.npyRaw;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * .npy reading and writing: byte-for-byte agreement with NumPy, round trips that keep every bit,
 * one exact message per kind of bad file, and atomic writes.
 *
 * <p>Randomised checks use a fixed seed so that a failure reproduces; they are plain JUnit tests
 * (jqwik 1.10 asks not to be used by AI coding agents, and this class was written by one).
 */
// Alone, not beside another test class (the unit tests run two classes at a time): it counts the JVM's
// direct buffers: other classes allocate them too.
@Isolated
class NpyTest {

    // Fixtures: the exact bytes NumPy 2.4 writes, from
    //   a = np.array([1.5, -0.0, np.inf, np.nan], dtype='<f4').reshape(1, 2, 2, 1)
    //   np.lib.format.write_array(f, a, version=(1, 0) / (2, 0) / (3, 0))
    private static final String NUMPY_F4_1221_V1 = """
            934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20322c20322c2031292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            0000c03f000000800000807f0000c07f""";
    private static final String NUMPY_F4_1221_V2 = """
            934e554d50590200740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20322c20322c2031292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            0000c03f000000800000807f0000c07f""";
    private static final String NUMPY_F4_1221_V3 = """
            934e554d50590300740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20322c20322c2031292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            0000c03f000000800000807f0000c07f""";
    //   np.save(f, (np.arange(6, dtype='<f4') - 2.5).reshape(2, 1, 1, 3))
    private static final String NUMPY_F4_2113_V1 = """
            934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20312c20312c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            000020c00000c0bf000000bf0000003f0000c03f00002040""";
    //   np.save(f, np.arange(6, dtype='<i8').reshape(1, 1, 2, 3))
    private static final String NUMPY_I8_1123_V1 = """
            934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20312c20322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
            000000000000000001000000000000000200000000000000030000000000000004000000000000000500000000000000""";

    private static final String GOOD_DICT = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1), }";

    /** Special floats as raw bits: NaNs with payloads (quiet, signalling, negative), ±Inf, ±0, subnormals. */
    private static final int[] SPECIAL_BITS = {
        0x7fc00000, 0x7fc00001, 0x7f800001, 0xffffffff, 0x7f800000, 0xff800000,
        0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x3f800000, 0xbf800000,
        0x7f7fffff, 0xff7fffff, 0x00800000, 0x3eaaaaab,
    };

    @TempDir
    Path dir;

    // ---- agreement with NumPy ----

    @ParameterizedTest(name = "format {0}.0")
    @ValueSource(ints = {1, 2, 3})
    void readsNumpyFile_formats1to3(int major) throws IOException {
        String hex = switch (major) {
            case 1 -> NUMPY_F4_1221_V1;
            case 2 -> NUMPY_F4_1221_V2;
            default -> NUMPY_F4_1221_V3;
        };
        Tensor t = Npy.readTensor(file("a.npy", hex(hex)));
        assertEquals(Shape.of(1, 2, 2, 1), t.shape());
        assertArrayEquals(new int[] {0x3fc00000, 0x80000000, 0x7f800000, 0x7fc00000}, bits(t));
    }

    @Test
    void readsNumpyFile_batchOfTwo_oddChannels_inNhwcOrder() throws IOException {
        Tensor t = Npy.readTensor(file("b.npy", hex(NUMPY_F4_2113_V1)));
        assertEquals(Shape.of(2, 1, 1, 3), t.shape());
        assertArrayEquals(new float[] {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}, t.toArray());
        assertEquals(0.5f, t.get(1, 0, 0, 0));
    }

    @Test
    void writeTensor_matchesNumpyByteForByte() throws IOException {
        Path a = dir.resolve("a.npy");
        Npy.writeTensor(a, Tensor.of(Shape.of(1, 2, 2, 1), 1.5f, -0.0f, Float.POSITIVE_INFINITY, Float.NaN));
        assertArrayEquals(hex(NUMPY_F4_1221_V1), Files.readAllBytes(a));

        Path b = dir.resolve("b.npy");
        Npy.writeTensor(b, Tensor.of(Shape.of(2, 1, 1, 3), -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f));
        assertArrayEquals(hex(NUMPY_F4_2113_V1), Files.readAllBytes(b));
    }

    @Test
    void writeInt64_matchesNumpyByteForByte_andLeavesBufferPositionAlone() throws IOException {
        LongBuffer values = LongBuffer.wrap(new long[] {99, 0, 1, 2, 3, 4, 5});
        values.position(1);
        Path f = dir.resolve("idx.npy");
        Npy.writeInt64(f, Shape.of(1, 1, 2, 3), values);
        assertArrayEquals(hex(NUMPY_I8_1123_V1), Files.readAllBytes(f));
        assertEquals(1, values.position());
    }

    @Test
    void writeInt64_keepsFullRangeLittleEndian() throws IOException {
        long[] v = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 0x0102030405060708L};
        Path f = dir.resolve("idx.npy");
        Npy.writeInt64(f, Shape.of(1, 2, 3, 1), LongBuffer.wrap(v));
        byte[] bytes = Files.readAllBytes(f);
        assertEquals(0, (bytes.length - v.length * 8) % NpyHeader.ALIGN);
        LongBuffer back = ByteBuffer.wrap(bytes, bytes.length - v.length * 8, v.length * 8).slice()
                .order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long[] got = new long[v.length];
        back.get(got);
        assertArrayEquals(v, got);
    }

    @Test
    void writeInt64_wrongValueCount_isRefusedBeforeAnyFileIsCreated() {
        Path f = dir.resolve("idx.npy");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.writeInt64(f, Shape.of(1, 1, 2, 3), LongBuffer.allocate(5)));
        assertEquals("shape 1,1,2,3 needs 6 values, got 5", e.getMessage());
        assertEquals(List.of(), listDir());
    }

    // ---- round trips ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundTripShapes")
    void roundTrip_keepsShapeAndEveryBit(Shape shape) throws IOException {
        Random random = new Random(shape.hashCode());
        int[] bits = new int[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = i < SPECIAL_BITS.length ? SPECIAL_BITS[i] : random.nextInt();
        }
        Tensor t = Tensor.allocate(shape);
        t.buffer().asIntBuffer().put(bits);
        Path f = dir.resolve("rt.npy");
        Npy.writeTensor(f, t);

        byte[] bytes = Files.readAllBytes(f);
        int headerLength = bytes.length - bits.length * Float.BYTES;
        assertEquals(0, headerLength % NpyHeader.ALIGN, "data starts 64-byte aligned");
        assertEquals('\n', bytes[headerLength - 1]);

        Tensor back = Npy.readTensor(f);
        assertEquals(shape, back.shape());
        assertArrayEquals(bits, bits(back));
        assertEquals(List.of("rt.npy"), listDir(), "no temporary file left");
    }

    static Stream<Shape> roundTripShapes() {
        return Stream.of(Shape.of(1, 1, 1, 1), Shape.of(1, 4, 4, 1), Shape.of(2, 3, 5, 7),
                Shape.of(3, 1, 2, 3), Shape.of(1, 17, 13, 5), Shape.of(4, 2, 2, 16));
    }

    @Test
    void writeTensor_overwritesExistingFile() throws IOException {
        Path f = dir.resolve("out.npy");
        Files.writeString(f, "old content");
        Npy.writeTensor(f, Tensor.of(Shape.of(1, 1, 1, 2), 3f, 4f));
        assertArrayEquals(new float[] {3f, 4f}, Npy.readTensor(f).toArray());
        assertEquals(List.of("out.npy"), listDir());
    }

    @Test
    void writeTensor_relativePath_works() throws IOException {
        Path rel = Path.of("").toAbsolutePath().relativize(dir.resolve("rel.npy"));
        Npy.writeTensor(rel, Tensor.of(Shape.of(1, 1, 1, 1), 7f));
        assertArrayEquals(new float[] {7f}, Npy.readTensor(dir.resolve("rel.npy")).toArray());
    }

    // ---- reading: lenient in form, as NumPy's reader ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedDicts")
    void readsHeaderVariants_thatNumpyAccepts(String why, String dict) throws IOException {
        Tensor t = Npy.readTensor(file("ok.npy", npy(1, dict, floats(1f, 2f, 3f, 4f))));
        assertEquals(Shape.of(1, 2, 2, 1), t.shape());
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, t.toArray());
    }

    static Stream<Arguments> acceptedDicts() {
        return Stream.of(
                Arguments.of("as NumPy writes it", GOOD_DICT),
                Arguments.of("double quotes, no trailing comma",
                        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2, 2, 1)}"),
                Arguments.of("other key order", "{'shape': (1, 2, 2, 1), 'fortran_order': False, 'descr': '<f4'}"),
                Arguments.of("whitespace everywhere, trailing comma in the tuple",
                        "  {\n\t'shape' : ( 1 , 2 ,\r\n 2 , 1 , ) ,\f'descr':'<f4','fortran_order':False  ,  }  "),
                Arguments.of("Python 2 longs", "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L, 2L, 1L), }"));
    }

    @Test
    void readsHeaderPaddedOnlyToSixteenBytes_asOldNumpyWrote() throws IOException {
        // NumPy < 1.23 aligned to 16: the reader must not insist on 64.
        String dict = GOOD_DICT + " ".repeat(4); // 10 + 65 + 4 + 1 = 80
        byte[] content = npy(1, dict, floats(1f, 2f, 3f, 4f));
        assertEquals(0, (content.length - 16) % 16);
        assertEquals(Shape.of(1, 2, 2, 1), Npy.readTensor(file("old.npy", content)).shape());
    }

    @Test
    void format3_headerIsUtf8_format1_isLatin1() throws IOException {
        String dict = "{'descr': '<f4é', 'fortran_order': False, 'shape': (1, 2, 2, 1), }";
        byte[] utf8 = npyRaw(3, (dict + "\n").getBytes(StandardCharsets.UTF_8), floats(1f, 2f, 3f, 4f));
        assertBad("u.npy", utf8, "dtype <f4é not supported, expected <f4 or <f2");
        // The same bytes read as latin1 show the two bytes of é as two characters.
        byte[] latin = npyRaw(1, (dict + "\n").getBytes(StandardCharsets.UTF_8), floats(1f, 2f, 3f, 4f));
        assertBad("l.npy", latin, "dtype <f4Ã© not supported, expected <f4 or <f2");
    }

    // ---- reading: every bad file has its own exact message ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFile_isRefused_withOneLineMessageNamingFileAndProblem(String why, byte[] content, String problem)
            throws IOException {
        assertBad("bad.npy", content, problem);
    }

    static Stream<Arguments> badFiles() {
        byte[] data16 = new byte[16];
        String overLimitHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1), }"
                + " ".repeat(Npy.MAX_HEADER_BYTES) + "\n";
        byte[] v2Lying = npy(2, GOOD_DICT, data16);
        v2Lying[8] = v2Lying[9] = v2Lying[10] = v2Lying[11] = (byte) 0xff;
        byte[] v1Lying = npy(1, GOOD_DICT, data16);
        v1Lying[8] = v1Lying[9] = (byte) 0xff;
        return Stream.of(
                // Not a .npy file at all, or cut off before the header.
                bad("empty file", new byte[0], "not a .npy file (file is empty)"),
                bad("a zip file", concat(new byte[] {'P', 'K', 3, 4}, new byte[60]), "not a .npy file (bad magic)"),
                bad("a text file", "hello, world\n".getBytes(StandardCharsets.US_ASCII), "not a .npy file (bad magic)"),
                bad("magic without 0x93", Arrays.copyOfRange(npy(1, GOOD_DICT, data16), 1, 100),
                        "not a .npy file (bad magic)"),
                bad("3 bytes of the magic", Arrays.copyOf(Npy.MAGIC, 3), "header truncated: the file has only 3 bytes"),
                bad("magic and major version only", Arrays.copyOf(npy(1, GOOD_DICT, data16), 7),
                        "header truncated: the file has only 7 bytes"),
                bad("half of the v1 length", Arrays.copyOf(npy(1, GOOD_DICT, data16), 9),
                        "header truncated: the file has only 9 bytes"),
                bad("three bytes of the v2 length", Arrays.copyOf(npy(2, GOOD_DICT, data16), 11),
                        "header truncated: the file has only 11 bytes"),
                // Versions.
                bad("version 4.0", withVersion(4, 0), "unsupported .npy format version 4.0, expected 1.0, 2.0 or 3.0"),
                bad("version 1.1", withVersion(1, 1), "unsupported .npy format version 1.1, expected 1.0, 2.0 or 3.0"),
                bad("version 0.0", withVersion(0, 0), "unsupported .npy format version 0.0, expected 1.0, 2.0 or 3.0"),
                // Header length that lies or is absurd.
                bad("v1 header length past the end", v1Lying,
                        "header length 65535 points beyond the end of the file (" + v1Lying.length + " bytes)"),
                bad("v2 header length 2^32-1", v2Lying,
                        "header length 4294967295 points beyond the end of the file (" + v2Lying.length + " bytes)"),
                bad("header longer than the limit", npy(2, overLimitHeader.substring(0, overLimitHeader.length() - 1), new byte[4]),
                        "header length " + overLimitHeader.length() + " exceeds the limit of 1048576 bytes"),
                // Malformed dict.
                bad("a list, not a dict", npy(1, "['descr', '<f4']", data16),
                        "malformed header: expected '{' (the header must be a Python dict) at offset 0, found '['"),
                bad("dict not closed", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1), ", data16),
                        "malformed header: expected a quoted key or '}' at offset 65, found the end of the header"),
                bad("unknown key", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1), 'extra': 1}", data16),
                        "malformed header: unexpected key 'extra', expected only 'descr', 'fortran_order' and 'shape'"),
                bad("duplicate key", npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: duplicate key 'descr' at offset 17"),
                bad("missing shape", npy(1, "{'descr': '<f4', 'fortran_order': False}", data16),
                        "malformed header: missing key 'shape'"),
                bad("missing descr", npy(1, "{'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: missing key 'descr'"),
                bad("missing comma", npy(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: expected ',' or '}' at offset 16, found \"'\""),
                bad("unterminated string", npy(1, "{'descr': '<f4", data16),
                        "malformed header: unterminated string at offset 10"),
                bad("escape in string", npy(1, "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: escape sequence in string at offset 13 not supported"),
                bad("shape is a list", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [1, 2, 2, 1]}", data16),
                        "malformed header: 'shape' must be a tuple of integers, got [1, 2, 2, 1]"),
                bad("shape (4) is an int in Python", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4)}", data16),
                        "malformed header: 'shape' must be a tuple of integers, got 4"),
                bad("shape of strings", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ('1', 2)}", data16),
                        "malformed header: 'shape' must be a tuple of integers, got ('1', 2)"),
                bad("fortran_order 0", npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: 'fortran_order' must be True or False, got 0"),
                bad("None", npy(1, "{'descr': '<f4', 'fortran_order': None, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: unsupported value 'None' at offset 34, expected a string, True, False, an integer or a tuple"),
                bad("text after the dict", npy(1, GOOD_DICT + " x", data16),
                        "malformed header: expected end of header after the dict at offset 66, found 'x'"),
                bad("a comment", npy(1, "{'descr': '<f4', # float\n 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "malformed header: expected a quoted key or '}' at offset 17, found '#'"),
                bad("leading zero", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (01, 2, 2, 1)}", data16),
                        "malformed header: integer with a leading zero at offset 51"),
                bad("integer of 41 digits", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9".repeat(41) + ", 1, 1, 1)}", data16),
                        "malformed header: integer at offset 51 has more than 40 digits"),
                bad("deep nesting", npy(1, "{'descr': " + "(".repeat(1000), data16),
                        "malformed header: tuples or lists nested deeper than 16 levels at offset 26"),
                bad("control characters are escaped", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 1)}\u0001", data16),
                        "malformed header: expected end of header after the dict at offset 63, found '\u0001'"),
                bad("format 3.0 header not UTF-8", npyRaw(3, concat("{'descr': '".getBytes(StandardCharsets.US_ASCII),
                                new byte[] {(byte) 0xff}, "'}\n".getBytes(StandardCharsets.US_ASCII)), data16),
                        "malformed header: not valid UTF-8 (format 3.0)"),
                // Supported form, unsupported content.
                bad("float64", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2, 1), }", new byte[32]),
                        "dtype <f8 not supported, expected <f4 or <f2"),
                bad("big-endian float32", hex("""
                        934e554d5059010076007b276465736372273a20273e6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028312c20312c20312c2031292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a
                        00000000"""), "dtype >f4 not supported (big-endian byte order), expected <f4 or <f2"),
                bad("native-order float32", npy(1, "{'descr': '=f4', 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "dtype =f4 not supported, expected <f4 or <f2"),
                bad("dtype with a stray space", npy(1, "{'descr': '<f4 ', 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "dtype '<f4 ' not supported, expected <f4 or <f2"),
                bad("int64", npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2, 2, 1)}", new byte[32]),
                        "dtype <i8 not supported, expected <f4 or <f2"),
                bad("structured", npy(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1, 2, 2, 1)}", data16),
                        "dtype [('x', '<f4')] not supported, expected <f4 or <f2"),
                bad("Fortran order", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2, 2, 1)}", data16),
                        "Fortran order not supported, expected C order"),
                bad("rank 3", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 1)}", data16),
                        "rank 3 not supported, expected a 4-D NHWC array"),
                bad("rank 0", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", new byte[4]),
                        "rank 0 not supported, expected a 4-D NHWC array"),
                bad("rank 1", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", data16),
                        "rank 1 not supported, expected a 4-D NHWC array"),
                bad("rank 5", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2, 1)}", data16),
                        "rank 5 not supported, expected a 4-D NHWC array"),
                bad("zero height", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 0, 2, 1)}", new byte[0]),
                        "dimension H of shape (1, 0, 2, 1) is 0, expected >= 1"),
                bad("negative channels", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, -1)}", data16),
                        "dimension C of shape (1, 2, 2, -1) is -1, expected >= 1"),
                bad("element count overflows long", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4, 1, 1)}", data16),
                        "shape (4611686018427387904, 4, 1, 1) has 18446744073709551616 elements, more than the limit of 536870911 per float32 tensor"),
                bad("dimension beyond int", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 4294967296)}", data16),
                        "shape (1, 1, 1, 4294967296) has 4294967296 elements, more than the limit of 536870911 per float32 tensor"),
                bad("one element over the limit", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 536870912)}", data16),
                        "shape (1, 1, 1, 536870912) has 536870912 elements, more than the limit of 536870911 per float32 tensor"),
                // Data that does not match the header.
                bad("data truncated", npy(1, GOOD_DICT, new byte[12]), "data truncated: expected 16 bytes, found 12"),
                bad("no data", npy(1, GOOD_DICT, new byte[0]), "data truncated: expected 16 bytes, found 0"),
                bad("one byte too many", npy(1, GOOD_DICT, new byte[17]),
                        "trailing data after the array: expected 16 bytes, found 17"),
                bad("a second array appended", concat(npy(1, GOOD_DICT, data16), npy(1, GOOD_DICT, data16)),
                        "trailing data after the array: expected 16 bytes, found " + (16 + npy(1, GOOD_DICT, data16).length)));
    }

    @Test
    void hugeShapeInTinyFile_isRefusedWithoutAllocating() throws IOException {
        // 2^40 elements: over the per-tensor limit.
        byte[] huge = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1024, 1024, 1048576), }", new byte[16]);
        // 2^28 elements (1 GiB): under the limit, so only the file size can stop it.
        byte[] big = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 8192, 8192, 4), }", new byte[16]);
        long before = directMemoryUsed();
        assertBad("huge.npy", huge,
                "shape (1, 1024, 1024, 1048576) has 1099511627776 elements, more than the limit of 536870911 per float32 tensor");
        assertBad("big.npy", big, "data truncated: expected 1073741824 bytes, found 16");
        long grown = directMemoryUsed() - before;
        assertTrue(grown < (1 << 20), "direct memory grew by " + grown + " bytes");
    }

    @Test
    void messageStaysOneLine_evenForAFileNameWithANewline() throws IOException {
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.readTensor(file("evil\nname.npy", new byte[] {1, 2, 3})));
        assertEquals("evil\\nname.npy: not a .npy file (bad magic)", e.getMessage());
        assertEquals("evil\nname.npy", e.fileName());
        assertEquals("not a .npy file (bad magic)", e.problem());
    }

    @Test
    void missingFile_isAnOrdinaryIOException() {
        assertThrows(NoSuchFileException.class, () -> Npy.readTensor(dir.resolve("absent.npy")));
    }

    // ---- helpers and byte order ----

    @Test
    void swap32_reversesEachWord() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Npy.swap32(b);
        assertArrayEquals(new byte[] {4, 3, 2, 1, 8, 7, 6, 5}, b.array());
    }

    /** Random shapes and random bit patterns, seeded so that a failure reproduces. */
    @Test
    void roundTrip_randomShapesAndBits() throws IOException {
        Random random = new Random(0x6e7079L);
        Path f = dir.resolve("r.npy");
        for (int i = 0; i < 40; i++) {
            Shape shape = Shape.of(1 + random.nextInt(3), 1 + random.nextInt(9), 1 + random.nextInt(9), 1 + random.nextInt(9));
            int[] bits = new int[Math.toIntExact(shape.elementCount())];
            for (int j = 0; j < bits.length; j++) {
                bits[j] = random.nextInt(4) == 0 ? SPECIAL_BITS[random.nextInt(SPECIAL_BITS.length)] : random.nextInt();
            }
            Tensor t = Tensor.allocate(shape);
            t.buffer().asIntBuffer().put(bits);
            Npy.writeTensor(f, t);
            Tensor back = Npy.readTensor(f);
            assertEquals(shape, back.shape(), "try " + i);
            assertArrayEquals(bits, bits(back), "try " + i + ", shape " + shape);
        }
        assertEquals(List.of("r.npy"), listDir());
    }

    // ---- test helpers ----

    private void assertBad(String name, byte[] content, String problem) throws IOException {
        Path f = file(name, content);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.readTensor(f));
        assertEquals(name + ": " + NpyFormatException.oneLine(problem, 400), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
        assertEquals(problem, e.problem());
    }

    private static Arguments bad(String why, byte[] content, String problem) {
        return Arguments.of(why, content, problem);
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private List<String> listDir() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] withVersion(int major, int minor) {
        byte[] b = npy(1, GOOD_DICT, new byte[16]);
        b[6] = (byte) major;
        b[7] = (byte) minor;
        return b;
    }

    private static int[] bits(Tensor t) {
        IntBuffer ib = t.buffer().asIntBuffer();
        int[] out = new int[ib.remaining()];
        ib.get(out);
        return out;
    }

    private static long directMemoryUsed() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct"))
                .mapToLong(BufferPoolMXBean::getMemoryUsed)
                .sum();
    }
}
