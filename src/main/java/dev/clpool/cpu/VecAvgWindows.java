package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AvgWindows} in Vector API lanes (loaded only where {@link VectorSupport#ENABLED}): each
 * output's window is summed straight from the direct buffer, vectors along the channels, taps in
 * scan order, in float with the same running error bound as the scalar path (B, the sum of the
 * magnitudes of every partial sum, here one addition per tap) and the same certificate: bound ·
 * {@code k} ≤ max(1, |average|), {@code k} from {@link AvgWindows#boundPerB}. A row with a result
 * that fails (heavy cancellation, an infinity or NaN, float overflow) is reported, and the caller
 * computes it again on the scalar path, which sends each failing result to the double sum.
 *
 * <p>Where neighbouring output rows share input rows (3×3 s1), {@link #staged} sums from a ring of
 * heap copies of the input rows instead (one bulk copy per input row and column block, made by
 * {@link AvgWindows}): each {@code fromByteBuffer} pays the buffer's checks, about a third of
 * the kernel's time there, while a {@code fromArray} pays one bounds check, and a shared row is
 * read nine times per output position. Where each input row belongs to one output row (DenseNet's
 * 2×2 s2) the copy costs what it saves (measured: docs/performance.md, branch {@code avgwin}),
 * so those windows are read straight from the tensor.
 *
 * <p>The first tap is taken as it is (not added to zero), as the scalar path does, so a window of
 * −0 averages to −0 there too. Channels are taken four vectors at a time (four chains of additions
 * in flight), then one, taps inner; a channel count
 * that is not a multiple of the vector length ends with a vector that overlaps the one before (as
 * {@link VecMaxWindows}, whose tap offsets it shares).
 */
final class VecAvgWindows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecAvgWindows() {
    }

    /**
     * Output row oy of the plan's geometry from {@code src} into {@code dst} (float32, native
     * order) from byte {@code to}, output column {@code ox} divided by {@code divisor[k0 + ox]} and
     * certified with {@code perB[k0 + ox]}; window row {@code j} (tap {@code rowFirst[oy] + j})
     * starts at byte {@code rowAt[j]} of {@code src} (its column 0), and {@code at} is scratch of a
     * window's taps. Returns whether every result of the row is certified (where not, the row's
     * results must be computed again). Needs {@link VectorSupport#fits}{@code (p.c)}.
     */
    static boolean row(ByteBuffer src, int[] rowAt, ByteBuffer dst, int to, WindowPlan p, int oy, float[] divisor,
                       float[] perB, int k0, int[] at) {
        int c = p.c;
        int lanes = S.length();
        boolean certified = true;
        for (int ox = 0; ox < p.out.w(); ox++) {
            int taps = taps(p, rowAt, oy, ox, 0, c * Float.BYTES, at);
            int o = to + ox * c * Float.BYTES;
            float d = divisor[k0 + ox];
            float k = perB[k0 + ox];
            int ch = 0;
            for (; ch + 4 * lanes <= c; ch += 4 * lanes) {
                certified &= four(src, dst, at, taps, ch * Float.BYTES, o + ch * Float.BYTES, d, k);
            }
            for (; ch < c; ch += lanes) {
                int b = Math.min(ch, c - lanes) * Float.BYTES;
                certified &= one(src, dst, at, taps, b, o + b, d, k);
            }
        }
        return certified;
    }

    /**
     * Output (oy, ox)'s tap offsets in scan order into {@code at}: window row j's from
     * {@code rowAt[j]}, input column x at {@code (x − xs)·perColumn}; returns their count.
     */
    private static int taps(WindowPlan p, int[] rowAt, int oy, int ox, int xs, int perColumn, int[] at) {
        int taps = 0;
        for (int j = 0; j < p.rowEnd[oy] - p.rowFirst[oy]; j++) {
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                at[taps++] = rowAt[j] + (p.inputColumn(ox, jx) - xs) * perColumn;
            }
        }
        return taps;
    }

    /**
     * {@link #row} from staged copies: output row oy's columns {@code [b0, b1)} into {@code res}
     * (from 0, {@code c} floats per column), output column {@code ox} divided by
     * {@code divisor[k0 + ox]} and certified with {@code perB[k0 + ox]}. Window row {@code j} (tap
     * {@code rowFirst[oy] + j}) is staged in {@code staged} from {@code rowAt[j]}, input column
     * {@code xs} first. Returns whether every result is certified.
     */
    static boolean staged(float[] staged, int[] rowAt, int xs, float[] res, WindowPlan p, int oy, int b0, int b1,
                          float[] divisor, float[] perB, int k0, int[] at) {
        int c = p.c;
        int lanes = S.length();
        boolean certified = true;
        for (int ox = b0; ox < b1; ox++) {
            int taps = taps(p, rowAt, oy, ox, xs, c, at);
            int o = (ox - b0) * c;
            float d = divisor[k0 + ox];
            float k = perB[k0 + ox];
            int ch = 0;
            for (; ch + 4 * lanes <= c; ch += 4 * lanes) {
                certified &= four(staged, res, at, taps, ch, o + ch, d, k);
            }
            for (; ch < c; ch += lanes) {
                int b = Math.min(ch, c - lanes);
                certified &= one(staged, res, at, taps, b, o + b, d, k);
            }
        }
        return certified;
    }

    /**
     * {@link #four(ByteBuffer, ByteBuffer, int[], int, int, int, float, float)} from a heap array, in
     * floats: the same additions, division and certificate, each chain's steps written together.
     */
    private static boolean four(float[] src, float[] dst, int[] at, int taps, int ch, int o, float d, float k) {
        int step = S.length();
        int a = at[0] + ch;
        FloatVector s0 = FloatVector.fromArray(S, src, a);
        FloatVector b0 = s0.abs();
        FloatVector s1 = FloatVector.fromArray(S, src, a + step);
        FloatVector b1 = s1.abs();
        FloatVector s2 = FloatVector.fromArray(S, src, a + 2 * step);
        FloatVector b2 = s2.abs();
        FloatVector s3 = FloatVector.fromArray(S, src, a + 3 * step);
        FloatVector b3 = s3.abs();
        for (int t = 1; t < taps; t++) {
            a = at[t] + ch;
            s0 = s0.add(FloatVector.fromArray(S, src, a));
            b0 = b0.add(s0.abs());
            s1 = s1.add(FloatVector.fromArray(S, src, a + step));
            b1 = b1.add(s1.abs());
            s2 = s2.add(FloatVector.fromArray(S, src, a + 2 * step));
            b2 = b2.add(s2.abs());
            s3 = s3.add(FloatVector.fromArray(S, src, a + 3 * step));
            b3 = b3.add(s3.abs());
        }
        FloatVector v0 = s0.div(d);
        v0.intoArray(dst, o);
        FloatVector v1 = s1.div(d);
        v1.intoArray(dst, o + step);
        FloatVector v2 = s2.div(d);
        v2.intoArray(dst, o + 2 * step);
        FloatVector v3 = s3.div(d);
        v3.intoArray(dst, o + 3 * step);
        // As one's certificate, the four masks joined.
        return b0.mul(k).sub(v0.abs().max(1f)).compare(VectorOperators.LE, 0f)
                .and(b1.mul(k).sub(v1.abs().max(1f)).compare(VectorOperators.LE, 0f))
                .and(b2.mul(k).sub(v2.abs().max(1f)).compare(VectorOperators.LE, 0f))
                .and(b3.mul(k).sub(v3.abs().max(1f)).compare(VectorOperators.LE, 0f)).allTrue();
    }

    /** {@link #one(ByteBuffer, ByteBuffer, int[], int, int, int, float, float)} from a heap array, in floats. */
    private static boolean one(float[] src, float[] dst, int[] at, int taps, int ch, int o, float d, float k) {
        FloatVector s = FloatVector.fromArray(S, src, at[0] + ch);
        FloatVector b = s.abs();
        for (int t = 1; t < taps; t++) {
            s = s.add(FloatVector.fromArray(S, src, at[t] + ch));
            b = b.add(s.abs());
        }
        FloatVector v = s.div(d);
        v.intoArray(dst, o);
        return b.mul(k).sub(v.abs().max(1f)).compare(VectorOperators.LE, 0f).allTrue();
    }

    /** Four vectors of channels from byte {@code ch} (as {@link #one}, in four independent chains). */
    private static boolean four(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o, float d, float k) {
        int step = S.vectorByteSize();
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector b0 = s0;
        FloatVector b1 = s0;
        FloatVector b2 = s0;
        FloatVector b3 = s0;
        if (taps > 0) {
            int a = at[0] + ch;
            s0 = FloatVector.fromByteBuffer(S, src, a, ORDER);
            s1 = FloatVector.fromByteBuffer(S, src, a + step, ORDER);
            s2 = FloatVector.fromByteBuffer(S, src, a + 2 * step, ORDER);
            s3 = FloatVector.fromByteBuffer(S, src, a + 3 * step, ORDER);
            b0 = s0.abs();
            b1 = s1.abs();
            b2 = s2.abs();
            b3 = s3.abs();
        }
        for (int t = 1; t < taps; t++) {
            int a = at[t] + ch;
            s0 = s0.add(FloatVector.fromByteBuffer(S, src, a, ORDER));
            s1 = s1.add(FloatVector.fromByteBuffer(S, src, a + step, ORDER));
            s2 = s2.add(FloatVector.fromByteBuffer(S, src, a + 2 * step, ORDER));
            s3 = s3.add(FloatVector.fromByteBuffer(S, src, a + 3 * step, ORDER));
            b0 = b0.add(s0.abs());
            b1 = b1.add(s1.abs());
            b2 = b2.add(s2.abs());
            b3 = b3.add(s3.abs());
        }
        FloatVector v0 = s0.div(d);
        FloatVector v1 = s1.div(d);
        FloatVector v2 = s2.div(d);
        FloatVector v3 = s3.div(d);
        v0.intoByteBuffer(dst, o, ORDER);
        v1.intoByteBuffer(dst, o + step, ORDER);
        v2.intoByteBuffer(dst, o + 2 * step, ORDER);
        v3.intoByteBuffer(dst, o + 3 * step, ORDER);
        FloatVector w = b0.mul(k).sub(v0.abs().max(1f))
                .max(b1.mul(k).sub(v1.abs().max(1f)))
                .max(b2.mul(k).sub(v2.abs().max(1f)))
                .max(b3.mul(k).sub(v3.abs().max(1f)));
        return w.compare(VectorOperators.LE, 0f).allTrue();
    }

    /**
     * One vector of channels from byte {@code ch} of each tap: sums and bounds, averages into
     * {@code dst} at byte {@code o}; returns whether each is certified (bound·k ≤ max(1, |average|),
     * false for a NaN or an infinity). Vectors stay inside this method, so C2 keeps them in registers (a vector
     * passed to or returned from a call it does not inline is boxed on the heap).
     */
    private static boolean one(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o, float d, float k) {
        FloatVector s = FloatVector.zero(S);
        FloatVector b = s;
        if (taps > 0) {
            s = FloatVector.fromByteBuffer(S, src, at[0] + ch, ORDER);
            b = s.abs();
        }
        for (int t = 1; t < taps; t++) {
            s = s.add(FloatVector.fromByteBuffer(S, src, at[t] + ch, ORDER));
            b = b.add(s.abs());
        }
        // A float division, as the scalar path's (see AvgWindows.finish).
        FloatVector v = s.div(d);
        v.intoByteBuffer(dst, o, ORDER);
        // bound·k − max(1, |v|) ≤ 0 fails for a NaN, and for an infinite average (∞ − ∞).
        return b.mul(k).sub(v.abs().max(1f)).compare(VectorOperators.LE, 0f).allTrue();
    }
}
