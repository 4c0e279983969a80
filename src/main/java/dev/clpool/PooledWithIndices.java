package dev.clpool;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * The result of {@link PoolingEngine#poolWithIndices}: the max-pooled values and, for each, the
 * index of the input element it came from. Both have the output shape. {@link #close()} closes
 * both (giving an engine's pooled memory back).
 */
public record PooledWithIndices(Tensor values, Indices indices) implements AutoCloseable {
    public PooledWithIndices {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(indices, "indices");
        if (!values.tensorShape().equals(indices.tensorShape())) {
            throw new IllegalArgumentException("values " + values.tensorShape() + " and indices " + indices.tensorShape()
                    + " must have the same shape");
        }
    }

    /** Values and indices of {@code shape} from {@code memory}, filled by {@code op}; both given back if it fails. */
    static PooledWithIndices filled(HostMemoryPool memory, TensorShape shape, DType dtype, IndexConvention convention,
                                    Consumer<PooledWithIndices> op) {
        Tensor values = memory.tensor(shape, dtype);
        PooledWithIndices result;
        try {
            result = new PooledWithIndices(values, Indices.allocate(memory, shape, convention));
        } catch (RuntimeException | Error e) {
            values.close();
            throw e;
        }
        try {
            op.accept(result);
            return result;
        } catch (RuntimeException | Error e) {
            result.close();
            throw e;
        }
    }

    /** Closes {@link #values()} and {@link #indices()}. */
    @Override
    public void close() {
        values.close();
        indices.close();
    }
}
