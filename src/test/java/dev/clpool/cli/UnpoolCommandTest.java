package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DType;
import dev.clpool.Layout;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code clpool unpool} in-process on the CPU path: round trips with pool --indices, output sizes, bad input. */
class UnpoolCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    private void ok(String... args) {
        assertEquals(0, run(args), () -> String.join(" ", args) + ": " + err);
    }

    private Path path(String name) {
        return dir.resolve(name);
    }

    @Test
    void poolThenUnpool_2d_putsEachMaximumBack() throws IOException {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Npy.writeTensor(path("x.npy"), Tensor.of(TensorShape.channelsLast(1, new int[] {4, 4}, 1), DType.FLOAT32, v));
        ok("pool", "--input", path("x.npy").toString(), "--output", path("y.npy").toString(), "--backend", "cpu",
                "--mode", "max", "--window", "2", "--indices", path("idx.npy").toString());
        ok("unpool", "--input", path("y.npy").toString(), "--indices", path("idx.npy").toString(), "--output",
                path("x2.npy").toString(), "--backend", "cpu", "--window", "2");
        float[] want = new float[16];
        for (int i : new int[] {5, 7, 13, 15}) {
            want[i] = i;
        }
        Tensor back = Npy.readTensor(path("x2.npy"), Layout.CHANNELS_LAST);
        assertEquals(TensorShape.channelsLast(1, new int[] {4, 4}, 1), back.tensorShape());
        assertArrayEquals(want, back.toArray());
    }

    @Test
    void unpool_1d_channelsFirst_pytorchIndices_defaultAndGivenOutputSize() throws IOException {
        Npy.writeTensor(path("x.npy"), Tensor.of(TensorShape.channelsFirst(1, 1, 5), DType.FLOAT32, 1, 9, 2, 8, 3));
        ok("pool", "--input", path("x.npy").toString(), "--output", path("y.npy").toString(), "--backend", "cpu",
                "--layout", "channels-first", "--mode", "max", "--window", "2", "--indices", path("idx.npy").toString(),
                "--index-convention", "pytorch");
        String[] common = {"unpool", "--input", path("y.npy").toString(), "--indices", path("idx.npy").toString(),
                "--output", path("x2.npy").toString(), "--backend", "cpu", "--layout", "channels-first", "--window", "2",
                "--index-convention", "pytorch"};
        ok(common);
        // default size (2-1)*2 + 2 = 4: the odd last element of x is not restored
        assertArrayEquals(new float[] {0, 9, 0, 8}, Npy.readTensor(path("x2.npy"), Layout.CHANNELS_FIRST).toArray());
        List<String> sized = new ArrayList<>(List.of(common));
        sized.addAll(List.of("--output-size", "5"));
        ok(sized.toArray(String[]::new));
        Tensor back = Npy.readTensor(path("x2.npy"), Layout.CHANNELS_FIRST);
        assertEquals(TensorShape.channelsFirst(1, 1, 5), back.tensorShape());
        assertArrayEquals(new float[] {0, 9, 0, 8, 0}, back.toArray());
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("an index past the output", new long[] {1, 9}, List.of(), "unpooling index 9"),
                Arguments.of("a negative index", new long[] {-1, 3}, List.of(), "unpooling index -1"),
                Arguments.of("same padding", new long[] {1, 3}, List.of("--pad", "same"), "padding"),
                Arguments.of("output size too large", new long[] {1, 3}, List.of("--output-size", "6"), "output size"),
                Arguments.of("output size too small", new long[] {1, 3}, List.of("--output-size", "3"), "output size"),
                Arguments.of("two windows for a 1-D input", new long[] {1, 3}, List.of("--window", "2,2"),
                        "--window 2,2: expected 1 or 1 numbers"),
                Arguments.of("indices of another shape", new long[] {1, 3, 4}, List.of(), "idx.npy: shape"),
                Arguments.of("float indices", null, List.of(), "expected <i8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequest_exits2_withOneLine_andNoOutput(String why, long[] indices, List<String> extra, String named)
            throws IOException {
        Npy.writeTensor(path("y.npy"), Tensor.of(TensorShape.channelsFirst(1, 1, 2), DType.FLOAT32, 9, 8));
        if (indices == null) {
            Npy.writeTensor(path("idx.npy"), Tensor.of(TensorShape.channelsFirst(1, 1, 2), DType.FLOAT32, 1, 3));
        } else {
            Npy.writeInt64(path("idx.npy"), TensorShape.channelsFirst(1, 1, indices.length), LongBuffer.wrap(indices));
        }
        List<String> args = new ArrayList<>(List.of("unpool", "--input", path("y.npy").toString(), "--indices",
                path("idx.npy").toString(), "--output", path("x2.npy").toString(), "--backend", "cpu", "--layout",
                "channels-first", "--index-convention", "pytorch"));
        if (!extra.contains("--window")) {
            args.addAll(List.of("--window", "2"));
        }
        args.addAll(extra);
        assertEquals(2, run(args.toArray(String[]::new)), why + ": " + err);
        String e = err.toString().strip();
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.contains(named), "the error should name '" + named + "': " + e);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("idx.npy", "y.npy"),
                    files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()), "no output");
        }
    }
}
