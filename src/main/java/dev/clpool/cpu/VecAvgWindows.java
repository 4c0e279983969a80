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
     * Output row (n, oy) of the plan's geometry from {@code src} into {@code dst} (float32, native
     * order), output column {@code ox} divided by {@code divisor[ox]} and certified with
     * {@code perB[ox]}; {@code at} is scratch of a window's taps. Returns whether every result
     * of the row is certified (where not, the row's results must be computed again). Needs
     * {@link VectorSupport#fits}{@code (p.c)}.
     */
    static boolean row(ByteBuffer src, ByteBuffer dst, WindowPlan p, int n, int oy, float[] divisor, float[] perB,
                       int[] at) {
        int c = p.c;
        int lanes = S.length();
        int outRow = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Float.BYTES);
        boolean certified = true;
        for (int ox = 0; ox < p.out.w(); ox++) {
            int taps = VecMaxWindows.taps(p, n, oy, ox, at);
            int o = outRow + ox * c * Float.BYTES;
            float d = divisor[ox];
            float k = perB[ox];
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
