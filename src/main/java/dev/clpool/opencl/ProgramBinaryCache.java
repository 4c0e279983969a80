package dev.clpool.opencl;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built program binaries on disk, so that a second run on the same device does not compile
 * again. One file per (device, driver, platform, source text, build options), named by the
 * SHA-256 of all of them; the file repeats that key and carries the binary's length and SHA-256,
 * and is trusted only when all of them match. A missing, corrupt or refused entry (a binary the
 * driver no longer accepts) is rebuilt from source and written again; files are written to a
 * temporary name and renamed, so a crash never leaves half an entry. Any I/O problem only turns
 * the cache off for that program (logged at debug level): the build itself never fails because
 * of the cache.
 *
 * <p>The directory is {@code ${XDG_CACHE_HOME:-~/.cache}/clpool/kernels}, or what the system
 * property {@code clpool.kernelCache} or the environment variable {@code CLPOOL_KERNEL_CACHE}
 * says; {@code off} disables it.
 */
final class ProgramBinaryCache {
    private static final Logger LOG = LoggerFactory.getLogger(ProgramBinaryCache.class);
    private static final byte[] MAGIC = "clpool-program-binary 1\n".getBytes(StandardCharsets.US_ASCII);
    /** Larger entries are not trusted (nor written): no kernel of clpool comes near. */
    private static final int MAX_BINARY = 64 << 20;

    private final Path dir;

    ProgramBinaryCache(Path dir) {
        this.dir = dir;
    }

    /** The default directory, or null when the cache is turned off. */
    static Path defaultDirectory() {
        String setting = System.getProperty("clpool.kernelCache");
        if (setting == null || setting.isBlank()) {
            setting = System.getenv("CLPOOL_KERNEL_CACHE");
        }
        if (setting != null && !setting.isBlank()) {
            String s = setting.strip();
            return s.equalsIgnoreCase("off") || s.equalsIgnoreCase("false") || s.equalsIgnoreCase("none") ? null
                    : Path.of(s);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("clpool").resolve("kernels");
    }

    Path directory() {
        return dir;
    }

    /**
     * The program for {@code source} and {@code options} on {@code context}'s device: from its
     * cached binary when one is there and valid, else built from source (and then cached).
     */
    ClProgram build(ClContext context, String source, String options) {
        if (dir == null) {
            return context.buildProgram(source, options);
        }
        String key = key(context.device(), source, options);
        Path file = dir.resolve(key + ".bin");
        byte[] binary = read(file, key);
        if (binary != null) {
            try {
                ClProgram p = context.buildProgramFromBinary(binary, options);
                LOG.debug("program binary from {}", file);
                return p;
            } catch (ClException e) {
                LOG.debug("cached binary {} refused by the driver ({}); building from source", file, e.getMessage());
            }
        }
        ClProgram program = context.buildProgram(source, options);
        try {
            byte[] built = program.binary();
            if (built.length > 0 && built.length <= MAX_BINARY) {
                write(file, key, built);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("program binary not cached in {}: {}", dir, e.toString());
        }
        return program;
    }

    /** The SHA-256 (hex) naming one program on one device and driver. */
    static String key(ClDevice device, String source, String options) {
        DeviceInfo i = device.info();
        return sha256Hex(String.join("\u0000", "clpool 1", i.platformName(), i.platformVersion(), i.vendor(),
                i.name(), i.version(), i.driverVersion(), options == null ? "" : options, source)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The entry's binary if the file exists and every check passes; else null. */
    static byte[] read(Path file, String key) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                return corrupt(file, "bad header");
            }
            byte[] k = in.readNBytes(64);
            if (!Arrays.equals(k, key.getBytes(StandardCharsets.US_ASCII))) {
                return corrupt(file, "key mismatch");
            }
            int length = in.readInt();
            if (length <= 0 || length > MAX_BINARY) {
                return corrupt(file, "implausible length " + length);
            }
            byte[] hash = in.readNBytes(32);
            byte[] binary = in.readNBytes(length);
            if (binary.length != length || in.read() != -1) {
                return corrupt(file, "wrong length");
            }
            if (!MessageDigest.isEqual(hash, sha256(binary))) {
                return corrupt(file, "checksum mismatch");
            }
            return binary;
        } catch (IOException e) {
            return corrupt(file, e.toString());
        }
    }

    private static byte[] corrupt(Path file, String why) {
        LOG.debug("ignoring cached program binary {}: {}", file, why);
        return null;
    }

    static void write(Path file, String key, byte[] binary) throws IOException {
        Files.createDirectories(file.getParent());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(binary.length + 160);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.write(key.getBytes(StandardCharsets.US_ASCII));
            out.writeInt(binary.length);
            out.write(sha256(binary));
            out.write(binary);
        }
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes.toByteArray());
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        LOG.debug("cached program binary {} ({} bytes)", file, binary.length);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256(data));
    }
}
