package dev.clpool;

/**
 * A pooling spec applied to an input shape: everything a backend needs, already validated.
 * Obtain one from {@link PoolSpec#geometry(Shape)}.
 */
public record PoolGeometry(PoolSpec spec, Shape input, Shape output, Axis rows, Axis cols) {

    public PoolMode mode() {
        return spec.mode();
    }

    /**
     * The divisor of an average for output (oy, ox): the number of input elements in the window,
     * or with {@code count_include_pad} the window's taps inside the padded input
     * ({@link Axis#extentIncludingPad}). A long: the product of two axis factors can exceed
     * 2<sup>31</sup> even for a one-element input.
     */
    public long divisor(int oy, int ox) {
        return spec.countIncludePad()
                ? (long) rows.extentIncludingPad(oy) * cols.extentIncludingPad(ox)
                : (long) rows.count(oy) * cols.count(ox);
    }
}
