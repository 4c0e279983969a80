package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The command line in-process on the CPU path: results, exit codes, one-line errors, no partial output. */
class CliTest {
    @TempDir
    Path dir;

    private Path input;
    private Path output;
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
        Npy.writeTensor(input, Tensor.of(Shape.of(1, 4, 4, 1), v));
    }

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void pool_max3x3_stride2_pad1_writesExpectedOutput() throws IOException {
        int code = run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--window", "3", "--stride", "2", "--pad", "1", "--backend", "cpu");
        assertEquals(0, code, err.toString());
        Tensor y = Npy.readTensor(output);
        assertEquals(Shape.of(1, 2, 2, 1), y.shape());
        assertArrayEquals(new float[] {5, 7, 13, 15}, y.toArray());
    }

    @Test
    void pool_lp_and_dilation_and_ceilMode_run() throws IOException {
        assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "lp", "--p", "1",
                "--window", "2", "--dilation", "2", "--stride", "1", "--ceil-mode", "--backend", "cpu"), err.toString());
        // p = 1: the sum of |x| over the taps {0, 2, 8, 10} of the first window
        assertEquals(20f, Npy.readTensor(output).toArray()[0]);
    }

    @Test
    void global_avg_writesNx1x1xC() throws IOException {
        assertEquals(0, run("global", "--input", input.toString(), "--output", output.toString(), "--mode", "avg",
                "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {7.5f}, Npy.readTensor(output).toArray());
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("window larger than the input", new String[] {"--mode", "max", "--window", "5"}, "window"),
                Arguments.of("zero stride", new String[] {"--mode", "max", "--window", "2", "--stride", "0"}, "stride"),
                Arguments.of("padding not below the window", new String[] {"--mode", "max", "--window", "2", "--pad", "2"}, "padding"),
                Arguments.of("unknown mode", new String[] {"--mode", "median", "--window", "2"}, "median"),
                Arguments.of("malformed window", new String[] {"--mode", "max", "--window", "2x"}, "window"),
                Arguments.of("p for max", new String[] {"--mode", "max", "--window", "2", "--p", "3"}, "--p"),
                Arguments.of("p zero", new String[] {"--mode", "lp", "--window", "2", "--p", "0"}, "p"),
                Arguments.of("missing window", new String[] {"--mode", "max"}, "--window"),
                Arguments.of("unknown flag", new String[] {"--mode", "max", "--window", "2", "--bogus"}, "--bogus"),
                Arguments.of("negative device", new String[] {"--mode", "max", "--window", "2", "--device", "-1"}, "device"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequest_exits2_withOneLine_andNoOutputFile(String why, String[] flags, String named) {
        String[] args = Stream.concat(Stream.of("pool", "--input", input.toString(), "--output", output.toString(),
                "--backend", "cpu"), Stream.of(flags)).toArray(String[]::new);
        assertEquals(2, run(args), why + ": " + err);
        assertOneLineNaming(named);
        assertFalse(Files.exists(output), "no output file may be left behind");
    }

    @Test
    void badNpy_exits2_namesTheFile_andLeavesNoOutput() throws IOException {
        Path bad = dir.resolve("bad.npy");
        Files.write(bad, "not numpy at all".getBytes());
        assertEquals(2, run("pool", "--input", bad.toString(), "--output", output.toString(), "--mode", "max",
                "--window", "2", "--backend", "cpu"));
        assertOneLineNaming("bad.npy");
        assertFalse(Files.exists(output));
    }

    @Test
    void missingInput_exits2() {
        assertEquals(2, run("pool", "--input", dir.resolve("nope.npy").toString(), "--output", output.toString(),
                "--mode", "max", "--window", "2", "--backend", "cpu"));
        assertOneLineNaming("no such file");
    }

    @Test
    void outputIntoMissingDirectory_exits2_andWritesNothing() {
        Path target = dir.resolve("missing").resolve("y.npy");
        assertEquals(2, run("pool", "--input", input.toString(), "--output", target.toString(), "--mode", "max",
                "--window", "2", "--backend", "cpu"));
        assertOneLineNaming("does not exist");
    }

    @Test
    void everyCommand_hasHelp() {
        for (String cmd : new String[] {"pool", "global", "demo"}) {
            assertEquals(0, run(cmd, "--help"), cmd);
        }
        assertTrue(out.toString().contains("--window"));
    }

    @Test
    void demo_onCpu_showsEveryExampleAgreeing() {
        assertEquals(0, run("demo", "--backend", "cpu"), err.toString());
        assertTrue(out.toString().contains("All 8 examples agree."), out.toString());
    }

    private void assertOneLineNaming(String text) {
        String e = err.toString().strip();
        assertFalse(e.isEmpty(), "an error line is expected");
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.contains(text), "the error should name '" + text + "': " + e);
    }
}
