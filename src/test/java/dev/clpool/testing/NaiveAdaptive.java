package dev.clpool.testing;

import dev.clpool.PoolMode;
import dev.clpool.Shape;

/**
 * Adaptive avg and max written plainly from SEMANTICS.md ("adaptive avg / adaptive max"), sharing
 * no code with the library: output {@code i} covers input rows {@code floor(i*H/OH)} to
 * {@code ceil((i+1)*H/OH) - 1} (here with Math.floor / Math.ceil in double), columns alike; avg in
 * float64 over the region's elements; max the largest value, or the first NaN in scan order.
 */
public final class NaiveAdaptive {
    private NaiveAdaptive() {
    }

    /** First input position of output {@code i}, from the formula in SEMANTICS.md. */
    public static int first(int i, int in, int out) {
        return (int) Math.floor((double) i * in / out);
    }

    /** Last input position (inclusive) of output {@code i}. */
    public static int last(int i, int in, int out) {
        return (int) Math.ceil((double) (i + 1) * in / out) - 1;
    }

    /** The adaptive output (N, oh, ow, C) as doubles; max gives the exact float values widened. */
    public static double[] pool(float[] x, Shape s, PoolMode mode, int oh, int ow) {
        int h = s.h();
        int w = s.w();
        int c = s.c();
        double[] out = new double[s.n() * oh * ow * c];
        int i = 0;
        for (int n = 0; n < s.n(); n++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double sum = 0;
                        int count = 0;
                        double best = Double.NEGATIVE_INFINITY;
                        Float firstNan = null;
                        for (int y = first(oy, h, oh); y <= last(oy, h, oh); y++) {
                            for (int xx = first(ox, w, ow); xx <= last(ox, w, ow); xx++) {
                                float v = x[((n * h + y) * w + xx) * c + ch];
                                count++;
                                sum += v;
                                if (Float.isNaN(v) && firstNan == null) {
                                    firstNan = v;
                                }
                                if (v > best) {
                                    best = v;
                                }
                            }
                        }
                        if (count == 0) {
                            throw new AssertionError("empty adaptive region at " + oy + "," + ox);
                        }
                        if (mode == PoolMode.MAX) {
                            out[i++] = firstNan != null ? firstNan : best;
                        } else {
                            out[i++] = sum / count;
                        }
                    }
                }
            }
        }
        return out;
    }
}
