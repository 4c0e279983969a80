package dev.clpool.testing;

import dev.clpool.IndexConvention;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;

/**
 * Max pooling with indices written plainly from SEMANTICS.md ("Indices") and sharing no code with
 * the library: for each window, if any input element is NaN the answer is the first NaN in scan
 * order (rows top to bottom, then columns left to right); otherwise it is the first element, in
 * scan order, equal to the window's maximum (so of -0.0 and +0.0 the first one). Padding is never
 * a candidate. The index formulas are spelled out here per convention.
 */
public final class NaiveArgmax {
    private NaiveArgmax() {
    }

    /** Values and indices of one pooling, both in NHWC output order. */
    public record Result(float[] values, long[] indices) { }

    public static Result pool(float[] x, Shape s, PoolSpec spec, IndexConvention convention) {
        NaiveReference.AxisPlan ph = NaiveReference.plan(s.h(), spec.windowH(), spec.strideH(), spec.dilationH(),
                spec.padding(), true, spec.ceilMode());
        NaiveReference.AxisPlan pw = NaiveReference.plan(s.w(), spec.windowW(), spec.strideW(), spec.dilationW(),
                spec.padding(), false, spec.ceilMode());
        int h = s.h();
        int w = s.w();
        int c = s.c();
        int size = s.n() * ph.out() * pw.out() * c;
        float[] values = new float[size];
        long[] indices = new long[size];
        int i = 0;
        for (int n = 0; n < s.n(); n++) {
            for (int oy = 0; oy < ph.out(); oy++) {
                for (int ox = 0; ox < pw.out(); ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        // Pass 1: the window's inputs in scan order; any NaN; the maximum.
                        int[] ys = new int[spec.windowH() * spec.windowW()];
                        int[] xs = new int[ys.length];
                        int taps = 0;
                        double max = Double.NEGATIVE_INFINITY;
                        int nan = -1;
                        for (int jy = 0; jy < spec.windowH(); jy++) {
                            int y = oy * spec.strideH() - ph.begin() + jy * spec.dilationH();
                            for (int jx = 0; jx < spec.windowW(); jx++) {
                                int xx = ox * spec.strideW() - pw.begin() + jx * spec.dilationW();
                                if (y < 0 || y >= h || xx < 0 || xx >= w) {
                                    continue;
                                }
                                float v = x[((n * h + y) * w + xx) * c + ch];
                                if (Float.isNaN(v) && nan < 0) {
                                    nan = taps;
                                }
                                if (v > max) {
                                    max = v;
                                }
                                ys[taps] = y;
                                xs[taps] = xx;
                                taps++;
                            }
                        }
                        if (taps == 0) {
                            throw new AssertionError("window covers no input: the spec should have been refused");
                        }
                        // Pass 2: the first NaN, else the first element equal to the maximum.
                        int pick = nan;
                        for (int t = 0; pick < 0 && t < taps; t++) {
                            if (x[((n * h + ys[t]) * w + xs[t]) * c + ch] == max) {
                                pick = t;
                            }
                        }
                        int y = ys[pick];
                        int xx = xs[pick];
                        values[i] = x[((n * h + y) * w + xx) * c + ch];
                        indices[i] = index(convention, s, n, y, xx, ch);
                        i++;
                    }
                }
            }
        }
        return new Result(values, indices);
    }

    /** SEMANTICS.md's default and the three other conventions of issue 4, written out. */
    public static long index(IndexConvention convention, Shape s, int n, int y, int x, int c) {
        long h = s.h();
        long w = s.w();
        long ch = s.c();
        switch (convention) {
            case NHWC: return y * w * ch + x * ch + c;                   // within the batch item's (H, W, C)
            case PYTORCH: return y * w + x;                              // within the (n, c) plane
            case ONNX: return n * ch * h * w + c * h * w + y * w + x;    // whole tensor, NCHW
            case ONNX_COLUMN_MAJOR: return n * ch * h * w + c * h * w + x * h + y;
            default: throw new AssertionError(convention);
        }
    }
}
