package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.Layout;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The command line for spatial rank 1 and 3 and for channels-first files, in-process on the CPU
 * path: {@code --layout}, the per-axis flags, {@code global --mode lp}, indices files of the
 * values' shape, and the bad-input rules (exit 2, one line naming the flag, no output).
 */
class NdCliTest {
    @TempDir
    Path dir;

    private Path output;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void paths() {
        output = dir.resolve("y.npy");
    }

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    private void ok(String... args) {
        assertEquals(0, run(args), () -> String.join(" ", args) + ": " + err);
    }

    private Path write(String name, TensorShape shape, float... values) throws IOException {
        Path p = dir.resolve(name);
        Npy.writeTensor(p, Tensor.of(shape, DType.FLOAT32, values));
        return p;
    }

    private static float[] random(long count, long seed) {
        Random r = new Random(seed);
        float[] v = new float[(int) count];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() * 8 - 4;
        }
        return v;
    }

    @Test
    void pool_1d_channelsLast_maxWithPytorchIndices() throws IOException {
        Path x = write("x.npy", TensorShape.channelsLast(1, new int[] {6}, 1), 1, 5, 2, 8, 3, 0);
        Path idx = dir.resolve("idx.npy");
        ok("pool", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--mode", "max",
                "--window", "2", "--indices", idx.toString(), "--index-convention", "pytorch");
        Tensor y = Npy.readTensor(output, Layout.CHANNELS_LAST);
        assertEquals(TensorShape.channelsLast(1, new int[] {3}, 1), y.tensorShape());
        assertArrayEquals(new float[] {5, 8, 3}, y.toArray());
        assertArrayEquals(new long[] {1, 3, 4}, AdaptiveAndIndicesCliTest.readInt64(idx, 1, 3, 1));
    }

    @Test
    void pool_3d_channelsFirst_equalsTheLibrary_inTheInputsLayout() throws IOException {
        TensorShape in = TensorShape.channelsFirst(2, 3, 4, 5, 6);
        float[] v = random(in.elementCount(), 13);
        Path x = write("x.npy", in, v);
        ok("pool", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--layout",
                "channels-first", "--mode", "avg", "--window", "2,2,3", "--stride", "1,2,3", "--pad", "0,1,1",
                "--count-include-pad");
        Tensor y = Npy.readTensor(output, Layout.CHANNELS_FIRST);
        // depth (4-2)/1+1 = 3; height floor((5+2-2)/2)+1 = 3; width floor((6+2-3)/3)+1 = 2
        assertEquals(TensorShape.channelsFirst(2, 3, 3, 3, 2), y.tensorShape());
        PoolSpec spec = PoolSpec.builder(PoolMode.AVG).window(2, 2, 3).stride(1, 2, 3)
                .padding(Padding.perAxis(new int[] {0, 1, 1}, new int[] {0, 1, 1})).countIncludePad(true).build();
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             Tensor want = cpu.pool(Tensor.of(in, DType.FLOAT32, v), spec)) {
            assertArrayEquals(want.toArray(), y.toArray());
        }
    }

    @Test
    void pool_3d_maxIndices_haveTheValuesShapeAndLayout() throws IOException {
        // (N, C, D, H, W) = (1, 2, 2, 2, 2): channel 0 holds 0..7, channel 1 holds 7..0.
        Path x = write("x.npy", TensorShape.channelsFirst(1, 2, 2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1, 0);
        Path idx = dir.resolve("idx.npy");
        ok("pool", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--layout",
                "channels-first", "--mode", "max", "--window", "2", "--indices", idx.toString(), "--index-convention",
                "onnx");
        assertArrayEquals(new float[] {7, 7}, Npy.readTensor(output, Layout.CHANNELS_FIRST).toArray());
        // onnx: ((n*C + c)*D + z)*H*W + y*W + x over the whole tensor
        assertArrayEquals(new long[] {7, 8}, AdaptiveAndIndicesCliTest.readInt64(idx, 1, 2, 1, 1, 1));
    }

    @Test
    void global_lp_defaultP2_andGivenP() throws IOException {
        Path x = write("x.npy", TensorShape.channelsLast(1, new int[] {2}, 1), 3, -4);
        ok("global", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--mode", "lp");
        assertArrayEquals(new float[] {5}, Npy.readTensor(output, Layout.CHANNELS_LAST).toArray());
        ok("global", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--mode", "lp",
                "--p", "1");
        assertArrayEquals(new float[] {7}, Npy.readTensor(output, Layout.CHANNELS_LAST).toArray());
    }

    @Test
    void global_3d_channelsFirst_max() throws IOException {
        Path x = write("x.npy", TensorShape.channelsFirst(1, 2, 1, 2, 2), 1, 9, 2, 3, -1, -5, -2, -3);
        ok("global", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--layout",
                "channels-first", "--mode", "max");
        Tensor y = Npy.readTensor(output, Layout.CHANNELS_FIRST);
        assertEquals(TensorShape.channelsFirst(1, 2, 1, 1, 1), y.tensorShape());
        assertArrayEquals(new float[] {9, -1}, y.toArray());
    }

    @Test
    void adaptive_3d_onePerAxisOrOneForAll() throws IOException {
        TensorShape in = TensorShape.channelsLast(1, new int[] {2, 4, 4}, 1);
        float[] v = new float[32];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Path x = write("x.npy", in, v);
        ok("adaptive", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--mode", "max",
                "--output-size", "1,2,2");
        assertArrayEquals(new float[] {21, 23, 29, 31}, Npy.readTensor(output, Layout.CHANNELS_LAST).toArray());
        ok("adaptive", "--input", x.toString(), "--output", output.toString(), "--backend", "cpu", "--mode", "avg",
                "--output-size", "1");
        assertArrayEquals(new float[] {15.5f}, Npy.readTensor(output, Layout.CHANNELS_LAST).toArray());
    }

    @Test
    void backward_1d_channelsFirst_routesToTheArgmax() throws IOException {
        Path x = write("x.npy", TensorShape.channelsFirst(1, 1, 4), 1, 3, 2, 4);
        Path dy = write("dy.npy", TensorShape.channelsFirst(1, 1, 2), 10, 20);
        ok("backward", "--input", x.toString(), "--grad-output", dy.toString(), "--output", output.toString(),
                "--backend", "cpu", "--layout", "channels-first", "--mode", "max", "--window", "2");
        assertArrayEquals(new float[] {0, 10, 0, 20}, Npy.readTensor(output, Layout.CHANNELS_FIRST).toArray());
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("two windows for a 3-D input", List.of("pool", "--mode", "max", "--window", "2,2"), "3d",
                        "--window 2,2: expected 1 or 3 numbers"),
                Arguments.of("three strides for a 2-D input",
                        List.of("pool", "--mode", "max", "--window", "2", "--stride", "1,1,1"), "2d", "--stride 1,1,1"),
                Arguments.of("two dilations for a 1-D input",
                        List.of("pool", "--mode", "max", "--window", "2", "--dilation", "1,2"), "1d", "--dilation 1,2"),
                Arguments.of("four pads for a 3-D input",
                        List.of("pool", "--mode", "max", "--window", "3", "--pad", "1,1,1,1"), "3d",
                        "--pad 1,1,1,1: expected 1, 3 or 6 numbers"),
                Arguments.of("three pads for a 1-D input",
                        List.of("pool", "--mode", "max", "--window", "3", "--pad", "1,1,1"), "1d", "--pad 1,1,1"),
                Arguments.of("four windows", List.of("pool", "--mode", "max", "--window", "2,2,2,2"), "3d",
                        "--window 2,2,2,2"),
                Arguments.of("two output sizes for a 1-D input",
                        List.of("adaptive", "--mode", "avg", "--output-size", "2,2"), "1d", "--output-size 2,2"),
                Arguments.of("--p without lp", List.of("global", "--mode", "avg", "--p", "3"), "2d", "--p"),
                Arguments.of("--p zero", List.of("global", "--mode", "lp", "--p", "0"), "2d", "--p"),
                Arguments.of("unknown layout", List.of("global", "--mode", "max", "--layout", "nchw"), "2d", "--layout"),
                Arguments.of("a rank-2 file", List.of("global", "--mode", "max"), "rank2", "rank 2 not supported"),
                Arguments.of("a rank-6 file", List.of("global", "--mode", "max"), "rank6", "rank 6 not supported"),
                Arguments.of("3-D window too large", List.of("pool", "--mode", "max", "--window", "1,9,1"), "3d", "window"),
                Arguments.of("indices of a 1-D avg", List.of("pool", "--mode", "avg", "--window", "2", "--indices", "IDX"),
                        "1d", "--indices"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequest_exits2_withOneLine_andNoOutput(String why, List<String> args, String input, String named)
            throws IOException {
        Path x = switch (input) {
            case "1d" -> write("x.npy", TensorShape.channelsLast(1, new int[] {8}, 2), random(16, 1));
            case "2d" -> write("x.npy", TensorShape.channelsLast(1, new int[] {4, 4}, 1), random(16, 2));
            case "3d" -> write("x.npy", TensorShape.channelsLast(1, new int[] {4, 4, 4}, 1), random(64, 3));
            default -> rawNpy(input);
        };
        Path idx = dir.resolve("idx.npy");
        List<String> all = new java.util.ArrayList<>(args.stream().map(a -> a.equals("IDX") ? idx.toString() : a)
                .collect(Collectors.toList()));
        all.addAll(List.of("--input", x.toString(), "--output", output.toString(), "--backend", "cpu"));
        assertEquals(2, run(all.toArray(String[]::new)), why + ": " + err);
        String e = err.toString().strip();
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.contains(named), "the error should name '" + named + "': " + e);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(x.getFileName().toString()),
                    files.map(p -> p.getFileName().toString()).collect(Collectors.toList()), "no output left behind");
        }
    }

    /** A float32 .npy of rank 2 or 6, which no command accepts. */
    private Path rawNpy(String which) throws IOException {
        Path p = dir.resolve(which + ".npy");
        String shape = which.equals("rank2") ? "(2, 2)" : "(1, 1, 1, 2, 2, 1)";
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = (10 + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(total - 10 - dict.length() - 1) + "\n";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] bytes = new byte[10 + h.length + 16];
        System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, 0}, 0, bytes, 0, 10);
        System.arraycopy(h, 0, bytes, 10, h.length);
        Files.write(p, bytes);
        return p;
    }
}
