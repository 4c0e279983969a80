package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * .npy writes are atomic: a write that fails, writes short, or targets a place it cannot write
 * leaves no file (and no temporary file) behind, and an existing file untouched.
 */
class NpyAtomicWriteTest {

    @TempDir
    Path dir;

    @Test
    void failedWrite_leavesNoFileBehind() {
        Path f = dir.resolve("out.npy");
        IOException e = assertThrows(IOException.class, () -> Npy.write(f, Npy.FLOAT32, Shape.of(1, 2, 2, 1), ch -> {
            ch.write(ByteBuffer.allocate(8));
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("disk full (simulated)", e.getMessage());
        assertEquals(List.of(), listDir());
    }

    @Test
    void failedWrite_keepsTheOldFile() throws IOException {
        Path f = dir.resolve("out.npy");
        Files.writeString(f, "old content");
        assertThrows(IllegalStateException.class, () -> Npy.write(f, Npy.FLOAT32, Shape.of(1, 2, 2, 1), ch -> {
            ch.write(ByteBuffer.allocate(8));
            throw new IllegalStateException("bug in the writer (simulated)");
        }));
        assertEquals("old content", Files.readString(f));
        assertEquals(List.of("out.npy"), listDir());
    }

    @Test
    void shortWrite_isAnError_andLeavesNoFileBehind() {
        Path f = dir.resolve("out.npy");
        IOException e = assertThrows(IOException.class,
                () -> Npy.write(f, Npy.FLOAT32, Shape.of(1, 2, 2, 1), ch -> ch.write(ByteBuffer.allocate(12))));
        assertTrue(e.getMessage().startsWith("wrote " + (128 + 12) + " bytes to "), e.getMessage());
        assertTrue(e.getMessage().endsWith(", expected " + (128 + 16)), e.getMessage());
        assertEquals(List.of(), listDir());
    }

    @Test
    void writeOntoADirectory_fails_andLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(dir.resolve("out.npy"));
        assertThrows(IOException.class, () -> Npy.writeTensor(target, Tensor.of(Shape.of(1, 1, 1, 1), 1f)));
        assertTrue(Files.isDirectory(target));
        assertEquals(List.of("out.npy"), listDir());
    }

    @Test
    void writeIntoMissingDirectory_fails_andCreatesNothing() {
        Path target = dir.resolve("no-such-dir").resolve("out.npy");
        assertThrows(NoSuchFileException.class, () -> Npy.writeTensor(target, Tensor.of(Shape.of(1, 1, 1, 1), 1f)));
        assertEquals(List.of(), listDir());
    }

    private List<String> listDir() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
