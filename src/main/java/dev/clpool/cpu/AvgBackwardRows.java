package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Average backward of channels-last tensors with many channels, in certified float sums: the
 * separable scheme of {@link CpuBackward}'s general path (each input row sums its output rows'
 * gradients, each divided by its divisor, per output column; then each input column sums the
 * output columns whose windows hold it), in float with a running error bound beside each sum
 * instead of in double, whose float→double widening JDK 17 does not vectorise. Each column term is
 * copied to an array of its own, so that every loop has one index expression.
 *
 * <p>Every quotient {@code fl(dy / divisor)} and every addition errs by at most u·|its result|
 * (u = 2^-24; a subnormal quotient errs by at most 2^-150, far below the tolerance's absolute
 * floor of 1e-6), so a gradient is within u·B of the exact sum of quotients, B the sum of those
 * magnitudes (summed in float, at most four additions per term: covered by a factor
 * 1 + γ(4·terms)). A result is certified when
 * u·B·(1 + γ) is at most {@link AvgWindows#TOLERANCE}·max(1, |result|); the check is an
 * element-wise maximum read once per task (a group of input rows), and a task with a result that
 * fails (cancellation, an infinity or NaN, overflow) is computed again, each failing result in
 * double in the general path's order.
 */
final class AvgBackwardRows {
    /** Input elements a task should cover at least (input rows are grouped up to it). */
    private static final long TASK_WORK = 1 << 15;

    private final Shape is;
    private final Shape os;
    private final CpuBackward.Inverse rows;
    private final CpuBackward.Inverse cols;
    private final double[] rowDiv;
    private final double[] colDiv;
    /** The bound's factor per unit of B, in units of the tolerance (as AvgWindows' boundPerB, without the divisor). */
    private final float perB;

    AvgBackwardRows(PoolGeometry g, CpuBackward.Inverse rows, CpuBackward.Inverse cols) {
        this.is = g.input();
        this.os = g.output();
        this.rows = rows;
        this.cols = cols;
        this.rowDiv = CpuBackward.divisors(g.rows(), g.spec().countIncludePad());
        this.colDiv = CpuBackward.divisors(g.cols(), g.spec().countIncludePad());
        long terms = (long) most(rows) * most(cols);
        this.perB = (float) (0x1p-24 * (1 + CompensatedSum.gamma(4 * terms)) / AvgWindows.TOLERANCE);
    }

    /** Whether this path pays: enough channels to fill vector lanes (with one, the plane path runs). */
    static boolean pays(Shape is) {
        return is.c() >= 16;
    }

    private static int most(CpuBackward.Inverse a) {
        int m = 0;
        for (int p = 0; p + 1 < a.from.length; p++) {
            m = Math.max(m, a.from[p + 1] - a.from[p]);
        }
        return m;
    }

    /**
     * The gradient of float32 tensor {@code gradOut} into {@code gradIn}: in Vector API lanes
     * ({@link VecAvgBackward}) where this JVM runs them and the channels fill a vector, each row
     * that fails its certificate computed again here (checking each result); else as
     * {@link #run(FloatBuffer, FloatBuffer, CpuBackward.Parallel)}.
     */
    void run(Tensor gradOut, Tensor gradIn, CpuBackward.Parallel parallel) {
        if (!VectorSupport.fits(is.c())) {
            run(gradOut.floats(), gradIn.floats(), parallel);
            return;
        }
        int rowLen = is.w() * is.c();
        int rowsTotal = is.n() * is.h();
        int group = (int) Math.max(1, Math.min(rowsTotal, TASK_WORK / Math.max(1L, rowLen)));
        ByteBuffer dy = gradOut.buffer();
        ByteBuffer dx = gradIn.buffer();
        parallel.run((rowsTotal + group - 1) / group, task -> {
            Scratch s = Scratch.get();
            int[] termFrom = s.ints(0, 1, is.w() + 1)[0];
            int[] termAt = s.ints(1, 1, is.w() * most(rows) * most(cols))[0];
            float[] termDiv = s.floats(10, is.w() * most(rows) * most(cols));
            for (int r = task * group; r < Math.min(rowsTotal, (task + 1) * group); r++) {
                int n = r / is.h();
                int y = r % is.h();
                terms(n, y, termFrom, termAt, termDiv);
                int rowAt = Math.toIntExact(is.offset(n, y, 0, 0) * Float.BYTES);
                if (!VecAvgBackward.row(dy, dx, is.c(), is.w(), rowAt, termFrom, termAt, termDiv, perB)) {
                    row(gradOut.floats(), gradIn.floats(), r, s.floats(7, rowLen), true, s);
                }
            }
        });
    }

    /**
     * The terms of input row (n, y) for {@link VecAvgBackward#row}: per input column, the byte
     * offsets in the output gradient of the outputs whose windows hold it, and their divisors.
     */
    private void terms(int n, int y, int[] termFrom, int[] termAt, float[] termDiv) {
        int t = 0;
        for (int x = 0; x < is.w(); x++) {
            termFrom[x] = t;
            for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
                int ox = cols.outputs[k];
                for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                    int oy = rows.outputs[i];
                    termAt[t] = Math.toIntExact(os.offset(n, oy, ox, 0) * Float.BYTES);
                    termDiv[t++] = (float) (rowDiv[oy] * colDiv[ox]);
                }
            }
        }
        termFrom[is.w()] = t;
    }

    void run(FloatBuffer dy, FloatBuffer dx, CpuBackward.Parallel parallel) {
        int rowLen = is.w() * is.c();
        AvgWindows.certifiedRows(is.n() * is.h(), rowLen, TASK_WORK, rowLen, parallel,
                (r, worst, checkEach, s) -> row(dy, dx, r, worst, checkEach, s));
    }

    /** Input row {@code r} (n·H + y) of the gradient. */
    private void row(FloatBuffer dy, FloatBuffer dx, int r, float[] worst, boolean checkEach, Scratch s) {
        int c = is.c();
        int n = r / is.h();
        int y = r % is.h();
        int width = os.w() * c;
        int rowLen = is.w() * c;
        float[] grad = s.floats(0, width);
        float[] rs = s.floats(1, width);
        float[] rb = s.floats(2, width);
        float[] tap = s.floats(3, c);
        float[] tapB = s.floats(4, c);
        float[] gs = s.floats(5, rowLen);
        float[] gb = s.floats(6, rowLen);
        Arrays.fill(rs, 0, width, 0f);
        Arrays.fill(rb, 0, width, 0f);
        for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
            int oy = rows.outputs[i];
            dy.get(Math.toIntExact(os.offset(n, oy, 0, 0)), grad, 0, width);
            for (int ox = 0; ox < os.w(); ox++) {
                float div = (float) (rowDiv[oy] * colDiv[ox]);
                for (int k = ox * c; k < (ox + 1) * c; k++) {
                    float t = grad[k] / div;
                    float sum = rs[k] + t;
                    rs[k] = sum;
                    rb[k] += Math.abs(t) + Math.abs(sum);
                }
            }
        }
        float[] sum = s.floats(8, c);
        float[] bound = s.floats(9, c);
        for (int x = 0; x < is.w(); x++) {
            Arrays.fill(sum, 0, c, 0f);
            Arrays.fill(bound, 0, c, 0f);
            for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
                int v = cols.outputs[k] * c;
                System.arraycopy(rs, v, tap, 0, c);
                System.arraycopy(rb, v, tapB, 0, c);
                for (int ch = 0; ch < c; ch++) {
                    float t = sum[ch] + tap[ch];
                    sum[ch] = t;
                    bound[ch] += tapB[ch] + Math.abs(t);
                }
            }
            System.arraycopy(sum, 0, gs, x * c, c);
            System.arraycopy(bound, 0, gb, x * c, c);
        }
        for (int i = 0; i < rowLen; i++) {
            worst[i] = Math.max(worst[i], gb[i] * perB - Math.max(1f, Math.abs(gs[i])));
        }
        if (checkEach) {
            for (int i = 0; i < rowLen; i++) {
                if (!AvgWindows.certified(gb[i], perB, gs[i])) {
                    gs[i] = exact(dy, n, y, i / c, i % c);
                }
            }
        }
        dx.put(Math.toIntExact(is.offset(n, y, 0, 0)), gs, 0, rowLen);
    }

    /** Input element (n, y, x, ch)'s gradient in double, in the general path's order, rounded once. */
    private float exact(FloatBuffer dy, int n, int y, int x, int ch) {
        double total = 0;
        for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
            int ox = cols.outputs[k];
            double column = 0;
            for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                int oy = rows.outputs[i];
                column += dy.get(Math.toIntExact(os.offset(n, oy, ox, ch))) / (rowDiv[oy] * colDiv[ox]);
            }
            total += column;
        }
        return CpuBackend.canonicalNaN((float) total);
    }
}
