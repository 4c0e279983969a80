package dev.clpool;

import java.util.Objects;

/**
 * The result of {@link PoolingEngine#poolWithIndices(DeviceTensor, PoolSpec, IndexConvention)}: the
 * max-pooled values and their indices, both still where the engine computes and both of the
 * output shape. {@link #close()} closes both.
 */
public record DevicePooledWithIndices(DeviceTensor values, DeviceIndices indices) implements AutoCloseable {
    public DevicePooledWithIndices {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(indices, "indices");
        if (!values.tensorShape().equals(indices.tensorShape())) {
            throw new IllegalArgumentException("values " + values.tensorShape() + " and indices " + indices.tensorShape()
                    + " must have the same shape");
        }
    }

    /** Both, downloaded (after the queued work that produces them). */
    public PooledWithIndices download() {
        Tensor v = values.download();
        try {
            return new PooledWithIndices(v, indices.download());
        } catch (RuntimeException e) {
            v.close();
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
