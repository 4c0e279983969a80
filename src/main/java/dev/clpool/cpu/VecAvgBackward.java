package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AvgBackwardRows} in Vector API lanes (loaded only where {@link VectorSupport#ENABLED}): a
 * gather, each input element summing the quotients {@code fl(dy / divisor)} of the outputs whose
 * windows hold it, read straight from the direct buffer, vectors along the channels, with the same
 * running bound as the scalar path (B, the sum of |quotient| + |partial sum| over the terms: two
 * additions per term, within the four per term that {@code perB} covers) and the same certificate,
 * B·perB ≤ max(1, |gradient|). A row with a gradient that fails is reported, and the caller
 * computes it again on the scalar path, which sends each failing gradient to the double sum.
 *
 * <p>Channels are taken a vector at a time, terms inner; a channel count that is not a multiple of
 * the vector length ends with a vector that overlaps the one before (as {@link VecMaxWindows}).
 */
final class VecAvgBackward {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecAvgBackward() {
    }

    /**
     * The gradient's input row {@code y} of batch item {@code n}, {@code c} channels, {@code w}
     * columns, into {@code dx} at byte {@code rowAt}. Input column {@code x} sums the terms
     * {@code [termFrom[x], termFrom[x+1])}: term t is {@code dy} at byte {@code termAt[t]} (channel
     * 0) divided by {@code termDiv[t]}. Returns whether every gradient of the row is certified
     * with {@code perB}. Needs {@link VectorSupport#fits}{@code (c)}.
     */
    static boolean row(ByteBuffer dy, ByteBuffer dx, int c, int w, int rowAt, int[] termFrom, int[] termAt,
                       float[] termDiv, float perB) {
        int lanes = S.length();
        boolean certified = true;
        for (int x = 0; x < w; x++) {
            int o = rowAt + x * c * Float.BYTES;
            for (int ch = 0; ch < c; ch += lanes) {
                int b = Math.min(ch, c - lanes) * Float.BYTES;
                certified &= one(dy, dx, termAt, termDiv, termFrom[x], termFrom[x + 1], b, o + b, perB);
            }
        }
        return certified;
    }

    /**
     * One vector of channels of one input column, terms {@code [t0, t1)} from byte {@code ch},
     * into {@code dx} at byte {@code o}; returns whether each gradient is certified (vectors stay
     * inside this method, as in {@link VecAvgWindows}).
     */
    private static boolean one(ByteBuffer dy, ByteBuffer dx, int[] termAt, float[] termDiv, int t0, int t1, int ch,
                               int o, float perB) {
        FloatVector s = FloatVector.zero(S);
        FloatVector b = s;
        for (int t = t0; t < t1; t++) {
            FloatVector q = FloatVector.fromByteBuffer(S, dy, termAt[t] + ch, ORDER).div(termDiv[t]);
            s = s.add(q);
            b = b.add(q.abs().add(s.abs()));
        }
        s.intoByteBuffer(dx, o, ORDER);
        // bound·perB − max(1, |s|) ≤ 0 fails for a NaN, and for an infinite gradient (∞ − ∞).
        return b.mul(perB).sub(s.abs().max(1f)).compare(VectorOperators.LE, 0f).allTrue();
    }
}
