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

/** {@code clpool backward} in-process on the CPU path: results, exit code 2 with one line and no output. */
class BackwardCommandTest {
    @TempDir
    Path dir;

    private Path input;
    private Path gradOutput;
    private Path output;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writeInputs() throws IOException {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        input = dir.resolve("x.npy");
        gradOutput = dir.resolve("dy.npy");
        output = dir.resolve("dx.npy");
        Npy.writeTensor(input, Tensor.of(Shape.of(1, 4, 4, 1), v));
        Npy.writeTensor(gradOutput, Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4));
    }

    private int run(String... flags) {
        String[] args = Stream.concat(Stream.of("backward", "--input", input.toString(), "--grad-output",
                gradOutput.toString(), "--output", output.toString(), "--backend", "cpu"), Stream.of(flags))
                .toArray(String[]::new);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void backward_max2x2_routesGradientsToEachWindowsMaximum() throws IOException {
        assertEquals(0, run("--mode", "max", "--window", "2"), err.toString());
        Tensor dx = Npy.readTensor(output);
        assertEquals(Shape.of(1, 4, 4, 1), dx.shape());
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}, dx.toArray());
    }

    @Test
    void backward_avg3x3_stride2_pad1_countIncludePad_dividesByNine() throws IOException {
        assertEquals(0, run("--mode", "avg", "--window", "3", "--stride", "2", "--pad", "1", "--count-include-pad"),
                err.toString());
        float[] dx = Npy.readTensor(output).toArray();
        assertEquals(1f / 9, dx[0], 1e-7f);          // only window (0,0), gradient 1
        assertEquals(10f / 9, dx[5], 1e-6f);         // all four windows: (1+2+3+4)/9
    }

    @Test
    void gradOutputOfTheWrongShape_exits2_withOneLineNamingTheFile_andNoOutput() {
        assertEquals(2, run("--mode", "max", "--window", "2", "--stride", "1")); // pooled output 1,3,3,1
        assertOneLineNaming("dy.npy");
        assertTrue(err.toString().contains("1,2,2,1") && err.toString().contains("1,3,3,1"), err.toString());
        assertFalse(Files.exists(output), "no output file may be left behind");
    }

    @Test
    void lpMode_exits2_andWritesNothing() {
        assertEquals(2, run("--mode", "lp", "--window", "2"));
        assertOneLineNaming("lp");
        assertFalse(Files.exists(output));
    }

    @Test
    void missingGradOutputFlag_exits2() {
        String[] args = {"backward", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
            "--window", "2", "--backend", "cpu"};
        assertEquals(2, Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args));
        assertOneLineNaming("--grad-output");
        assertFalse(Files.exists(output));
    }

    @Test
    void help_listsTheGradOutputFlag() {
        assertEquals(0, Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute("backward", "--help"));
        assertTrue(out.toString().contains("--grad-output"), out.toString());
    }

    private void assertOneLineNaming(String text) {
        String e = err.toString().strip();
        assertFalse(e.isEmpty(), "an error line is expected");
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.contains(text), "the error should name '" + text + "': " + e);
    }
}
