package dev.clpool.bench;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import java.util.Objects;

/**
 * One pooling layer of a published network, as {@code clpool bench} and the JMH workload
 * benchmarks run it: an operation ({@link Op}) on an NHWC input of {@code shape}, with
 * {@code spec} (windowed operations), {@code mode} (global and adaptive) and the adaptive output
 * size {@code oh × ow}. {@code source} says where the layer is defined.
 *
 * @param name   a short unique name, also the JMH parameter value ({@code resnet50-stem-max})
 * @param source the network and the place in its published definition
 */
public record Workload(String name, String source, Op op, Shape shape, PoolSpec spec, PoolMode mode, int oh, int ow) {

    /** What a workload runs, each through {@code PoolingEngine}'s method of that name. */
    public enum Op {
        /** {@code pool}: max, avg or LP. */
        POOL("pool"),
        /** {@code poolWithIndices}: max values and their int64 indices (NHWC convention). */
        POOL_WITH_INDICES("indices"),
        /** {@code backward}: the input gradient of max or avg, given x and dy. */
        BACKWARD("backward"),
        /** {@code global}: max or avg over each plane. */
        GLOBAL("global"),
        /** {@code adaptive}: max or avg to a fixed output size. */
        ADAPTIVE("adaptive");

        private final String word;

        Op(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    public Workload {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(shape, "shape");
        boolean windowed = op == Op.POOL || op == Op.POOL_WITH_INDICES || op == Op.BACKWARD;
        if (windowed != (spec != null) || windowed == (mode != null)) {
            throw new IllegalArgumentException(name + ": " + op + " takes " + (windowed ? "a spec" : "a mode"));
        }
        if ((op == Op.ADAPTIVE) != (oh > 0 && ow > 0)) {
            throw new IllegalArgumentException(name + ": only adaptive workloads have an output size");
        }
        if (spec != null) {
            spec.outputShape(shape); // the spec must run on the shape
        }
    }

    /** Windowed pooling ({@link Op#POOL}, {@link Op#POOL_WITH_INDICES} or {@link Op#BACKWARD}). */
    public static Workload windowed(String name, String source, Op op, String spec, Shape shape) {
        return new Workload(name, source, op, shape, PoolSpec.parse(spec), null, 0, 0);
    }

    public static Workload global(String name, String source, PoolMode mode, Shape shape) {
        return new Workload(name, source, Op.GLOBAL, shape, null, mode, 0, 0);
    }

    public static Workload adaptive(String name, String source, PoolMode mode, Shape shape, int oh, int ow) {
        return new Workload(name, source, Op.ADAPTIVE, shape, null, mode, oh, ow);
    }

    /** The pooling mode: the spec's, or the global or adaptive mode. */
    public PoolMode poolMode() {
        return spec != null ? spec.mode() : mode;
    }

    /** The forward output shape (for backward: the shape of dy). */
    public Shape outputShape() {
        return switch (op) {
            case POOL, POOL_WITH_INDICES, BACKWARD -> spec.outputShape(shape);
            case GLOBAL -> Shape.of(shape.n(), 1, 1, shape.c());
            case ADAPTIVE -> AdaptiveGeometry.of(mode, shape, oh, ow).output();
        };
    }

    /** The shape of what the operation writes: dx (input-shaped) for backward, else the forward output. */
    public Shape resultShape() {
        return op == Op.BACKWARD ? shape : outputShape();
    }

    /**
     * The bytes one run must read and write at least, with elements of {@code dtype}: input and
     * output; plus the int64 indices for {@link Op#POOL_WITH_INDICES}; for {@link Op#BACKWARD},
     * dy and dx, and x too for max (avg reads only x's shape).
     */
    public long bytes(DType dtype) {
        long e = dtype.byteSize();
        long in = shape.elementCount();
        long out = outputShape().elementCount();
        return switch (op) {
            case POOL, GLOBAL, ADAPTIVE -> (in + out) * e;
            case POOL_WITH_INDICES -> (in + out) * e + out * Long.BYTES;
            case BACKWARD -> (poolMode() == PoolMode.MAX ? in : 0) * e + (out + in) * e;
        };
    }

    /** For people: {@code max 3x3 s2 p1}, {@code indices max 2x2 s2}, {@code backward avg 2x2 s2}, {@code adaptive avg 7x7}. */
    public String label() {
        return switch (op) {
            case POOL -> BenchCase.pool(spec, shape).label();
            case POOL_WITH_INDICES, BACKWARD -> op.word() + " " + BenchCase.pool(spec, shape).label();
            case GLOBAL -> "global " + mode.word();
            case ADAPTIVE -> "adaptive " + mode.word() + " " + oh + "x" + ow;
        };
    }

    /** {@code 32x112x112x64}. */
    public String dims() {
        return shape.n() + "x" + shape.h() + "x" + shape.w() + "x" + shape.c();
    }
}
