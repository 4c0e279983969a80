package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code clpool adaptive} and {@code clpool pool --indices} in-process on the CPU path: results,
 * exit codes, one-line errors, and never a partial output (both files or neither).
 */
class AdaptiveAndIndicesCliTest {
    @TempDir
    Path dir;

    private Path input;
    private Path output;
    private Path indices;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writeInput() throws IOException {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        input = dir.resolve("x.npy");
        output = dir.resolve("y.npy");
        indices = dir.resolve("idx.npy");
        Npy.writeTensor(input, Tensor.of(Shape.of(1, 4, 4, 1), v));
    }

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    private int run(Stream<String> args) {
        return run(args.toArray(String[]::new));
    }

    /** An int64 .npy as written by Npy.writeInt64: checks dtype and shape, returns the values. */
    private static long[] readInt64(Path file, Shape shape) throws IOException {
        return readInt64(file, shape.n(), shape.h(), shape.w(), shape.c());
    }

    /** {@link #readInt64(Path, Shape)} for an array of any rank, {@code dims} in storage order. */
    static long[] readInt64(Path file, int... dims) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Short.toUnsignedInt(b.getShort(8));
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '<i8'"), header);
        String tuple = Arrays.stream(dims).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        assertTrue(header.contains("'shape': (" + tuple + ")"), header);
        long[] v = new long[(bytes.length - 10 - headerLength) / Long.BYTES];
        b.position(10 + headerLength);
        b.asLongBuffer().get(v);
        return v;
    }

    private List<String> filesInDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void adaptive_avg_4x4Ramp_to2x2() throws IOException {
        assertEquals(0, run("adaptive", "--input", input.toString(), "--output", output.toString(), "--mode", "avg",
                "--output-size", "2,2", "--backend", "cpu"), err.toString());
        Tensor y = Npy.readTensor(output);
        assertEquals(Shape.of(1, 2, 2, 1), y.shape());
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, y.toArray());
    }

    @Test
    void adaptive_max_oneNumberMeansBothAxes_4to3() throws IOException {
        // 4 -> 3: regions [0,1], [1,2], [2,3].
        assertEquals(0, run("adaptive", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--output-size", "3", "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {5, 6, 7, 9, 10, 11, 13, 14, 15}, Npy.readTensor(output).toArray());
    }

    @Test
    void adaptive_outputLargerThanInput_runs() throws IOException {
        assertEquals(0, run("adaptive", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--output-size", "9,5", "--backend", "cpu"), err.toString());
        assertEquals(Shape.of(1, 9, 5, 1), Npy.readTensor(output).shape());
    }

    static Stream<Arguments> badAdaptive() {
        return Stream.of(
                Arguments.of("lp is not adaptive", new String[] {"--mode", "lp", "--output-size", "2"}, "lp"),
                Arguments.of("zero output size", new String[] {"--mode", "avg", "--output-size", "0,2"}, "output size"),
                Arguments.of("negative output size", new String[] {"--mode", "max", "--output-size", "-1"}, "output size"),
                Arguments.of("malformed output size", new String[] {"--mode", "max", "--output-size", "2x"}, "output size"),
                Arguments.of("three numbers", new String[] {"--mode", "max", "--output-size", "2,2,2"}, "output size"),
                Arguments.of("missing output size", new String[] {"--mode", "max"}, "--output-size"),
                Arguments.of("unknown mode", new String[] {"--mode", "median", "--output-size", "2"}, "median"),
                Arguments.of("window flag does not apply", new String[] {"--mode", "max", "--output-size", "2", "--window", "2"},
                        "--window"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAdaptive")
    void adaptive_badRequest_exits2_withOneLine_andNoOutputFile(String why, String[] flags, String named) {
        assertEquals(2, run(Stream.concat(Stream.of("adaptive", "--input", input.toString(), "--output", output.toString(),
                "--backend", "cpu"), Stream.of(flags))), why + ": " + err);
        assertOneLineNaming(named);
        assertFalse(Files.exists(output), "no output file may be left behind");
    }

    @Test
    void pool_indices_defaultNhwc_writesInt64BesideTheValues() throws IOException {
        assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--window", "2", "--indices", indices.toString(), "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {5, 7, 13, 15}, Npy.readTensor(output).toArray());
        assertArrayEquals(new long[] {5, 7, 13, 15}, readInt64(indices, Shape.of(1, 2, 2, 1)));
        assertEquals(List.of("idx.npy", "x.npy", "y.npy"), filesInDir(), "no temporary files left");
    }

    @Test
    void pool_indices_everyConventionWord() throws IOException {
        String[][] words = {{"nhwc", "5,7,13,15"}, {"pytorch", "5,7,13,15"}, {"onnx", "5,7,13,15"},
            {"onnx-column-major", "5,13,7,15"}};
        for (String[] w : words) {
            assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                    "--window", "2", "--indices", indices.toString(), "--index-convention", w[0], "--backend", "cpu"),
                    err.toString());
            long[] got = readInt64(indices, Shape.of(1, 2, 2, 1));
            assertEquals(w[1], Stream.of(got[0], got[1], got[2], got[3]).map(String::valueOf).collect(Collectors.joining(",")), w[0]);
        }
    }

    static Stream<Arguments> badIndices() {
        return Stream.of(
                Arguments.of("indices with avg", new String[] {"--mode", "avg", "--window", "2", "--indices", "IDX"},
                        "--indices: applies to --mode max only"),
                Arguments.of("indices with lp", new String[] {"--mode", "lp", "--window", "2", "--indices", "IDX"},
                        "--indices: applies to --mode max only"),
                Arguments.of("convention without indices", new String[] {"--mode", "max", "--window", "2",
                    "--index-convention", "onnx"}, "--index-convention"),
                Arguments.of("unknown convention", new String[] {"--mode", "max", "--window", "2", "--indices", "IDX",
                    "--index-convention", "nchw"}, "nchw"),
                Arguments.of("indices file is the output", new String[] {"--mode", "max", "--window", "2", "--indices", "OUT"},
                        "must not be the --output file"),
                Arguments.of("indices into a missing directory", new String[] {"--mode", "max", "--window", "2", "--indices",
                    "MISSING"}, "does not exist"),
                Arguments.of("indices is a directory", new String[] {"--mode", "max", "--window", "2", "--indices", "DIR"},
                        "is a directory"),
                Arguments.of("spec refused", new String[] {"--mode", "max", "--window", "5", "--indices", "IDX"}, "window"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badIndices")
    void pool_badIndicesRequest_exits2_withOneLine_andNeitherFile(String why, String[] flags, String named) throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        String[] args = Stream.of(flags).map(f -> switch (f) {
            case "IDX" -> indices.toString();
            case "OUT" -> output.toString();
            case "MISSING" -> dir.resolve("missing").resolve("idx.npy").toString();
            case "DIR" -> sub.toString();
            default -> f;
        }).toArray(String[]::new);
        assertEquals(2, run(Stream.concat(Stream.of("pool", "--input", input.toString(), "--output", output.toString(),
                "--backend", "cpu"), Stream.of(args))), why + ": " + err);
        assertOneLineNaming(named);
        assertFalse(Files.exists(output), "no values file may be left behind");
        assertFalse(Files.exists(indices), "no indices file may be left behind");
        assertEquals(List.of("sub", "x.npy"), filesInDir(), "nothing else may be left behind");
    }

    @Test
    void outputPair_secondWriteFails_leavesNeitherFile_norTemporaries() throws IOException {
        Tensor t = Tensor.of(Shape.of(1, 1, 1, 1), 1f);
        IOException e = assertThrows(IOException.class, () -> OutputPair.write(output, f -> Npy.writeTensor(f, t),
                indices, f -> {
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertFalse(Files.exists(output));
        assertFalse(Files.exists(indices));
        assertEquals(List.of("x.npy"), filesInDir());
    }

    @Test
    void outputPair_secondRenameFails_removesTheFirstAgain() throws IOException {
        Tensor t = Tensor.of(Shape.of(1, 1, 1, 1), 1f);
        // The second target turns into a non-empty directory after the checks: its rename must fail.
        IOException e = assertThrows(IOException.class, () -> OutputPair.write(output, f -> Npy.writeTensor(f, t),
                indices, f -> {
                    Npy.writeTensor(f, t);
                    Files.createDirectories(indices.resolve("inside"));
                }));
        assertFalse(Files.exists(output), "the first file must be removed again: " + e);
        assertEquals(List.of("idx.npy", "x.npy"), filesInDir());
        assertTrue(Files.isDirectory(indices));
    }

    @Test
    void adaptive_hasHelp_andIsListed() {
        assertEquals(0, run("adaptive", "--help"));
        assertTrue(out.toString().contains("--output-size"), out.toString());
        assertEquals(0, run("pool", "--help"));
        assertTrue(out.toString().contains("--index-convention"), out.toString());
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("adaptive"), out.toString());
    }

    private void assertOneLineNaming(String text) {
        String e = err.toString().strip();
        assertFalse(e.isEmpty(), "an error line is expected");
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.contains(text), "the error should name '" + text + "': " + e);
    }
}
