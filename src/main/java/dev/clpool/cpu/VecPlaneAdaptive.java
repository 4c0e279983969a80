package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneAdaptiveAvg}'s certified float averages in Vector API lanes (loaded only where
 * {@link VectorSupport#ENABLED}): the regions of one size in a staged unit of planes, a vector of
 * regions at a time, each tap a gather from the unit ({@code from[i] + offset}), the results
 * scattered to their places; beside each sum the running bound of {@link AdaptiveAvgRows} (the
 * magnitude of every partial sum). A last group shorter than a vector runs in scalar code with the
 * same float operations.
 *
 * <p>Tried first: the sums of every region height at every position of the unit, then of every
 * width over those, in full-length vector passes (as {@link PlaneAdaptiveMax} does for max), then
 * one pick per result: slower than the double sums (VGG-16's 10×10 to 7×7, one thread, 1.33
 * against 1.06 ms), as a unit's five arrays left L1 and most positions are never read; the gathers
 * took 0.89 ms.
 */
final class VecPlaneAdaptive {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VecPlaneAdaptive() {
    }

    /**
     * Regions of {@code kh} rows by {@code kw} columns: result {@code i < n}'s region starts at
     * {@code x[from[i]]} (rows {@code w} apart), its sum (taps in scan order, from its first) is
     * divided by {@code d} into {@code res[to[i]]}. Returns the largest excess of a result's bound
     * ({@code k} per unit of B) over max(1, |average|); NaN if a result is NaN.
     */
    static float regions(float[] x, int w, int kh, int kw, int[] from, int[] to, int n, float d, float k,
                         float[] res) {
        int lanes = S.length();
        int i = 0;
        FloatVector worst = FloatVector.zero(S);
        for (; i + lanes <= n; i += lanes) {
            FloatVector s = FloatVector.fromArray(S, x, 0, from, i);
            FloatVector b = FloatVector.zero(S);
            for (int t = 1; t < kh * kw; t++) {
                s = s.add(FloatVector.fromArray(S, x, t / kw * w + t % kw, from, i));
                b = b.add(s.abs());
            }
            FloatVector m = s.add(0f).div(d);
            m.intoArray(res, 0, to, i);
            // max(NaN, ·) is NaN in lanes, so a NaN excess stays.
            worst = worst.max(b.mul(k).sub(m.abs().max(1f)));
        }
        float most = worst.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            float s = x[from[i]];
            float b = 0f;
            for (int t = 1; t < kh * kw; t++) {
                s += x[from[i] + t / kw * w + t % kw];
                b += Math.abs(s);
            }
            float m = (s + 0f) / d;
            res[to[i]] = m;
            float excess = b * k - Math.max(1f, Math.abs(m));
            most = excess > most || excess != excess ? excess : most;
        }
        return most;
    }
}
