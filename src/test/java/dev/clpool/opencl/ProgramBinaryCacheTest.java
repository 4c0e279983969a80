package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

/** The on-disk entry format: what is trusted and what is not (no device needed). */
// Alone, not beside another test class (the unit tests run two classes at a time): it sets the system
// property clpool.kernelCache that every engine reads.
@Isolated
class ProgramBinaryCacheTest {
    private static final String KEY = "ab".repeat(32);
    private static final byte[] BINARY = "a program binary, as a driver would give it".getBytes();

    @TempDir
    Path dir;

    private Path written() throws IOException {
        Path f = dir.resolve(KEY + ".bin");
        ProgramBinaryCache.write(f, KEY, BINARY);
        return f;
    }

    @Test
    void roundTrip() throws IOException {
        assertArrayEquals(BINARY, ProgramBinaryCache.read(written(), KEY));
    }

    @Test
    void missingFile_isAMiss() {
        assertNull(ProgramBinaryCache.read(dir.resolve("none.bin"), KEY));
    }

    @Test
    void flippedByte_isNotTrusted() throws IOException {
        Path f = written();
        byte[] b = Files.readAllBytes(f);
        b[b.length - 3] ^= 1;
        Files.write(f, b);
        assertNull(ProgramBinaryCache.read(f, KEY));
    }

    @Test
    void otherKey_isNotTrusted() throws IOException {
        assertNull(ProgramBinaryCache.read(written(), "cd".repeat(32)));
    }

    @Test
    void truncatedOrExtended_isNotTrusted() throws IOException {
        Path f = written();
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length - 1));
        assertNull(ProgramBinaryCache.read(f, KEY));
        Files.write(f, Arrays.copyOf(b, b.length + 1));
        assertNull(ProgramBinaryCache.read(f, KEY));
        Files.write(f, new byte[0]);
        assertNull(ProgramBinaryCache.read(f, KEY));
    }

    @Test
    void badHeader_isNotTrusted() throws IOException {
        Path f = written();
        byte[] b = Files.readAllBytes(f);
        b[0] = 'X';
        Files.write(f, b);
        assertNull(ProgramBinaryCache.read(f, KEY));
    }

    @Test
    void off_disablesTheCache() {
        String before = System.getProperty("clpool.kernelCache");
        try {
            System.setProperty("clpool.kernelCache", "off");
            assertNull(ProgramBinaryCache.defaultDirectory());
            System.setProperty("clpool.kernelCache", dir.toString());
            org.junit.jupiter.api.Assertions.assertEquals(dir, ProgramBinaryCache.defaultDirectory());
        } finally {
            if (before == null) {
                System.clearProperty("clpool.kernelCache");
            } else {
                System.setProperty("clpool.kernelCache", before);
            }
        }
    }
}
