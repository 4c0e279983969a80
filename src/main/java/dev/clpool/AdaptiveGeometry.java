package dev.clpool;

import java.util.Objects;

/**
 * Adaptive pooling of an input shape to an output size (SEMANTICS.md): output {@code i} of an
 * axis of {@code in} positions pooled to {@code out} covers input positions
 * {@link #start(int, int, int) floor(i*in/out)} up to {@link #end(int, int, int) ceil((i+1)*in/out)}
 * (exclusive). Regions may overlap, and {@code out} may exceed {@code in} (then positions repeat);
 * every region holds at least one position. Obtain one from {@link #of}, which validates.
 */
public record AdaptiveGeometry(PoolMode mode, Shape input, Shape output) {

    public AdaptiveGeometry {
        checkMode(mode);
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        if (output.n() != input.n() || output.c() != input.c()) {
            throw new IllegalArgumentException("adaptive output " + output + " must keep N and C of the input " + input);
        }
    }

    /**
     * Adaptive {@code mode} (MAX or AVG) of {@code input} to (oh, ow).
     *
     * @throws InvalidSpecException naming the field: {@code output size} below 1, or mode {@code lp}
     */
    public static AdaptiveGeometry of(PoolMode mode, Shape input, int oh, int ow) {
        Objects.requireNonNull(input, "input");
        if (oh < 1 || ow < 1) {
            throw new InvalidSpecException("output size", oh + "x" + ow, "must be >= 1 on each axis");
        }
        return new AdaptiveGeometry(mode, input, Shape.of(input.n(), oh, ow, input.c()));
    }

    /** Refuses a mode adaptive pooling does not have (LP) and null. */
    static void checkMode(PoolMode mode) {
        Objects.requireNonNull(mode, "mode");
        if (mode == PoolMode.LP) {
            throw new InvalidSpecException("mode", mode.word(), "adaptive pooling supports avg and max");
        }
    }

    /** First input position of output {@code i}: {@code floor(i*in/out)}, in long arithmetic. */
    public static int start(int i, int in, int out) {
        return (int) ((long) i * in / out);
    }

    /** One past the last input position of output {@code i}: {@code ceil((i+1)*in/out)}. */
    public static int end(int i, int in, int out) {
        return (int) ((((long) i + 1) * in + out - 1) / out);
    }

    /** First input row of output row {@code oy}. */
    public int rowStart(int oy) {
        return start(oy, input.h(), output.h());
    }

    /** One past the last input row of output row {@code oy}. */
    public int rowEnd(int oy) {
        return end(oy, input.h(), output.h());
    }

    /** First input column of output column {@code ox}. */
    public int colStart(int ox) {
        return start(ox, input.w(), output.w());
    }

    /** One past the last input column of output column {@code ox}. */
    public int colEnd(int ox) {
        return end(ox, input.w(), output.w());
    }
}
