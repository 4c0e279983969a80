package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneAvgBackward}'s band of one plane in Vector API lanes along the plane's rows (loaded
 * only where {@link VectorSupport#ENABLED}): first across, each output row's quotients spread
 * over the input columns their windows hold ({@code e[x] = Σ q[ox]} over the output columns
 * {@code ox} that cover {@code x}, a gather from the staged quotients per column tap), then down,
 * each input row summing the spread rows of the output rows that cover it, written straight into
 * the gradient's direct buffer. Float sums with the running bound B of {@link AvgBackwardRows}
 * (|quotient| + |partial sum| per term, then |spread bound| + |partial sum| per row) and its
 * certificate B·perB ≤ max(1, |gradient|); a band that fails is reported and computed again by the
 * caller in double.
 *
 * <p>Rows are taken a vector of columns at a time; a width that is not a multiple of the vector
 * length ends with a vector that overlaps the one before (it writes the same values again), so
 * rows need at least one vector of columns ({@link VectorSupport#fitsRow}).
 */
final class VecPlaneAvgBackward {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecPlaneAvgBackward() {
    }

    /**
     * Spreads {@code rows} output rows of quotients across: row r's quotients are
     * {@code q[r*pitch + ox]}, and {@code q[r*pitch + columns[j*w + x]]} is the j-th of
     * {@code slots} terms of input column x (an index past the row's quotients names a zero). The
     * sums and bounds of row r go to {@code e} and {@code eb} at {@code r*w}.
     */
    static void across(float[] q, int pitch, int rows, int[] columns, int slots, int w, float[] e, float[] eb) {
        int lanes = S.length();
        for (int r = 0; r < rows; r++) {
            for (int x = 0; x < w; x += lanes) {
                spread(q, r * pitch, columns, slots, w, Math.min(x, w - lanes), e, eb, r * w);
            }
        }
    }

    private static void spread(float[] q, int base, int[] columns, int slots, int w, int x, float[] e, float[] eb,
                               int to) {
        FloatVector s = FloatVector.zero(S);
        FloatVector b = s;
        for (int j = 0; j < slots; j++) {
            FloatVector t = FloatVector.fromArray(S, q, base, columns, j * w + x);
            s = s.add(t);
            b = b.add(t.abs().add(s.abs()));
        }
        s.intoArray(e, to + x);
        b.intoArray(eb, to + x);
    }

    /**
     * Input rows {@code [y0, y1)} of {@code w} columns into {@code dx} from byte {@code at} (row
     * y0): input row y sums the spread rows {@code outputs[from[y]] .. outputs[from[y+1]-1]}, each
     * at {@code (oy - lo)*w} of {@code e} and {@code eb}. Returns whether every gradient is
     * certified with {@code perB}; {@code worst} ({@code w} floats) keeps each column's largest
     * excess of the bound over max(1, |gradient|), checked once at the end.
     */
    static boolean down(float[] e, float[] eb, int[] from, int[] outputs, int lo, int y0, int y1, int w,
                        ByteBuffer dx, int at, float perB, float[] worst) {
        int lanes = S.length();
        Arrays.fill(worst, 0, w, 0f);
        for (int y = y0; y < y1; y++) {
            int row = at + (y - y0) * w * Float.BYTES;
            if (y > y0 && sameOutputs(from, outputs, y - 1, y)) {
                // The row above sums the same spread rows: the same gradients.
                copyRowAbove(dx, row, w);
                continue;
            }
            for (int x = 0; x < w; x += lanes) {
                int c = Math.min(x, w - lanes);
                column(e, eb, from[y], from[y + 1], outputs, lo, w, c, dx, row + c * Float.BYTES, perB, worst);
            }
        }
        return certified(worst, w);
    }

    /**
     * {@link #across} and {@link #down} in one pass where every input row has at most one output
     * row (windows that do not overlap down the plane, as DenseNet's 2×2 stride 2): input row y's
     * gradients are output row {@code outputs[from[y]]}'s quotients (row {@code r} at
     * {@code q[r*pitch]}, {@code r} counted from {@code lo}) spread across, written straight into
     * {@code dx}, with no spread rows stored; a row with the same output row as the one above is a
     * copy of it. Returns whether every gradient is certified, as {@link #down}.
     */
    static boolean single(float[] q, int pitch, int[] columns, int slots, int[] from, int[] outputs, int lo, int y0,
                          int y1, int w, ByteBuffer dx, int at, float perB, float[] worst) {
        int lanes = S.length();
        Arrays.fill(worst, 0, w, 0f);
        for (int y = y0; y < y1; y++) {
            int row = at + (y - y0) * w * Float.BYTES;
            if (y > y0 && sameOutputs(from, outputs, y - 1, y)) {
                copyRowAbove(dx, row, w);
                continue;
            }
            int base = from[y] < from[y + 1] ? (outputs[from[y]] - lo) * pitch : -1;
            for (int x = 0; x < w; x += lanes) {
                int c = Math.min(x, w - lanes);
                if (base < 0) {
                    FloatVector.zero(S).intoByteBuffer(dx, row + c * Float.BYTES, ORDER);
                } else {
                    spreadInto(q, base, columns, slots, w, c, dx, row + c * Float.BYTES, perB, worst);
                }
            }
        }
        return certified(worst, w);
    }

    private static void spreadInto(float[] q, int base, int[] columns, int slots, int w, int x, ByteBuffer dx, int to,
                                   float perB, float[] worst) {
        FloatVector s = FloatVector.zero(S);
        FloatVector b = s;
        for (int j = 0; j < slots; j++) {
            FloatVector t = FloatVector.fromArray(S, q, base, columns, j * w + x);
            s = s.add(t);
            b = b.add(t.abs().add(s.abs()));
        }
        s.intoByteBuffer(dx, to, ORDER);
        FloatVector.fromArray(S, worst, x).max(b.mul(perB).sub(s.abs().max(1f))).intoArray(worst, x);
    }

    /** Copies the row of {@code w} floats above byte {@code row} of {@code dx} to it. */
    private static void copyRowAbove(ByteBuffer dx, int row, int w) {
        for (int x = 0; x < w; x += S.length()) {
            int c = row + Math.min(x, w - S.length()) * Float.BYTES;
            FloatVector.fromByteBuffer(S, dx, c - w * Float.BYTES, ORDER).intoByteBuffer(dx, c, ORDER);
        }
    }

    /** Whether every column's excess in {@code worst} is at most 0 (a NaN is not). */
    private static boolean certified(float[] worst, int w) {
        boolean certified = true;
        for (int x = 0; x < w; x++) {
            // bound·perB − max(1, |s|) ≤ 0 fails for a NaN, and for an infinite gradient (∞ − ∞).
            certified &= worst[x] <= 0f;
        }
        return certified;
    }

    /** Whether input rows {@code a} and {@code b} have the same output rows. */
    private static boolean sameOutputs(int[] from, int[] outputs, int a, int b) {
        int n = from[a + 1] - from[a];
        if (n != from[b + 1] - from[b]) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (outputs[from[a] + i] != outputs[from[b] + i]) {
                return false;
            }
        }
        return true;
    }

    private static void column(float[] e, float[] eb, int i0, int i1, int[] outputs, int lo, int w, int x,
                               ByteBuffer dx, int to, float perB, float[] worst) {
        FloatVector s = FloatVector.zero(S);
        FloatVector b = s;
        for (int i = i0; i < i1; i++) {
            int at = (outputs[i] - lo) * w + x;
            s = s.add(FloatVector.fromArray(S, e, at));
            b = b.add(FloatVector.fromArray(S, eb, at).add(s.abs()));
        }
        s.intoByteBuffer(dx, to, ORDER);
        // A NaN excess is kept: max propagates it, and the check above fails on it.
        FloatVector.fromArray(S, worst, x).max(b.mul(perB).sub(s.abs().max(1f))).intoArray(worst, x);
    }

    /**
     * {@code q[to + i] = dy[from + i] / divisors[d + i]} for {@code i < count}, {@code dy} read at
     * float {@code from} of the gradient's bytes.
     */
    static void quotients(ByteBuffer dy, int from, float[] divisors, int d, float[] q, int to, int count) {
        int lanes = S.length();
        if (count < lanes) {
            for (int i = 0; i < count; i++) {
                q[to + i] = dy.getFloat((from + i) * Float.BYTES) / divisors[d + i];
            }
            return;
        }
        for (int i = 0; i < count; i += lanes) {
            int k = Math.min(i, count - lanes);
            FloatVector.fromByteBuffer(S, dy, (from + k) * Float.BYTES, ORDER)
                    .div(FloatVector.fromArray(S, divisors, d + k)).intoArray(q, to + k);
        }
    }
}
