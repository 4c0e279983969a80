package dev.clpool.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Two output files written together: both appear, or neither. Each is first written completely
 * (itself atomically) under a hidden temporary name beside its target; only when both are
 * complete are they renamed into place. If the second rename fails, the first target is removed
 * again. Temporary files never outlive the call.
 */
final class OutputPair {
    /** Writes one complete file at the given path. */
    @FunctionalInterface
    interface Writer {
        void write(Path file) throws IOException;
    }

    private OutputPair() {
    }

    static void write(Path first, Writer firstWriter, Path second, Writer secondWriter) throws IOException {
        checkTarget(first);
        checkTarget(second);
        Path t1 = temp(first);
        Path t2 = temp(second);
        try {
            firstWriter.write(t1);
            secondWriter.write(t2);
            move(t1, first);
            try {
                move(t2, second);
            } catch (IOException | RuntimeException e) {
                try {
                    Files.deleteIfExists(first);
                } catch (IOException d) {
                    e.addSuppressed(d);
                }
                throw e;
            }
        } finally {
            deleteQuietly(t1);
            deleteQuietly(t2);
        }
    }

    /** The same checks as a single output: the directory must exist, the target must not be one. */
    private static void checkTarget(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw CliException.badInput(file + ": directory " + parent + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw CliException.badInput(file + ": is a directory, expected a .npy file");
        }
    }

    private static Path temp(Path target) {
        Path abs = target.toAbsolutePath();
        String name = abs.getFileName().toString();
        String base = name.length() > 100 ? name.substring(0, 100) : name;
        return abs.resolveSibling("." + base + ".pair-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
    }

    private static void move(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // Best effort: the temporary name is hidden and unique.
        }
    }
}
