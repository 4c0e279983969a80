package dev.clpool.cli;

import dev.clpool.IndexConvention;
import dev.clpool.InvalidSpecException;
import dev.clpool.PoolMode;
import dev.clpool.PooledWithIndices;
import dev.clpool.npy.Npy;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --indices} and {@code --index-convention} of {@code clpool pool}: max pooling's int64 indices. */
final class IndexOptions {
    @Option(names = "--indices", paramLabel = "IDX.npy",
            description = "max: also write, per output element, the index of the input element it came from"
                    + " (.npy <i8, the output's shape and layout). Both files are written, or neither.")
    Path indices;

    @Option(names = "--index-convention", paramLabel = "nhwc|pytorch|onnx|onnx-column-major",
            converter = ConventionConverter.class,
            description = "With --indices (2-D shown; 1-D and 3-D alike, whatever the layout): nhwc (default)"
                    + " (y*W+x)*C+c within the batch item; pytorch y*W+x within the channel plane;"
                    + " onnx ((n*C+c)*H+y)*W+x; onnx-column-major ((n*C+c)*W+x)*H+y.")
    IndexConvention convention;

    boolean requested() {
        return indices != null;
    }

    IndexConvention convention() {
        return convention == null ? IndexConvention.NHWC : convention;
    }

    /** Refuses flags that do not apply, before any work. */
    void check(PoolMode mode, Path output) {
        if (indices != null && mode != PoolMode.MAX) {
            throw CliException.badInput("--indices: applies to --mode max only");
        }
        if (convention != null && indices == null) {
            throw CliException.badInput("--index-convention: applies with --indices only");
        }
        if (indices != null && indices.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw CliException.badInput("--indices " + indices + ": must not be the --output file");
        }
    }

    /** Writes the values to {@code output} and the indices to {@code --indices}: both, or neither. */
    void write(Path output, PooledWithIndices r) throws IOException {
        OutputPair.write(output, file -> Npy.writeTensor(file, r.values()),
                indices, file -> Npy.writeInt64(file, r.indices().tensorShape(), r.indices().longs()));
    }

    static final class ConventionConverter implements ITypeConverter<IndexConvention> {
        @Override
        public IndexConvention convert(String value) {
            try {
                return IndexConvention.parse(value);
            } catch (InvalidSpecException e) {
                throw new TypeConversionException("'" + value + "' is not one of nhwc, pytorch, onnx, onnx-column-major");
            }
        }
    }
}
