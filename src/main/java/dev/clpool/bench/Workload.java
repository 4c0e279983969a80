package dev.clpool.bench;

import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.TensorShape;
import java.util.Objects;

/**
 * One pooling layer of a published network, as {@code clpool bench} and the JMH workload
 * benchmarks run it: an operation ({@link Op}) on an NHWC input of {@code shape}, with
 * {@code spec} (windowed operations), {@code mode} (global and adaptive) and the adaptive output
 * size {@code oh × ow}. {@code source} says where the layer is defined. The input may have any
 * spatial rank and layout ({@link #tensorShape()}); adaptive workloads and the peers' rows are 2-D
 * channels-last ({@link #shape()}).
 *
 * @param name   a short unique name, also the JMH parameter value ({@code resnet50-stem-max})
 * @param source the network and the place in its published definition
 */
public record Workload(String name, String source, Op op, TensorShape tensorShape, PoolSpec spec, PoolMode mode, int oh,
                       int ow) {

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
        Objects.requireNonNull(tensorShape, "shape");
        boolean windowed = op == Op.POOL || op == Op.POOL_WITH_INDICES || op == Op.BACKWARD;
        if (windowed != (spec != null) || windowed == (mode != null)) {
            throw new IllegalArgumentException(name + ": " + op + " takes " + (windowed ? "a spec" : "a mode"));
        }
        if ((op == Op.ADAPTIVE) != (oh > 0 && ow > 0)) {
            throw new IllegalArgumentException(name + ": only adaptive workloads have an output size");
        }
        if (spec != null) {
            spec.outputShape(tensorShape); // the spec must run on the shape
        }
        if (op == Op.ADAPTIVE && tensorShape.rank() != 2) {
            throw new IllegalArgumentException(name + ": adaptive workloads are 2-D");
        }
    }

    /** The input shape of a 2-D channels-last workload (the peers' rows). */
    public Shape shape() {
        return tensorShape.asShape();
    }

    /** Windowed pooling of an input of any rank and layout. */
    public static Workload windowed(String name, String source, Op op, String spec, TensorShape shape) {
        return new Workload(name, source, op, shape, PoolSpec.parse(spec), null, 0, 0);
    }

    /** Global pooling of an input of any rank and layout. */
    public static Workload global(String name, String source, PoolMode mode, TensorShape shape) {
        return new Workload(name, source, Op.GLOBAL, shape, null, mode, 0, 0);
    }

    /** Windowed pooling ({@link Op#POOL}, {@link Op#POOL_WITH_INDICES} or {@link Op#BACKWARD}). */
    public static Workload windowed(String name, String source, Op op, String spec, Shape shape) {
        return windowed(name, source, op, spec, TensorShape.of(shape));
    }

    public static Workload global(String name, String source, PoolMode mode, Shape shape) {
        return global(name, source, mode, TensorShape.of(shape));
    }

    public static Workload adaptive(String name, String source, PoolMode mode, Shape shape, int oh, int ow) {
        return adaptive(name, source, mode, TensorShape.of(shape), oh, ow);
    }

    /** Adaptive pooling of a 2-D input in either layout to {@code oh × ow}. */
    public static Workload adaptive(String name, String source, PoolMode mode, TensorShape shape, int oh, int ow) {
        return new Workload(name, source, Op.ADAPTIVE, shape, null, mode, oh, ow);
    }

    /** The pooling mode: the spec's, or the global or adaptive mode. */
    public PoolMode poolMode() {
        return spec != null ? spec.mode() : mode;
    }

    /** The forward output shape of a 2-D channels-last workload (for backward: the shape of dy). */
    public Shape outputShape() {
        return outputTensorShape().asShape();
    }

    /** The forward output shape in the input's rank and layout (for backward: the shape of dy). */
    public TensorShape outputTensorShape() {
        return switch (op) {
            case POOL, POOL_WITH_INDICES, BACKWARD -> spec.outputShape(tensorShape);
            case GLOBAL -> tensorShape.global();
            case ADAPTIVE -> tensorShape.withSpatial(oh, ow);
        };
    }

    /** The shape of what the operation writes: dx (input-shaped) for backward, else the forward output. */
    public TensorShape resultShape() {
        return op == Op.BACKWARD ? tensorShape : outputTensorShape();
    }

    /**
     * The bytes one run must read and write at least, with elements of {@code dtype}: input and
     * output; plus the int64 indices for {@link Op#POOL_WITH_INDICES}; for {@link Op#BACKWARD},
     * dy and dx, and x too for max (avg reads only x's shape).
     */
    public long bytes(DType dtype) {
        long e = dtype.byteSize();
        long in = tensorShape.elementCount();
        long out = outputTensorShape().elementCount();
        return switch (op) {
            case POOL, GLOBAL, ADAPTIVE -> (in + out) * e;
            case POOL_WITH_INDICES -> (in + out) * e + out * Long.BYTES;
            case BACKWARD -> (poolMode() == PoolMode.MAX ? in : 0) * e + (out + in) * e;
        };
    }

    /** For people: {@code max 3x3 s2 p1}, {@code indices max 2x2 s2}, {@code backward avg 2x2 s2}, {@code adaptive avg 7x7}. */
    public String label() {
        if (!tensorShape.isShape2d()) {
            String s = spec == null ? "" : " " + spec.toString().replace("k=", "").replace(" s=", " s").replace(" pad=", " p");
            String what = switch (op) {
                case GLOBAL -> mode.word();
                case ADAPTIVE -> mode.word() + " " + oh + "x" + ow;
                default -> s.trim();
            };
            return (op == Op.POOL ? "" : op.word() + " ") + what;
        }
        return switch (op) {
            case POOL -> BenchCase.pool(spec, shape()).label();
            case POOL_WITH_INDICES, BACKWARD -> op.word() + " " + BenchCase.pool(spec, shape()).label();
            case GLOBAL -> "global " + mode.word();
            case ADAPTIVE -> "adaptive " + mode.word() + " " + oh + "x" + ow;
        };
    }

    /** {@code 32x112x112x64} (the dimensions in storage order), {@code cf} after channels-first ones. */
    public String dims() {
        StringBuilder b = new StringBuilder();
        for (int d : tensorShape.dims()) {
            b.append(b.length() == 0 ? "" : "x").append(d);
        }
        return tensorShape.layout() == dev.clpool.Layout.CHANNELS_FIRST ? b + " cf" : b.toString();
    }
}
