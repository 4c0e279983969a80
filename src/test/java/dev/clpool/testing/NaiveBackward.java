package dev.clpool.testing;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;

/**
 * A deliberately plain float64 backward of max and avg pooling, written from SEMANTICS.md's
 * "Backward" and "Indices" text and sharing no code with the library: one scatter loop per output
 * element, every window tap checked against the input bounds (the output sizes and padding come
 * from {@link NaiveReference#plan}, itself written from the text).
 *
 * <p>The argmax is found in two plain passes rather than with the library's running-maximum
 * rule: the first NaN in scan order if the window has one, else the first element equal to the
 * window's maximum (so -0.0 and +0.0 tie, and the first of them wins).
 */
public final class NaiveBackward {
    private NaiveBackward() {
    }

    /** dX as doubles (NHWC, the input's shape) for input {@code x} and output gradient {@code dy}. */
    public static double[] backward(float[] x, Shape shape, float[] dy, PoolSpec spec) {
        if (spec.mode() != PoolMode.MAX && spec.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("no backward for " + spec.mode());
        }
        NaiveReference.AxisPlan ph = NaiveReference.plan(shape.h(), spec.windowH(), spec.strideH(), spec.dilationH(),
                spec.padding(), true, spec.ceilMode());
        NaiveReference.AxisPlan pw = NaiveReference.plan(shape.w(), spec.windowW(), spec.strideW(), spec.dilationW(),
                spec.padding(), false, spec.ceilMode());
        int n = shape.n(), h = shape.h(), w = shape.w(), c = shape.c();
        if (dy.length != n * ph.out() * pw.out() * c) {
            throw new IllegalArgumentException("dy has " + dy.length + " elements");
        }
        double[] dx = new double[x.length];
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < ph.out(); oy++) {
                for (int ox = 0; ox < pw.out(); ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double g = dy[i++];
                        // The window's input elements, in scan order: rows, then columns.
                        int[] taps = new int[spec.windowH() * spec.windowW()];
                        int count = 0;
                        for (int jy = 0; jy < spec.windowH(); jy++) {
                            int y = oy * spec.strideH() - ph.begin() + jy * spec.dilationH();
                            for (int jx = 0; jx < spec.windowW(); jx++) {
                                int xx = ox * spec.strideW() - pw.begin() + jx * spec.dilationW();
                                if (y >= 0 && y < h && xx >= 0 && xx < w) {
                                    taps[count++] = ((b * h + y) * w + xx) * c + ch;
                                }
                            }
                        }
                        if (count == 0) {
                            throw new AssertionError("window covers no input: the spec should have been refused");
                        }
                        if (spec.mode() == PoolMode.MAX) {
                            dx[argmax(x, taps, count)] += g;
                        } else {
                            int div = count;
                            if (spec.countIncludePad()) {
                                int hs = oy * spec.strideH() - ph.begin();
                                int ws = ox * spec.strideW() - pw.begin();
                                // The window's taps inside the padded input (SEMANTICS.md: taps, not the span, with dilation).
                                div = NaiveReference.tapsBefore(hs, spec.windowH(), spec.dilationH(), h + ph.end())
                                        * NaiveReference.tapsBefore(ws, spec.windowW(), spec.dilationW(), w + pw.end());
                            }
                            for (int t = 0; t < count; t++) {
                                dx[taps[t]] += g / div;
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** The first NaN among x[taps[0..count)], else the first element equal to their maximum. */
    static int argmax(float[] x, int[] taps, int count) {
        for (int t = 0; t < count; t++) {
            if (Float.isNaN(x[taps[t]])) {
                return taps[t];
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < count; t++) {
            max = Math.max(max, x[taps[t]]);
        }
        for (int t = 0; t < count; t++) {
            if (x[taps[t]] == max) {
                return taps[t];
            }
        }
        throw new AssertionError("no element equals the maximum " + max);
    }
}
