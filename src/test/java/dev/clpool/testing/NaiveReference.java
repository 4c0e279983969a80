package dev.clpool.testing;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;

/**
 * A deliberately plain float64 implementation of SEMANTICS.md, written from the text and sharing
 * no code with the library (not even the output-size function): one loop per output element,
 * every window tap checked against the input bounds. Slow, obvious, and the yardstick.
 */
public final class NaiveReference {
    private NaiveReference() {
    }

    /** Resolved padding and output size of one axis, computed from SEMANTICS.md directly. */
    public record AxisPlan(int begin, int end, int out) { }

    public static AxisPlan plan(int in, int k, int s, int d, Padding padding, boolean top, boolean ceil) {
        int e = (k - 1) * d + 1;
        switch (padding.kind()) {
            case SAME:
            case SAME_LOWER: {
                int out = (int) Math.ceil(in / (double) s);
                int total = Math.max((out - 1) * s + e - in, 0);
                int begin = padding.kind() == Padding.Kind.SAME ? total / 2 : total - total / 2;
                return new AxisPlan(begin, total - begin, out);
            }
            default: {
                int begin = top ? padding.top() : padding.left();
                int end = top ? padding.bottom() : padding.right();
                double span = (in + begin + end - e) / (double) s;
                int out = (ceil ? (int) Math.ceil(span) : (int) Math.floor(span)) + 1;
                if (ceil && (long) (out - 1) * s >= in + begin) {
                    out--;
                }
                return new AxisPlan(begin, end, out);
            }
        }
    }

    /** The pooled output as doubles (NHWC), or max as the exact float values widened. */
    public static double[] pool(float[] x, Shape shape, PoolSpec spec) {
        AxisPlan ph = plan(shape.h(), spec.windowH(), spec.strideH(), spec.dilationH(), spec.padding(), true, spec.ceilMode());
        AxisPlan pw = plan(shape.w(), spec.windowW(), spec.strideW(), spec.dilationW(), spec.padding(), false, spec.ceilMode());
        int n = shape.n(), h = shape.h(), w = shape.w(), c = shape.c();
        double[] out = new double[n * ph.out() * pw.out() * c];
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < ph.out(); oy++) {
                for (int ox = 0; ox < pw.out(); ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double acc = spec.mode() == PoolMode.MAX ? Double.NEGATIVE_INFINITY : 0;
                        boolean nan = false;
                        int count = 0;
                        float first = Float.NEGATIVE_INFINITY;
                        for (int jy = 0; jy < spec.windowH(); jy++) {
                            int y = oy * spec.strideH() - ph.begin() + jy * spec.dilationH();
                            for (int jx = 0; jx < spec.windowW(); jx++) {
                                int xx = ox * spec.strideW() - pw.begin() + jx * spec.dilationW();
                                if (y < 0 || y >= h || xx < 0 || xx >= w) {
                                    continue;
                                }
                                float v = x[((b * h + y) * w + xx) * c + ch];
                                count++;
                                if (Float.isNaN(v)) {
                                    if (!nan) {
                                        first = v;
                                    }
                                    nan = true;
                                }
                                switch (spec.mode()) {
                                    case MAX: if (!nan && v > acc) { acc = v; } break;
                                    case AVG: acc += v; break;
                                    default: acc += Math.pow(Math.abs((double) v), spec.p()); break;
                                }
                            }
                        }
                        if (count == 0) {
                            throw new AssertionError("window covers no input: the spec should have been refused");
                        }
                        double r;
                        switch (spec.mode()) {
                            case MAX: r = nan ? first : acc; break;
                            case AVG: {
                                int div = count;
                                if (spec.countIncludePad()) {
                                    int hs = oy * spec.strideH() - ph.begin();
                                    int ws = ox * spec.strideW() - pw.begin();
                                    // The window's taps inside the padded input (SEMANTICS.md: taps, not the span, with dilation).
                                    div = tapsBefore(hs, spec.windowH(), spec.dilationH(), h + ph.end())
                                            * tapsBefore(ws, spec.windowW(), spec.dilationW(), w + pw.end());
                                }
                                r = acc / div;
                                break;
                            }
                            default: r = Math.pow(acc, 1.0 / spec.p()); break;
                        }
                        out[i++] = nan ? Double.NaN : r;
                        if (nan && spec.mode() == PoolMode.MAX) {
                            out[i - 1] = first;
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Global avg (sum in double / H·W) or max per (n, c). */
    public static double[] global(float[] x, Shape s, PoolMode mode) {
        double[] out = new double[s.n() * s.c()];
        for (int b = 0; b < s.n(); b++) {
            for (int ch = 0; ch < s.c(); ch++) {
                double acc = mode == PoolMode.MAX ? Double.NEGATIVE_INFINITY : 0;
                boolean nan = false;
                float first = 0;
                for (int p = 0; p < s.h() * s.w(); p++) {
                    float v = x[(b * s.h() * s.w() + p) * s.c() + ch];
                    if (Float.isNaN(v) && !nan) {
                        nan = true;
                        first = v;
                    }
                    if (mode == PoolMode.MAX) {
                        acc = v > acc ? v : acc;
                    } else {
                        acc += v;
                    }
                }
                double r = mode == PoolMode.MAX ? acc : acc / (s.h() * s.w());
                out[b * s.c() + ch] = nan ? (mode == PoolMode.MAX ? first : Double.NaN) : r;
            }
        }
        return out;
    }

    /**
     * The taps {@code start + j*dilation}, {@code j = 0..window-1}, that lie before {@code limit}
     * (the end of the trailing padding): one axis' factor of the count_include_pad divisor, counted
     * one tap at a time.
     */
    static int tapsBefore(int start, int window, int dilation, int limit) {
        int taps = 0;
        for (int j = 0; j < window; j++) {
            if (start + j * dilation < limit) {
                taps++;
            }
        }
        return taps;
    }
}
