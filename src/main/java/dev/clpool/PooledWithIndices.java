package dev.clpool;

import java.util.Objects;

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

    /** Closes {@link #values()} and {@link #indices()}. */
    @Override
    public void close() {
        values.close();
        indices.close();
    }
}
