package dev.clpool;

import java.util.Objects;

/**
 * The engine's request checks that go beyond {@link PoolSpec#geometry}: the mode an operation
 * accepts, the shapes and types of a backward's gradient and of outputs the caller passes in.
 * Each failure is one line naming the argument.
 */
final class EngineChecks {
    private EngineChecks() {
    }

    static PoolGeometry indicesGeometry(Tensor in, PoolSpec spec, IndexConvention convention) {
        return indicesGeometry(in.shape(), spec, convention);
    }

    static PoolGeometry indicesGeometry(Shape in, PoolSpec spec, IndexConvention convention) {
        checkIndicesMode(spec, convention);
        return spec.geometry(in);
    }

    static void checkIndicesMode(PoolSpec spec, IndexConvention convention) {
        Objects.requireNonNull(convention, "convention");
        if (spec.mode() != PoolMode.MAX) {
            throw new InvalidSpecException("mode", spec.mode().word(), "indices come with max pooling only");
        }
    }

    static PoolGeometry backwardGeometry(Tensor input, Tensor gradOutput, PoolSpec spec) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(gradOutput, "gradOutput");
        PoolGeometry g = backwardGeometry(input.shape(), gradOutput.shape(), spec);
        if (gradOutput.dtype() != input.dtype()) {
            throw new InvalidSpecException("gradOutput dtype", gradOutput.dtype(), "must equal the input's dtype "
                    + input.dtype() + " (the input gradient has that dtype too)");
        }
        return g;
    }

    static PoolGeometry backwardGeometry(Shape input, Shape gradOutput, PoolSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (spec.mode() == PoolMode.LP) {
            throw new InvalidSpecException("mode", spec.mode().word(), "backward supports max and avg");
        }
        PoolGeometry g = spec.geometry(input);
        if (!gradOutput.equals(g.output())) {
            throw new InvalidSpecException("gradOutput shape", gradOutput, "must equal the output shape "
                    + g.output() + " of input " + input + " under " + spec);
        }
        return g;
    }

    /**
     * The output shape of a backward of any rank and layout: max or avg only, and {@code gradOutput}
     * of exactly that shape (the host and device-tensor N-D forms share this check).
     */
    static TensorShape backwardOutput(TensorShape input, TensorShape gradOutput, PoolSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (spec.mode() == PoolMode.LP) {
            throw new InvalidSpecException("mode", spec.mode().word(), "backward supports max and avg");
        }
        TensorShape out = spec.outputShape(input);
        if (!gradOutput.equals(out)) {
            throw new InvalidSpecException("gradOutput shape", gradOutput, "must equal the output shape "
                    + out + " of input " + input + " under " + spec);
        }
        return out;
    }

    /** Global pooling's output shape, (N, 1, 1, C). */
    static Shape globalShape(Shape in) {
        return Shape.of(in.n(), 1, 1, in.c());
    }

    static void checkGlobalMode(PoolMode mode) {
        Objects.requireNonNull(mode, "mode");
        if (mode == PoolMode.LP) {
            throw new InvalidSpecException("mode", mode.word(), "global pooling supports max and avg");
        }
    }

    /** Checks an output the caller passed: its shape and dtype, named {@code name} in the message. */
    static void requireOutput(String name, Tensor out, Shape want, DType dtype) {
        requireOutput(name, out, TensorShape.of(want), dtype);
    }

    /**
     * Checks an output of any rank and layout the caller passed: its shape and dtype, named
     * {@code name} in the message (which names the ranks and layouts when they differ).
     */
    static void requireOutput(String name, Tensor out, TensorShape want, DType dtype) {
        Objects.requireNonNull(out, name);
        if (!out.tensorShape().equals(want)) {
            throw new IllegalArgumentException(name + " " + mismatch(out.tensorShape(), want));
        }
        if (out.dtype() != dtype) {
            throw new IllegalArgumentException(name + " dtype " + out.dtype() + ": expected the input's " + dtype);
        }
    }

    /** Checks indices the caller passed: shape and convention. */
    static void requireIndices(Indices indices, Shape want, IndexConvention convention) {
        requireIndices(indices, TensorShape.of(want), convention);
    }

    /** Checks indices of values of any rank and layout the caller passed: shape and convention. */
    static void requireIndices(Indices indices, TensorShape want, IndexConvention convention) {
        Objects.requireNonNull(indices, "indices");
        if (!indices.tensorShape().equals(want)) {
            throw new IllegalArgumentException("indices shape " + mismatch(indices.tensorShape(), want));
        }
        if (indices.convention() != convention) {
            throw new IllegalArgumentException("indices convention " + indices.convention().word() + ": expected "
                    + convention.word());
        }
    }

    /** {@code 1,4,4,3: expected 1,2,2,3}, with {@code (2-D channels-last)} after each when the kinds differ. */
    static String mismatch(TensorShape has, TensorShape want) {
        if (has.rank() == want.rank() && has.layout() == want.layout()) {
            return has + ": expected " + want;
        }
        return has + " (" + has.describe() + "): expected " + want + " (" + want.describe() + ")";
    }

    /** Checks a gradient output the caller passed: input's shape and dtype, and a tensor of its own. */
    static void requireGradInput(Tensor gradInput, Tensor input, Tensor gradOutput) {
        requireOutput("gradInput", gradInput, input.shape(), input.dtype());
        if (gradInput == input || gradInput == gradOutput) {
            throw new IllegalArgumentException("gradInput is " + (gradInput == input ? "input" : "gradOutput")
                    + ": the gradient needs a tensor of its own");
        }
    }

    /** A copy of {@code indices}, each checked to be a device number (>= 0), none repeated. */
    static int[] deviceIndices(int... indices) {
        for (int i : indices) {
            if (i < 0) {
                throw new IllegalArgumentException("device index must be >= 0, got " + i);
            }
        }
        if (java.util.Arrays.stream(indices).distinct().count() != indices.length) {
            throw new IllegalArgumentException("device indices repeat: " + java.util.Arrays.toString(indices));
        }
        return indices.clone();
    }
}
