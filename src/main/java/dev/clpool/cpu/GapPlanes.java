package dev.clpool.cpu;

/**
 * The certificate of the channels-first global average's float sums ({@link VecPlaneGlobal}, small
 * contiguous planes such as a classifier head's 7×7): each plane summed in plain float by a fixed
 * tree, and beside it one float sum W of magnitudes that bounds the tree's error a priori, as
 * {@link GapAvg} does for channels-last items. A plane the bound does not certify is summed in
 * double instead (as every plane was before), so every result keeps SEMANTICS.md's tolerance;
 * certified results are no longer the double sum's bits, but within {@link AvgWindows#TOLERANCE}
 * of the exact average, plus the division's rounding.
 *
 * <p><b>The tree.</b> A plane of n floats (16 ≤ n ≤ 128) is read as k = ⌈n/16⌉ vectors of 16 lanes
 * (the last one padded with +0, whose additions are exact); leaves 2j and 2j + 1 are added lane-wise
 * into the pair vector a_j (a lone last leaf is a pair of its own, with no addition), the pairs are
 * summed lane-wise in a tree, and the 16 lanes of the result in a pairwise tree of four levels. Every
 * float of the plane lies under at most D = ⌈log2 k⌉ + 4 rounded additions, its own pair's included
 * (6 for 7×7 and 8×8, 7 for 9×9 to 11×11). W is the same trees over the |a_j| (no pair level), each
 * term through at most D rounded additions.
 *
 * <p><b>The bound.</b> Each rounded addition is t = (p + q)/(1 + δ), |δ| ≤ u = 2^-24, so it errs by
 * at most u·|t|, and the plane's computed sum S differs from Σx by the sum of these errors. A node
 * at height h (pairs at height 1) has |t| ≤ (1 + u)^(h−1)·Σ|a_j| over the pairs under it, by
 * induction, and each a_j lies under at most D of the additions, so
 * |S − Σx| ≤ u·D·(1 + u)^(D−1)·Σ_j|a_j| ≤ u·D·(1 + γ(D))·Σ_j|a_j|. W's terms are non-negative and
 * each passes at most D roundings, so the computed Ŵ ≥ (1 − γ(D))·Σ_j|a_j|, and
 * |S − Σx| ≤ K·Ŵ with K = u·D·(1 + γ(D))/(1 − γ(D)). The certificate is {@link GapAvg}'s and
 * {@link CpuGlobal}'s: K·Ŵ ≤ {@link AvgWindows#TOLERANCE}·n·max(1, |avg|), evaluated in float with
 * K raised and the allowance lowered by 2^-20 for its own three roundings, and the average
 * {@code fl(S / n)} then errs by at most TOLERANCE·max(1, |avg|) + u·|avg|, inside SEMANTICS.md's
 * 4e-6·max(1, |avg|). A NaN or infinite float, or a pair or W that overflows, makes Ŵ infinite or NaN,
 * and a sum that overflows makes the average infinite or NaN: refused either way.
 *
 * <p>On data of one sign (after a ReLU) Ŵ is |Σx| up to roundings and K is under 4.3e-7, so every
 * plane certifies. On zero-mean 7×7 planes Ŵ is about 19·a for uniform data in [−a, a), so they
 * certify up to a ≈ 7 by that estimate (a standard deviation of about 4); the workloads' random
 * data, [−4, 4), certify ({@code GapPlanesTest} checks every size).
 */
final class GapPlanes {
    private GapPlanes() {
    }

    /** D: the most rounded additions over one float of a plane of {@code size} floats (see the class comment). */
    static int depth(int size) {
        int k = (size + 15) / 16;
        return 32 - Integer.numberOfLeadingZeros(k - 1) + 4;
    }

    /** The certificate for planes of {@code size} floats. */
    static Certificate certificate(int size) {
        int d = depth(size);
        double k = 0x1p-24 * d * (1 + CompensatedSum.gamma(d)) / (1 - CompensatedSum.gamma(d));
        return new Certificate((float) (k * (1 + 0x1p-20)), (float) (AvgWindows.TOLERANCE * (double) size * (1 - 0x1p-20)),
                size);
    }

    /**
     * K raised ({@code perW}), the allowance per unit of max(1, |avg|) lowered ({@code allowed}), and
     * the plane's size in float ({@code hw}).
     */
    record Certificate(float perW, float allowed, float hw) {
        /**
         * The averages of {@code n} planes from their sums {@code s} and bounds {@code w} (the
         * kernel's) into {@code result} from {@code to}; returns a bit set, bit q for each plane
         * q it refuses (whose result is then to be replaced).
         */
        int certify(float[] s, float[] w, int n, float[] result, int to) {
            int refused = 0;
            for (int q = 0; q < n; q++) {
                float v = s[q] / hw;
                result[to + q] = v;
                float size = Math.abs(v);
                boolean ok = perW * w[q] - allowed * Math.max(1f, size) <= 0 && size <= Float.MAX_VALUE;
                refused |= ok ? 0 : 1 << q;
            }
            return refused;
        }
    }
}
