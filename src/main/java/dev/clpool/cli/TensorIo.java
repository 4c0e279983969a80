package dev.clpool.cli;

import dev.clpool.Layout;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --input} and {@code --output}: .npy files, read strictly and written atomically. */
final class TensorIo {
    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input: .npy of rank 3, 4 or 5 (spatial rank 1 to 3), <f4 (float32) or <f2 (float16).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Output .npy of the input's dtype, written atomically (never left half-written).")
    Path output;

    @Option(names = "--layout", paramLabel = "channels-last|channels-first", defaultValue = "channels-last",
            converter = Converters.LayoutWord.class,
            description = "Where C is in every .npy read and written: (N, [D,] [H,] W, C) or (N, C, [D,] [H,] W)"
                    + " (default: channels-last).")
    Layout layout;

    Tensor read() throws IOException {
        return read(input);
    }

    /** Another input of the command, in the same layout as {@code --input}. */
    Tensor read(Path file) throws IOException {
        return Npy.readTensor(requireFile(file), layout);
    }

    /** {@code file}, unless it is a directory (bad input). */
    static Path requireFile(Path file) {
        if (Files.isDirectory(file)) {
            throw CliException.badInput(file + ": is a directory, expected a .npy file");
        }
        return file;
    }

    void write(Tensor t) throws IOException {
        if (Files.isDirectory(output)) {
            // Else the rename over it fails with a FileSystemException: exit 1 instead of 2.
            throw CliException.badInput(output + ": is a directory, expected a file name for the output");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw CliException.badInput(output + ": directory " + parent + " does not exist");
        }
        Npy.writeTensor(output, t);
    }
}
