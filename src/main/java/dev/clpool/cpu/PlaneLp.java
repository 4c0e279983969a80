package dev.clpool.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed LP pooling of channels-first planes, {@code (Σ |x|^p)^(1/p)} in double, over a range of
 * output rows (numbered plane by plane, depth then row, as {@link PlanePlan#outputRow}).
 *
 * <p>For {@code p ≤} {@link LpWindows#DIRECT_MAX_P} the powers are summed unscaled, as
 * {@link LpWindows} does for channels-last tensors (a float's {@code |x|^p} is within double's
 * normal range), band by band of output rows ({@link #direct}: the input raised to the power once,
 * zero-padded, then separable sums in loops along W). On FaceNet's L2 3×3 s1 p1 over 32×256×28×28,
 * one thread: about 30 ms of CPU time, as the channels-last layout takes (a row at a time, with
 * short loops along one row, took 90 ms). A larger p scales each window by its largest magnitude
 * first, {@code amax · (Σ (|x|/amax)^p)^(1/p)}, so that the powers cannot overflow. NaN in a window gives NaN, ∞ gives ∞, all zeros +0.
 *
 * <p>Where the JVM runs the Vector API kernels and a row fills a float vector
 * ({@link VectorSupport#fitsRow}), the unscaled path's sums, and the narrowing of its roots to
 * float with NaN made canonical, run in {@link VecPlaneLp}'s double lanes with the same bits: the
 * scalar loops add rows shifted by a tap's offset, which C2 does not vectorise (FaceNet, one
 * thread: 27 → 17 ms of CPU time).
 */
final class PlaneLp {
    private final PlanePlan g;
    private final double p;
    /** Whether the sums run in {@link VecPlaneLp}'s lanes. */
    private final boolean vector;

    /** Padded input rows one output row's window spans: (kh − 1)·dh + 1. */
    private final int reachH;
    /** Padded input columns one output's window spans: (kw − 1)·dw + 1. */
    private final int reachW;
    /** Row length of the padded blocks: every output's window lies inside it, ceil mode's overhang included. */
    private final int pitch;

    PlaneLp(PlanePlan g, double p, boolean vector) {
        this.g = g;
        this.p = p;
        this.vector = vector;
        reachH = (g.h.window() - 1) * g.h.dilation() + 1;
        reachW = (g.w.window() - 1) * g.w.dilation() + 1;
        pitch = Math.max(g.w.in() + g.w.padBegin() + g.w.padEnd(), (g.w.out() - 1) * g.w.stride() + reachW);
    }

    /** Output rows in all: planes × output depth × output height. */
    int rows() {
        return Math.toIntExact((long) g.planes * g.d.out() * g.h.out());
    }

    /** Elements visited per output row (for {@link CpuBackend#chunks}). */
    long workPerRow() {
        return (long) g.w.out() * g.d.window() * g.h.window() * g.w.window();
    }

    /** Output rows {@code [from, to)}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        int oh = g.h.out();
        int ow = g.w.out();
        for (int r = from; r < to; ) {
            int slab = r / oh;
            int plane = slab / g.d.out();
            int oz = slab % g.d.out();
            int oy0 = r % oh;
            int oy1 = Math.min(oh, Math.min(oy0 + BAND, oy0 + to - r));
            if (p <= LpWindows.DIRECT_MAX_P) {
                direct(src, dst, plane, oz, oy0, oy1, s);
            } else {
                float[] row = s.floats(1, ow);
                for (int oy = oy0; oy < oy1; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        row[ox] = scaled(src, plane, oz, oy, ox);
                    }
                    dst.put(g.outputRow(plane, oz, oy), row, 0, ow);
                }
            }
            r += oy1 - oy0;
        }
    }

    /** Output rows per band of {@link #direct}: the input rows they need are raised to the power once. */
    private static final int BAND = 32;

    /**
     * Output rows {@code [oy0, oy1)} of one plane and output depth, the powers summed unscaled. The
     * band's input rows are raised to the power once (summed over the depth taps) into a zero-padded
     * block whose rows are {@link #pitch} long: padding adds nothing to an LP sum, so every window
     * then sums all its taps. The window's rows are added into column sums, and the columns along
     * the rows, tap by tap: with stride 1 each tap is one loop over the whole band, which C2
     * vectorises (the columns past each row's outputs hold sums nobody reads).
     */
    private void direct(FloatBuffer src, FloatBuffer dst, int plane, int oz, int oy0, int oy1, Scratch s) {
        int rows = oy1 - oy0;
        int r0 = oy0 * g.h.stride();
        int padded = (rows - 1) * g.h.stride() + reachH;
        int vLen = rows * pitch;
        double[] powers = s.doubles(0, padded * pitch);
        double[] columns = s.doubles(1, vLen + reachW);
        double[] sums = s.doubles(2, vLen);
        Arrays.fill(powers, 0, padded * pitch, 0.0);
        int w = g.w.in();
        float[] staged = s.floats(0, w);
        for (int r = 0; r < padded; r++) {
            int y = r0 + r - g.h.padBegin();
            if (y < 0 || y >= g.h.in()) {
                continue;
            }
            for (int jz = g.d.firstTap(oz); jz < g.d.endTap(oz); jz++) {
                int z = (int) g.d.start(oz) + jz * g.d.dilation();
                src.get(g.inputRow(plane, z, y), staged, 0, w);
                LpWindows.addPowers(p, staged, powers, r * pitch + g.w.padBegin(), w);
            }
        }
        int sw = g.w.stride();
        int ow = g.w.out();
        if (vector) {
            // The same sums in double lanes (VecPlaneLp); the columns past the last row read as zeros.
            VecPlaneLp.down(powers, rows, pitch, g.h.stride() * pitch, g.h.window(), g.h.dilation() * pitch, columns);
            Arrays.fill(columns, vLen, vLen + reachW, 0.0);
            if (sw == 1) {
                VecPlaneLp.across(columns, vLen, g.w.window(), g.w.dilation(), sums);
            } else {
                acrossStrided(columns, sums, rows, ow, sw, vLen);
            }
            finish(dst, sums, rows, ow, plane, oz, oy0, s);
            return;
        }
        // Column sums over the window's rows, row by row at the blocks' pitch (zeros past the last row).
        Arrays.fill(columns, 0, vLen + reachW, 0.0);
        for (int jy = 0; jy < g.h.window(); jy++) {
            int from = jy * g.h.dilation() * pitch;
            if (g.h.stride() == 1) {
                addShifted(columns, 0, powers, from, vLen);
            } else {
                for (int i = 0; i < rows; i++) {
                    addShifted(columns, i * pitch, powers, from + i * g.h.stride() * pitch, pitch);
                }
            }
        }
        // Along the rows: sums[i·pitch + ox] over the window's columns.
        if (sw == 1) {
            Arrays.fill(sums, 0, vLen, 0.0);
            for (int jx = 0; jx < g.w.window(); jx++) {
                addShifted(sums, 0, columns, jx * g.w.dilation(), vLen);
            }
        } else {
            acrossStrided(columns, sums, rows, ow, sw, vLen);
        }
        finish(dst, sums, rows, ow, plane, oz, oy0, s);
    }

    /** The horizontal pass at a column stride above 1: {@code sums[i·pitch + ox]} over the window's columns. */
    private void acrossStrided(double[] columns, double[] sums, int rows, int ow, int sw, int vLen) {
        Arrays.fill(sums, 0, vLen, 0.0);
        for (int jx = 0; jx < g.w.window(); jx++) {
            int from = jx * g.w.dilation();
            for (int i = 0; i < rows; i++) {
                for (int ox = 0; ox < ow; ox++) {
                    sums[i * pitch + ox] += columns[i * pitch + ox * sw + from];
                }
            }
        }
    }

    /** Takes the roots of a band's sums ({@code rows} rows at {@link #pitch}) and writes its outputs. */
    private void finish(FloatBuffer dst, double[] sums, int rows, int ow, int plane, int oz, int oy0, Scratch s) {
        float[] out = s.floats(1, rows * ow + (vector ? VecPlaneMax.lanes() : 0));
        if (vector && ow >= VecPlaneLp.lanes()) {
            LpWindows.roots(p, sums, 0, rows * pitch);
            for (int i = 0; i < rows; i++) {
                VecPlaneLp.narrow(sums, i * pitch, out, i * ow, ow);
            }
            dst.put(g.outputRow(plane, oz, oy0), out, 0, rows * ow);
            return;
        }
        for (int i = 0; i < rows; i++) {
            LpWindows.roots(p, sums, i * pitch, ow);
            for (int ox = 0; ox < ow; ox++) {
                out[i * ow + ox] = CpuBackend.canonicalNaN((float) sums[i * pitch + ox]);
            }
        }
        dst.put(g.outputRow(plane, oz, oy0), out, 0, rows * ow);
    }

    /** {@code into[at + i] += from[shift + i]} for {@code i < len}. */
    private static void addShifted(double[] into, int at, double[] from, int shift, int len) {
        for (int i = 0; i < len; i++) {
            into[at + i] += from[shift + i];
        }
    }

    /**
     * One window, scaled: the largest |x| first (so that the scaled powers never overflow), then
     * the sum of the scaled powers in double, and {@link LpWindows#scaledResult}.
     */
    private float scaled(FloatBuffer src, int plane, int oz, int oy, int ox) {
        float amax = 0f;
        boolean nan = false;
        for (int pass = 0; pass < 2; pass++) {
            double sum = 0;
            for (int jz = g.d.firstTap(oz); jz < g.d.endTap(oz); jz++) {
                int z = (int) g.d.start(oz) + jz * g.d.dilation();
                for (int jy = g.h.firstTap(oy); jy < g.h.endTap(oy); jy++) {
                    int y = (int) g.h.start(oy) + jy * g.h.dilation();
                    int base = g.inputRow(plane, z, y) + (int) g.w.start(ox);
                    for (int jx = g.w.firstTap(ox); jx < g.w.endTap(ox); jx++) {
                        float a = Math.abs(src.get(base + jx * g.w.dilation()));
                        if (pass == 0) {
                            nan |= a != a;
                            amax = Math.max(amax, a);
                        } else {
                            sum += Math.pow(a / (double) amax, p);
                        }
                    }
                }
            }
            // A NaN, or an amax of 0 or ∞, decides the result without the second pass.
            if (pass == 1 || nan || amax == 0f || amax == Float.POSITIVE_INFINITY) {
                return LpWindows.scaledResult(p, amax, nan, sum);
            }
        }
        throw new AssertionError();
    }
}
