package dev.clpool.cpu;

import java.nio.FloatBuffer;

/**
 * The exact fix-up shared by the max fast paths ({@link MaxWindows}, {@link MaxVanHerk}), which
 * reduce with {@link Math#max(float, float)} in whatever order suits them.
 *
 * <p>{@code Math.max} and clpool's rule (a later value replaces the maximum only if strictly
 * greater; the first NaN wins) give different bits only where the window holds a NaN (the rule
 * keeps the first NaN's payload) or where the maximum is zero and the window holds a −0: with
 * zeros of one sign only, both give that zero; {@code Math.max} gives +0 whenever the window holds
 * one, the rule gives the first zero in scan order, which can be −0 only if the window holds a −0.
 * So a row of results with a zero or NaN among them needs the element-by-element rule only if one
 * of its windows' input rows holds a NaN or a −0; that is tested once per input row (and cached),
 * as a vectorisable reduction min(1/x), which is −∞ for −0 (and for the tiniest negative
 * subnormals, which merely send a row to the exact path for nothing) and NaN for NaN.
 *
 * <p>Without this test every zero result went to the element-by-element rule: max 3×3 s2 over an
 * all-zero tensor ran 8× slower than over random data, and a 13×13 window twenty times slower.
 * One instance per column block of one thread.
 */
final class MaxExact {
    /**
     * A row whose zero-or-NaN results are at most 1/this of it takes the rule for those windows
     * directly, without testing its input rows: after a ReLU nearly every output row holds a zero
     * maximum or two (a window whose taps are all +0), and the test of each input row (a division
     * per element) took half the time of ResNet-50's stem max on ReLU'd data (16.4 ms against 10.3
     * for random data; 11.8 now). All-zero data still takes the test (about 1.5x random data).
     */
    static final int FEW = 64;

    private final WindowPlan p;
    private final int b0;
    private final int xs;
    private final int len;
    /** Per input row y: 1 + the batch item whose row y was tested, or 0. */
    private final int[] tested;
    /** Per input row y: whether row y of batch item tested[y]-1 holds a NaN or a −0 (in [xs, xe)). */
    private final boolean[] risky;
    /** Positions of a row's zero-or-NaN results, while they are few. */
    private int[] hits = new int[0];

    /** For output columns {@code [b0, b1)}. */
    MaxExact(WindowPlan p, int b0, int b1) {
        this.p = p;
        this.b0 = b0;
        xs = p.firstColumn(b0, b1);
        len = Math.max(0, p.endColumn(b0, b1) - xs) * p.c;
        tested = new int[p.in.h()];
        risky = new boolean[p.in.h()];
    }

    /**
     * Makes output row (n, oy) of this block exact: {@code acc} holds its {@code Math.max}
     * results, {@code least} the minimum of their magnitudes (zero or NaN where some result may
     * need the rule). {@code buf} is scratch of at least the block's input columns.
     */
    void fix(FloatBuffer src, float[] acc, float least, int n, int oy, int width, float[] buf) {
        if (least > 0) {
            return;
        }
        int few = width / FEW;
        if (hits.length <= few) {
            hits = new int[few + 1];
        }
        int k = 0;
        for (int i = 0; i < width && k <= few; i++) {
            float m = acc[i];
            if (!(m > 0 || m < 0)) {
                hits[k++] = i;
            }
        }
        if (k <= few) {
            for (int j = 0; j < k; j++) {
                int i = hits[j];
                acc[i] = exactMax(src, n, oy, b0 + i / p.c, i % p.c);
            }
            return;
        }
        if (!risky(src, n, oy, buf)) {
            return;
        }
        for (int i = 0; i < width; i++) {
            float m = acc[i];
            if (!(m > 0 || m < 0)) {
                acc[i] = exactMax(src, n, oy, b0 + i / p.c, i % p.c);
            }
        }
    }

    /** The first output column of this instance's block. */
    int from() {
        return b0;
    }

    /** Floats of scratch {@link #fix} needs. */
    int scratch() {
        return len;
    }

    private boolean risky(FloatBuffer src, int n, int oy, float[] buf) {
        boolean any = false;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            int y = p.inputRow(oy, jy);
            if (tested[y] != n + 1) {
                tested[y] = n + 1;
                src.get(Math.toIntExact(p.in.offset(n, y, xs, 0)), buf, 0, len);
                risky[y] = holdsNegativeZeroOrNaN(buf, len);
            }
            any |= risky[y];
        }
        return any;
    }

    /**
     * Whether {@code buf[0, len)} may hold a −0 or a NaN: min(1/x) is −∞ for −0 (and for the
     * tiniest negative subnormals: a false alarm, never a miss) and NaN for NaN. A reduction C2
     * vectorises (a plain min(x) does not vectorise as well here, measured). Where the JVM runs
     * the Vector API, {@link VecPlaneMax#minusZeroOrNaN} tests the bits instead (exactly, at a
     * fourth of the cost).
     */
    static boolean holdsNegativeZeroOrNaN(float[] buf, int len) {
        return VectorSupport.ENABLED ? VecPlaneMax.minusZeroOrNaN(buf, len) : byDivision(buf, len);
    }

    /** The scalar test of {@link #holdsNegativeZeroOrNaN}: min(1/x). */
    static boolean byDivision(float[] buf, int len) {
        float m = Float.POSITIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            m = Math.min(m, 1f / buf[i]);
        }
        return !(m > Float.NEGATIVE_INFINITY);
    }

    /** clpool's max over one window in scan order: the reference rule, element by element. */
    private float exactMax(FloatBuffer src, int n, int oy, int ox, int ch) {
        float m = Float.NEGATIVE_INFINITY;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                m = CpuBackend.max(m, src.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), p.inputColumn(ox, jx), ch))));
            }
        }
        return m;
    }
}
