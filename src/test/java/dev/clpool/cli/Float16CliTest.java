package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DType;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every tensor command with a {@code <f2} input on the CPU path: outputs are {@code <f2}, indices {@code <i8}. */
class Float16CliTest {
    @TempDir
    Path dir;

    private Path input;
    private Path output;
    private float[] x;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writeInput() throws IOException {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) {
            v[i] = i / 3f; // not halves: the file holds them rounded
        }
        Tensor t = Tensor.of(Shape.of(1, 4, 4, 1), DType.FLOAT16, v);
        x = t.toArray();
        input = dir.resolve("x.npy");
        output = dir.resolve("y.npy");
        Npy.writeTensor(input, t);
    }

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    private Tensor readOutput() throws IOException {
        String header = new String(Files.readAllBytes(output), 0, 64, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '<f2'"), header);
        Tensor y = Npy.readTensor(output);
        assertEquals(DType.FLOAT16, y.dtype());
        return y;
    }

    @Test
    void poolMax_writesFloat16() throws IOException {
        assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--window", "2", "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {x[5], x[7], x[13], x[15]}, readOutput().toArray());
    }

    @Test
    void poolAvg_isTheFloat32AverageRoundedOnce() throws IOException {
        assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "avg",
                "--window", "2", "--backend", "cpu"), err.toString());
        float first = DType.FLOAT16.round((float) ((x[0] + (double) x[1] + x[4] + x[5]) / 4));
        float last = DType.FLOAT16.round((float) ((x[10] + (double) x[11] + x[14] + x[15]) / 4));
        float[] y = readOutput().toArray();
        assertEquals(first, y[0]);
        assertEquals(last, y[3]);
    }

    @Test
    void poolWithIndices_writesFloat16ValuesAndInt64Indices() throws IOException {
        Path idx = dir.resolve("idx.npy");
        assertEquals(0, run("pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--window", "2", "--indices", idx.toString(), "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {x[5], x[7], x[13], x[15]}, readOutput().toArray());
        String header = new String(Files.readAllBytes(idx), 0, 64, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '<i8'"), header);
    }

    @Test
    void globalAndAdaptive_writeFloat16() throws IOException {
        assertEquals(0, run("global", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {x[15]}, readOutput().toArray());
        assertEquals(0, run("adaptive", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
                "--output-size", "1", "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {x[15]}, readOutput().toArray());
    }

    @Test
    void backward_float16_andMismatchedGradientType_isRefused() throws IOException {
        Path dy = dir.resolve("dy.npy");
        Npy.writeTensor(dy, Tensor.of(Shape.of(1, 2, 2, 1), DType.FLOAT16, 1, 2, 3, 4));
        assertEquals(0, run("backward", "--input", input.toString(), "--grad-output", dy.toString(), "--output",
                output.toString(), "--mode", "max", "--window", "2", "--backend", "cpu"), err.toString());
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}, readOutput().toArray());

        Files.delete(output);
        Npy.writeTensor(dy, Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4)); // <f4
        assertEquals(2, run("backward", "--input", input.toString(), "--grad-output", dy.toString(), "--output",
                output.toString(), "--mode", "max", "--window", "2", "--backend", "cpu"));
        String message = err.toString().trim();
        assertTrue(message.contains("dtype <f4 does not match") && message.contains("<f2"), message);
        assertEquals(1, message.lines().count(), message);
        assertFalse(Files.exists(output));
    }
}
