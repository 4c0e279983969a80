package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneAvg}'s band passes in Vector API lanes along W (loaded only where
 * {@link VectorSupport#ENABLED}): the same float additions with the same running bound B beside
 * each sum (every rounded addition {@code t = fl(a + b)} adds |t| to B), so {@link PlaneAvg}'s
 * certificate and double fallback apply unchanged. The vertical pass ({@link #down}) folds up to
 * three input rows per pass in registers, loaded straight from the tensor's bytes (a bulk copy of
 * each band first streamed the input from memory before any work, which a load overlaps with the
 * additions: a fifth of Inception's average), and skips rows outside the input, whose zeros the scalar pass adds (its B is therefore never
 * smaller, and a sum of zeros may keep a −0 that the scalar pass turns into +0: the same value).
 * The horizontal pass ({@link #across}) reads the shifted columns with shifted loads instead of
 * copies. Column tails that do not fill a vector are summed by a scalar loop with the same
 * operations (a vector overlapping the one before would add its lanes twice).
 */
final class VecPlaneAvg {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecPlaneAvg() {
    }

    /**
     * The vertical pass of one band row: {@code acc[at + x]} = the float sum in order of the
     * {@code n >= 1} input rows at {@code in[rows[k]]}, {@code k < n}, at x, and {@code accB[at + x]}
     * its bound B (0 for one row), for {@code x < width}.
     */
    static void down(ByteBuffer in, int[] rows, int n, float[] acc, float[] accB, int at, int width) {
        int last = n - 1;
        fold(in, rows[0], rows[Math.min(1, last)], rows[Math.min(2, last)], Math.min(n, 3), acc, accB, at, width);
        for (int k = 3; k <= last; k += 2) {
            fold(in, rows[k], rows[Math.min(k + 1, last)], 0, Math.min(n - k, 2) + 3, acc, accB, at, width);
        }
    }

    /**
     * {@link #down} for {@code n} band rows in one call ({@link PlanePlan.DownBand}): row r's
     * {@code rows[count + r]} input rows from {@code in[rows[r]]}, {@code step} apart, into
     * {@code acc} and {@code accB} from {@code r * pitch + pad}.
     */
    static void down(ByteBuffer in, int[] rows, int count, int n, int step, float[] acc, float[] accB, int pitch, int pad,
                     int width) {
        for (int r = 0; r < n; r++) {
            int a = rows[r];
            int taps = rows[count + r];
            int at = r * pitch + pad;
            fold(in, a, a + Math.min(1, taps - 1) * step, a + Math.min(2, taps - 1) * step, Math.min(taps, 3), acc, accB,
                    at, width);
            for (int k = 3; k < taps; k += 2) {
                fold(in, a + k * step, a + Math.min(k + 1, taps - 1) * step, 0, Math.min(taps - k, 2) + 3, acc, accB, at,
                        width);
            }
        }
    }

    /**
     * One pass of {@link #down}: rows {@code a, b, c} summed in that order ({@code terms} 1 to 3 of
     * them), or, for {@code terms} 4 and 5, rows {@code a} (and {@code b}) added to the sums already
     * in {@code acc}.
     */
    private static void fold(ByteBuffer in, int a, int b, int c, int terms, float[] acc, float[] accB, int at, int width) {
        int lanes = S.length();
        // A first pass reads only the input: its last vector may overlap the one before.
        int end = terms <= 3 ? width : width - width % lanes;
        for (int x = 0; x < end; x += lanes) {
            if (x + lanes > end) {
                x = end - lanes;
            }
            FloatVector s;
            FloatVector bound;
            if (terms >= 4) {
                s = FloatVector.fromArray(S, acc, at + x).add(FloatVector.fromByteBuffer(S, in, (a + x) << 2, ORDER));
                bound = FloatVector.fromArray(S, accB, at + x).add(s.abs());
                if (terms == 5) {
                    s = s.add(FloatVector.fromByteBuffer(S, in, (b + x) << 2, ORDER));
                    bound = bound.add(s.abs());
                }
            } else {
                s = FloatVector.fromByteBuffer(S, in, (a + x) << 2, ORDER);
                bound = FloatVector.zero(S);
                if (terms >= 2) {
                    s = s.add(FloatVector.fromByteBuffer(S, in, (b + x) << 2, ORDER));
                    bound = s.abs();
                }
                if (terms == 3) {
                    s = s.add(FloatVector.fromByteBuffer(S, in, (c + x) << 2, ORDER));
                    bound = bound.add(s.abs());
                }
            }
            s.intoArray(acc, at + x);
            bound.intoArray(accB, at + x);
        }
        for (int x = end; x < width; x++) {
            float s;
            float bound;
            if (terms >= 4) {
                s = acc[at + x] + in.getFloat((a + x) << 2);
                bound = accB[at + x] + Math.abs(s);
                if (terms == 5) {
                    s += in.getFloat((b + x) << 2);
                    bound += Math.abs(s);
                }
            } else {
                s = in.getFloat((a + x) << 2);
                bound = 0f;
                if (terms >= 2) {
                    s += in.getFloat((b + x) << 2);
                    bound = Math.abs(s);
                }
                if (terms == 3) {
                    s += in.getFloat((c + x) << 2);
                    bound += Math.abs(s);
                }
            }
            acc[at + x] = s;
            accB[at + x] = bound;
        }
    }

    /**
     * The horizontal pass, as {@link PlaneAvg}'s: the sums of {@code k} columns {@code step} apart
     * at every position {@code i < m} into {@code fs}, with their bounds into {@code fb} (whole
     * vectors: positions up to a vector past {@code m} are written too). {@code k >= 2}.
     */
    static void across(float[] acc, float[] accB, int m, int k, int step, float[] fs, float[] fb) {
        int lanes = S.length();
        for (int i = 0; i < m; i += lanes) {
            FloatVector t = FloatVector.fromArray(S, acc, i).add(FloatVector.fromArray(S, acc, i + step));
            FloatVector.fromArray(S, accB, i).add(FloatVector.fromArray(S, accB, i + step)).add(t.abs())
                    .intoArray(fb, i);
            t.intoArray(fs, i);
        }
        for (int jx = 2; jx < k; jx++) {
            int shift = jx * step;
            for (int i = 0; i < m; i += lanes) {
                FloatVector t = FloatVector.fromArray(S, fs, i).add(FloatVector.fromArray(S, acc, i + shift));
                FloatVector.fromArray(S, fb, i).add(FloatVector.fromArray(S, accB, i + shift).add(t.abs()))
                        .intoArray(fb, i);
                t.intoArray(fs, i);
            }
        }
    }

    /**
     * For stride 1 and {@code k <= 3} column taps, {@link #across}, the output columns and
     * {@link PlaneAvg}'s division and certificate fused in one pass over each of {@code rows} band
     * rows ({@code ow >=} {@link #lanes()}: a row's last vector overlaps the one before, recomputing
     * the same values): {@code sums} receive the averages, {@code bounds} the bounds, laid out as
     * the band's outputs, as {@code div} and {@code perUnit} are; or, where {@code out} is given,
     * the averages go straight into its floats from {@code outAt} (nothing into {@code sums} and
     * {@code bounds}: the caller runs the pass again into them in the rare band whose certificate
     * fails). Returns whether a result's certificate fails (bound·perUnit − max(1, |avg|) not ≤ 0).
     */
    static boolean fused(float[] acc, float[] accB, int rows, int pitch, int k, int step, float[] div,
                         float[] perUnit, float[] sums, float[] bounds, int ow, ByteBuffer out, int outAt) {
        int lanes = S.length();
        boolean failed = false;
        for (int r = 0; r < rows; r++) {
            for (int ox = 0; ox < ow; ox += lanes) {
                if (ox + lanes > ow) {
                    ox = ow - lanes;
                }
                int i = r * pitch + ox;
                int o = r * ow + ox;
                FloatVector t = FloatVector.fromArray(S, acc, i);
                FloatVector b = FloatVector.fromArray(S, accB, i);
                if (k >= 2) {
                    t = t.add(FloatVector.fromArray(S, acc, i + step));
                    b = b.add(FloatVector.fromArray(S, accB, i + step)).add(t.abs());
                }
                if (k == 3) {
                    t = t.add(FloatVector.fromArray(S, acc, i + 2 * step));
                    b = b.add(FloatVector.fromArray(S, accB, i + 2 * step).add(t.abs()));
                }
                FloatVector v = t.div(FloatVector.fromArray(S, div, o));
                if (out != null) {
                    v.intoByteBuffer(out, (outAt + o) << 2, ORDER);
                } else {
                    v.intoArray(sums, o);
                    b.intoArray(bounds, o);
                }
                FloatVector excess = b.mul(FloatVector.fromArray(S, perUnit, o)).sub(v.abs().max(1f));
                if (!excess.compare(VectorOperators.LE, 0f).allTrue()) {
                    failed = true;
                }
            }
        }
        return failed;
    }

    /**
     * The vertical pass of a whole h×w plane ({@code h >= 3}, {@code w >=} {@link #lanes()}) for a 3×3
     * window of stride 1 and padding 1 ({@link PlaneAvg}'s flat path): {@code acc[at + o]}, o = y·w + x,
     * the sum of input rows y−1, y, y+1 inside the plane, from the plane's float {@code base} of
     * {@code in}, and {@code accB} its bound, as {@link #down} gives them per band row. The rows are
     * contiguous in the tensor, so the h−2 inner rows are one flat run of three-row sums (no
     * vector left part-idle at a row's end), the first and last rows two-row sums.
     */
    static void plane(ByteBuffer in, int base, int h, int w, float[] acc, float[] accB, int at) {
        fold(in, base, base + w, 0, 2, acc, accB, at, w);
        fold(in, base, base + w, base + 2 * w, 3, acc, accB, at + w, (h - 2) * w);
        fold(in, base + (h - 2) * w, base + (h - 1) * w, 0, 2, acc, accB, at + (h - 1) * w, w);
    }

    /**
     * {@link #fused} for 3 column taps of stride 1 over {@link #plane}'s flat column sums: output
     * o of {@code n} (= h·w) adds the sums at o − 1, o, o + 1 in that order, the two neighbours
     * AND-ed with {@code left[o % w]} and {@code right[o % w]} (−1, or 0 at a row's first or last
     * column, for {@code w +} lanes columns: a vector's lanes from its first column on; 0 gives the +0
     * of the padding column that {@link #fused} adds there, as bits), and their bounds
     * alike; {@code acc[at - 1]} and {@code acc[at + n]} must be readable (masked). The last
     * vector overlaps the one before (the same values again). Same results, bounds and return
     * as {@link #fused}, but every lane an output: a 35-wide row took three vectors for 35
     * outputs there.
     */
    static boolean flat(float[] acc, float[] accB, int at, int n, int w, int[] left, int[] right, float[] div, float[] perUnit,
                        float[] sums, float[] bounds, ByteBuffer out, int outAt) {
        int lanes = S.length();
        boolean failed = false;
        for (int o = 0; o < n; o += lanes) {
            if (o + lanes > n) {
                o = n - lanes;
            }
            int i = at + o;
            int c = o % w;
            IntVector l = IntVector.fromArray(I, left, c);
            IntVector r = IntVector.fromArray(I, right, c);
            FloatVector t = FloatVector.fromArray(S, acc, i - 1).reinterpretAsInts().and(l).reinterpretAsFloats();
            FloatVector b = FloatVector.fromArray(S, accB, i - 1).reinterpretAsInts().and(l).reinterpretAsFloats();
            t = t.add(FloatVector.fromArray(S, acc, i));
            b = b.add(FloatVector.fromArray(S, accB, i)).add(t.abs());
            t = t.add(FloatVector.fromArray(S, acc, i + 1).reinterpretAsInts().and(r).reinterpretAsFloats());
            b = b.add(FloatVector.fromArray(S, accB, i + 1).reinterpretAsInts().and(r).reinterpretAsFloats().add(t.abs()));
            FloatVector v = t.div(FloatVector.fromArray(S, div, o));
            if (out != null) {
                v.intoByteBuffer(out, (outAt + o) << 2, ORDER);
            } else {
                v.intoArray(sums, o);
                b.intoArray(bounds, o);
            }
            FloatVector excess = b.mul(FloatVector.fromArray(S, perUnit, o)).sub(v.abs().max(1f));
            if (!excess.compare(VectorOperators.LE, 0f).allTrue()) {
                failed = true;
            }
        }
        return failed;
    }

    /** Lanes of a float vector ({@link VecWidth#floats()}). */
    static int lanes() {
        return S.length();
    }
}
