package dev.clpool;

import java.util.Arrays;

/**
 * Windowed pooling of a channels-first tensor as the device sees it: {@code planes} (N·C)
 * contiguous planes (volumes) of spatial rank 1 to 3, each pooled alone with the per-axis
 * geometry {@code axes} (outermost first: depth, rows, columns; or rows, columns; or columns), as
 * {@link PoolSpec#axes} resolves it. The same computation as a 2-D channels-last
 * pooling with C = 1 and N·C batch items, without the layout: what the backends' {@code poolPlanar} runs.
 *
 * @param p               the exponent of lp pooling (ignored otherwise)
 * @param countIncludePad whether an average divides by the window's taps inside the padded input
 */
public record PlanarGeometry(int planes, Axis[] axes, PoolMode mode, double p, boolean countIncludePad) {

    /** An axis of one element pooled by a window of one: what a lower rank's missing axes are. */
    private static final Axis UNIT = new Axis(1, 1, 1, 1, 1, 0, 0);

    public PlanarGeometry {
        if (planes < 1) {
            throw new IllegalArgumentException("planes must be >= 1, got " + planes);
        }
        if (axes.length < 1 || axes.length > 3) {
            throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, got " + axes.length);
        }
        axes = axes.clone();
        for (Axis a : axes) {
            if (a.out() < 1 || a.count(0) < 1 || a.count(a.out() - 1) < 1) {
                throw new IllegalArgumentException("axis " + a + " has an output whose window covers no input");
            }
        }
        java.util.Objects.requireNonNull(mode, "mode");
    }

    /** The spatial rank, 1 to 3. */
    public int rank() {
        return axes.length;
    }

    /** The axes, outermost first (a copy). */
    @Override
    public Axis[] axes() {
        return axes.clone();
    }

    /** Depth, rows and columns: a lower rank's outer axes as one element pooled by a window of one. */
    public Axis[] axes3() {
        Axis[] a = {UNIT, UNIT, UNIT};
        System.arraycopy(axes, 0, a, 3 - axes.length, axes.length);
        return a;
    }

    /** Elements of one input plane (volume). */
    public long inputPlane() {
        long s = 1;
        for (Axis a : axes) {
            s *= a.in();
        }
        return s;
    }

    /** Elements of one output plane (volume). */
    public long outputPlane() {
        long s = 1;
        for (Axis a : axes) {
            s *= a.out();
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlanarGeometry g && g.planes == planes && Arrays.equals(g.axes, axes) && g.mode == mode
                && Double.compare(g.p, p) == 0 && g.countIncludePad == countIncludePad;
    }

    @Override
    public int hashCode() {
        return (31 * (31 * planes + Arrays.hashCode(axes)) + mode.hashCode()) * 31 + Boolean.hashCode(countIncludePad);
    }

    @Override
    public String toString() {
        return mode.word() + " over " + planes + " planes, axes " + Arrays.toString(axes)
                + (mode == PoolMode.LP ? ", p=" + p : "") + (countIncludePad ? ", count_include_pad" : "");
    }
}
