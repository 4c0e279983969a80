package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed LP pooling of channels-last tensors, {@code (Σ |x|^p)^(1/p)} over each window's input
 * elements, in double, over a range of output rows.
 *
 * <p>For {@code 0 < p ≤ 4} ({@link #DIRECT_MAX_P}; the common p = 2 of L2 pooling among them) the
 * powers are summed as they are: a float's {@code |x|^p} lies within double's normal range (at most
 * 2^512, at least 2^-596), so neither overflow nor underflow can occur before 2^500 terms. For
 * each output row, the window's input rows are raised to the power and added into one row of
 * column sums (p = 1, 2, 3 and 4 by multiplication, exact or nearly so; other p through
 * {@link Math#pow}), then each output adds its window's columns along the channels: loops C2
 * vectorises. NaN anywhere in a window gives NaN (canonical), an infinity gives ∞, all zeros +0,
 * as the power sums themselves do. On FaceNet's L2 3×3 s1 p1 over 32×28×28×256, one thread: about
 * 30 ms of CPU time, 10 to 15 times less than the scaled path below, the only one before.
 *
 * <p>A larger p could overflow double ({@code (2^128)^p}), so there the general path scales by the
 * window's largest magnitude first, per output element: {@code amax · (Σ (|x|/amax)^p)^(1/p)}, with
 * {@code Math.pow} per tap.
 */
final class LpWindows {
    /** The largest exponent whose powers are summed without scaling. */
    static final double DIRECT_MAX_P = 4;

    private final Shape is;
    private final Shape os;
    private final int c;
    private final double p;
    private final Taps rows;
    private final Taps cols;

    LpWindows(PoolGeometry g) {
        if (g.mode() != PoolMode.LP) {
            throw new IllegalArgumentException("lp windows run lp, not " + g.mode().word());
        }
        is = g.input();
        os = g.output();
        c = is.c();
        p = g.spec().p();
        rows = new Taps(g.rows());
        cols = new Taps(g.cols());
    }

    /** Elements visited per output row (for {@link CpuBackend#chunks}). */
    long workPerRow() {
        return (long) os.w() * c * Math.max(1, rows.maxTaps) * Math.max(1, cols.maxTaps);
    }

    /** Output rows {@code [from, to)}, numbered {@code n · H' + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        for (int r = from; r < to; r++) {
            int n = r / os.h();
            int oy = r % os.h();
            if (p <= DIRECT_MAX_P) {
                direct(src, dst, n, oy, s);
            } else {
                scaled(src, dst, n, oy);
            }
        }
    }

    /**
     * One output row, the powers summed unscaled (p ≤ {@link #DIRECT_MAX_P}): the window's input rows
     * first, into one row of column sums ({@code kh} adds per input element, fused with the power), then
     * along the row ({@code kw} adds per output): every loop runs along the channels and vectorises.
     */
    private void direct(FloatBuffer src, FloatBuffer dst, int n, int oy, Scratch s) {
        int rowLen = is.w() * c;
        int outLen = os.w() * c;
        double[] columns = s.doubles(0, rowLen);
        double[] acc = s.doubles(1, outLen);
        float[] staged = s.floats(0, rowLen);
        Arrays.fill(columns, 0, rowLen, 0.0);
        Arrays.fill(acc, 0, outLen, 0.0);
        for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
            int y = rows.start[oy] + jy * rows.dilation;
            src.get(Math.toIntExact(is.offset(n, y, 0, 0)), staged, 0, rowLen);
            addPowers(p, staged, columns, 0, rowLen);
        }
        for (int ox = 0; ox < cols.count; ox++) {
            int o = ox * c;
            for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                int at = (cols.start[ox] + jx * cols.dilation) * c;
                for (int ch = 0; ch < c; ch++) {
                    acc[o + ch] += columns[at + ch];
                }
            }
        }
        roots(p, acc, outLen);
        float[] out = s.floats(1, outLen);
        for (int i = 0; i < outLen; i++) {
            out[i] = (float) acc[i];
        }
        for (int i = 0; i < outLen; i++) {
            if (out[i] != out[i]) {
                out[i] = Float.NaN; // the canonical NaN, as every sum's NaN (CpuBackend#canonicalNaN)
            }
        }
        dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), out, 0, outLen);
    }

    /** {@code sums[i] = sums[i]^(1/p)} for {@code i < len}, in separate loops per p that C2 vectorises. */
    static void roots(double p, double[] sums, int len) {
        roots(p, sums, 0, len);
    }

    /** {@code sums[i] = sums[i]^(1/p)} for {@code from <= i < from + len}. */
    static void roots(double p, double[] sums, int from, int len) {
        if (p == 2) {
            for (int i = from; i < from + len; i++) {
                sums[i] = Math.sqrt(sums[i]);
            }
        } else if (p != 1) {
            for (int i = from; i < from + len; i++) {
                sums[i] = Math.pow(sums[i], 1.0 / p);
            }
        }
    }

    /**
     * The scaled path's result of one window: NaN if it holds a NaN, its largest magnitude itself
     * where that is 0 or ∞, else {@code amax · sum^(1/p)} for {@code sum} = Σ (|x|/amax)^p.
     */
    static float scaledResult(double p, float amax, boolean nan, double sum) {
        if (nan) {
            return Float.NaN;
        }
        if (amax == 0f || amax == Float.POSITIVE_INFINITY) {
            return amax;
        }
        return (float) (amax * Math.pow(sum, 1.0 / p));
    }

    /** {@code into[at + i] += |from[i]|^p} for {@code i < len}. */
    static void addPowers(double p, float[] from, double[] into, int at, int len) {
        if (p == 2) {
            for (int i = 0; i < len; i++) {
                double x = from[i];
                into[at + i] += x * x;
            }
        } else if (p == 1) {
            for (int i = 0; i < len; i++) {
                into[at + i] += Math.abs((double) from[i]);
            }
        } else if (p == 3) {
            for (int i = 0; i < len; i++) {
                double a = Math.abs((double) from[i]);
                into[at + i] += a * a * a;
            }
        } else if (p == 4) {
            for (int i = 0; i < len; i++) {
                double x = from[i];
                double q = x * x;
                into[at + i] += q * q;
            }
        } else {
            for (int i = 0; i < len; i++) {
                into[at + i] += Math.pow(Math.abs((double) from[i]), p);
            }
        }
    }

    /** One output row, scaled by each window's largest magnitude (p > {@link #DIRECT_MAX_P}). */
    private void scaled(FloatBuffer src, FloatBuffer dst, int n, int oy) {
        float[] amax = new float[c];
        boolean[] nan = new boolean[c];
        double[] sum = new double[c];
        int outBase = Math.toIntExact(os.offset(n, oy, 0, 0));
        for (int ox = 0; ox < cols.count; ox++) {
            Arrays.fill(amax, 0f);
            Arrays.fill(nan, false);
            Arrays.fill(sum, 0.0);
            // Pass 1: the largest |x| per channel, so pass 2 can scale and never overflow.
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int off = Math.toIntExact(is.offset(n, y, cols.start[ox] + jx * cols.dilation, 0));
                    for (int ch = 0; ch < c; ch++) {
                        float a = Math.abs(src.get(off + ch));
                        nan[ch] |= a != a;
                        amax[ch] = Math.max(amax[ch], a);
                    }
                }
            }
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int off = Math.toIntExact(is.offset(n, y, cols.start[ox] + jx * cols.dilation, 0));
                    for (int ch = 0; ch < c; ch++) {
                        if (amax[ch] > 0 && amax[ch] < Float.POSITIVE_INFINITY) {
                            sum[ch] += Math.pow(Math.abs(src.get(off + ch)) / (double) amax[ch], p);
                        }
                    }
                }
            }
            int o = outBase + ox * c;
            for (int ch = 0; ch < c; ch++) {
                dst.put(o + ch, scaledResult(p, amax[ch], nan[ch], sum[ch]));
            }
        }
    }

    /** Per output position of one axis: its window's first input position and its taps inside the input. */
    private static final class Taps {
        final int count;
        final int dilation;
        final int[] start;
        final int[] first;
        final int[] end;
        final int maxTaps;

        Taps(Axis a) {
            count = a.out();
            dilation = a.dilation();
            start = new int[count];
            first = new int[count];
            end = new int[count];
            int most = 0;
            for (int o = 0; o < count; o++) {
                start[o] = (int) a.start(o);
                first[o] = a.firstTap(o);
                end[o] = a.endTap(o);
                most = Math.max(most, end[o] - first[o]);
            }
            maxTaps = most;
        }
    }
}
