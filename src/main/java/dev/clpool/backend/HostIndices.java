package dev.clpool.backend;

import dev.clpool.Indices;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.Objects;
import java.util.stream.IntStream;

/** Resident int64 indices in host memory: what the CPU path writes max pooling's indices into. */
public final class HostIndices implements ResidentTensor {
    private final Indices indices;
    private volatile boolean closed;

    public HostIndices(Indices indices) {
        this.indices = Objects.requireNonNull(indices, "indices");
    }

    /**
     * Rewrites the positions within their plane that max pooling of a channels-first tensor's
     * one-channel view wrote ({@code planes} planes of {@code plane} elements, channel fastest
     * across planes) into that tensor's {@code nhwc} indices, {@code p * channels + c}, in place.
     */
    public static void planeToNhwc(Indices indices, int planes, long plane, int channels) {
        LongBuffer b = indices.longs();
        IntStream.range(0, planes).parallel().forEach(q -> {
            long c = q % channels;
            for (long i = q * plane, end = i + plane; i < end; i++) {
                b.put((int) i, b.get((int) i) * channels + c);
            }
        });
    }

    /** The host indices themselves (no copy). */
    public Indices indices() {
        if (closed) {
            throw new IllegalStateException("the indices are closed");
        }
        return indices;
    }

    @Override
    public Shape shape() {
        return indices.shape();
    }

    @Override
    public ResidentTensor view(Shape shape) {
        throw new UnsupportedOperationException("indices are not reshaped");
    }

    @Override
    public int elementBytes() {
        return Long.BYTES;
    }

    @Override
    public void download(Tensor into) {
        throw new IllegalArgumentException("int64 indices cannot be downloaded into a float tensor " + into.shape());
    }

    @Override
    public void download(ByteBuffer into) {
        into.put(indices().buffer());
    }

    @Override
    public void close() {
        closed = true;
    }
}
