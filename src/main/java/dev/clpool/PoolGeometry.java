package dev.clpool;

/**
 * A pooling spec applied to an input shape: everything a backend needs, already validated.
 * Obtain one from {@link PoolSpec#geometry(Shape)}.
 *
 * <p>{@code rowOrigin} is the row of the whole tensor that this geometry's input row 0 is: 0,
 * except for a row band of a larger batch item (the OpenCL backend's row bands), whose input is
 * that item's rows from {@code rowOrigin} on. Paths whose summation order depends on where a
 * window falls among fixed blocks of rows (the CPU path's prefix–suffix averages) anchor those
 * blocks at the whole tensor's rows through it, so a band rounds each of its averages as the
 * whole tensor does.
 */
public record PoolGeometry(PoolSpec spec, Shape input, Shape output, Axis rows, Axis cols, int rowOrigin) {

    /** A geometry of a whole tensor (row origin 0). */
    public PoolGeometry(PoolSpec spec, Shape input, Shape output, Axis rows, Axis cols) {
        this(spec, input, output, rows, cols, 0);
    }

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
