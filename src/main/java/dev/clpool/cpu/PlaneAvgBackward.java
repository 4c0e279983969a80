package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * {@link PlaneBackward}'s average in certified float sums, in Vector API lanes along the plane's
 * rows ({@link VecPlaneAvgBackward}) where this JVM runs them and a row fills a vector
 * ({@link VectorSupport#fitsRow}). The one-channel twin of {@link AvgBackwardRows}, whose channel
 * lanes a plane does not have, with the separable sums in the other order: each output row's
 * quotients {@code fl(dy / divisor)} (the divisor rounded to float, as there) are spread across
 * the input columns first, once per output row instead of once per input row that reads it, then
 * summed down.
 *
 * <p>The error bound is {@link AvgBackwardRows}': every quotient and every addition errs by at
 * most u·|its result| (u = 2^-24), all of them summed into B (in float: at most four additions per
 * term, so the factor 1 + γ(4·terms)); a gradient is certified when u·B·(1 + γ) is at most
 * {@link AvgWindows#TOLERANCE}·max(1, |gradient|). A band with a gradient that fails (cancellation,
 * an infinity or NaN, overflow) is computed again by {@link PlaneBackward}'s double sums, which
 * give the general path's bits.
 */
final class PlaneAvgBackward {
    private final Shape is;
    private final Shape os;
    private final CpuBackward.Inverse rows;
    /** Column taps per input column at most: the gather slots. */
    private final int slots;
    /** {@code columns[j*W + x]}: the j-th output column covering input column x, or OW (a zero) past its last. */
    private final int[] columns;
    /** Per output element of a plane, its divisor rounded to float. */
    private final float[] divisors;
    /** Whether every input row has at most one output row ({@link VecPlaneAvgBackward#single}). */
    private final boolean single;
    /** The bound's factor per unit of B, in units of the tolerance (as {@link AvgBackwardRows}). */
    private final float perB;

    PlaneAvgBackward(PoolGeometry g, CpuBackward.Inverse rows, double[] rowDiv, double[] colDiv) {
        this.is = g.input();
        this.os = g.output();
        this.rows = rows;
        CpuBackward.Inverse cols = new CpuBackward.Inverse(g.cols());
        int w = is.w();
        int most = 1;
        for (int x = 0; x < w; x++) {
            most = Math.max(most, cols.from[x + 1] - cols.from[x]);
        }
        slots = most;
        columns = new int[slots * w];
        Arrays.fill(columns, os.w());
        for (int x = 0; x < w; x++) {
            for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
                columns[(k - cols.from[x]) * w + x] = cols.outputs[k];
            }
        }
        divisors = new float[os.h() * os.w()];
        for (int oy = 0; oy < os.h(); oy++) {
            for (int ox = 0; ox < os.w(); ox++) {
                divisors[oy * os.w() + ox] = (float) (rowDiv[oy] * colDiv[ox]);
            }
        }
        int mostRows = 1;
        for (int y = 0; y < is.h(); y++) {
            mostRows = Math.max(mostRows, rows.from[y + 1] - rows.from[y]);
        }
        single = mostRows == 1;
        perB = (float) (0x1p-24 * (1 + CompensatedSum.gamma(4L * mostRows * slots)) / AvgWindows.TOLERANCE);
    }

    /**
     * Input rows {@code [y0, y1)} of plane {@code n}'s gradient, from {@code gradOut} into
     * {@code gradIn}; false if a gradient is not certified (the rows then hold no final values).
     */
    boolean band(Tensor gradOut, Tensor gradIn, int n, int y0, int y1) {
        long range = PlaneBackward.outputRows(rows, y0, y1);
        int lo = (int) (range >>> 32);
        int hi = Math.max(lo, (int) range);
        int ow = os.w();
        int w = is.w();
        int pitch = ow + 1;
        Scratch s = Scratch.get();
        float[] q = s.floats(1, (hi - lo) * pitch);
        float[] e = s.floats(2, (hi - lo) * w);
        float[] eb = s.floats(3, (hi - lo) * w);
        ByteBuffer dy = gradOut.buffer();
        int first = Math.toIntExact(os.offset(n, lo, 0, 0));
        for (int r = 0; r < hi - lo; r++) {
            VecPlaneAvgBackward.quotients(dy, first + r * ow, divisors, (lo + r) * ow, q, r * pitch, ow);
            q[r * pitch + ow] = 0f;
        }
        int at = Math.toIntExact(is.offset(n, y0, 0, 0) * Float.BYTES);
        if (single) {
            return VecPlaneAvgBackward.single(q, pitch, columns, slots, rows.from, rows.outputs, lo, y0, y1, w,
                    gradIn.buffer(), at, perB, s.floats(0, w));
        }
        VecPlaneAvgBackward.across(q, pitch, hi - lo, columns, slots, w, e, eb);
        return VecPlaneAvgBackward.down(e, eb, rows.from, rows.outputs, lo, y0, y1, w, gradIn.buffer(), at, perB,
                s.floats(0, w));
    }

    /** {@code q[to + i] = grad[from + i] / divisors[d + i]}, i < count: a loop C2 vectorises. */
    private void quotients(float[] grad, int from, int d, float[] q, int to, int count) {
        for (int i = 0; i < count; i++) {
            q[to + i] = grad[from + i] / divisors[d + i];
        }
    }
}
