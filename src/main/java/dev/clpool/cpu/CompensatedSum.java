package dev.clpool.cpu;

/**
 * Compensated float summation (Ogita, Rump and Oishi's Sum2), kept in three parallel float arrays so
 * that C2 (JDK 17) vectorises it: it does not vectorise float→double widening, which bounded the
 * averages when they summed in double. Lane {@code i} holds a running sum {@code s[i]}, the sum
 * {@code e[i]} of the rounding errors of every addition into it, and {@code q[i]}, the sum of those
 * errors' magnitudes. Each addition is Knuth's TwoSum (six branch-free float operations, no
 * comparisons), whose error term is exact, so after any number of additions
 * {@code s + (true sum of errors)} equals the true sum exactly; only {@code e} rounds. Summing m
 * terms in any order errs by at most γ(m−1)·Σ|term| (γ(k) = k·u/(1 − k·u), u = 2^-24), so
 * {@code |s + e − true sum| <= γ(m)·q} up to the rounding of {@code q} itself, which
 * {@link #errorBound} covers with a factor of 2.
 *
 * <p>A lane that saw an infinity or NaN, or whose sum overflowed, ends with a NaN in {@code q} (an
 * infinite {@code s} makes the error term ∞ − ∞); callers treat a NaN or too large bound by
 * recomputing that result in double, as before, so overflow and NaN behave as the double sums did.
 *
 * <p>Used by the global average, whose sums are long: a plain float sum's running bound would not
 * certify them. Windowed averages (few taps per result) use plain float sums ({@link AvgWindows}).
 */
final class CompensatedSum {
    private CompensatedSum() {
    }

    /** Adds {@code x} to lane {@code i}. */
    static void add(float[] s, float[] e, float[] q, int i, float x) {
        float a = s[i];
        float t = a + x;
        float xPart = t - a;
        float err = (a - (t - xPart)) + (x - xPart);
        s[i] = t;
        e[i] += err;
        q[i] += Math.abs(err);
    }

    /**
     * A bound on |computed − true sum| per unit of {@code q}, for sums of at most {@code terms}
     * terms: 2·γ(terms); infinite where γ is meaningless (terms·u ≥ 1/2).
     */
    static double errorBound(long terms) {
        return 2 * gamma(terms);
    }

    /**
     * γ(k) = k·u/(1 − k·u), u = 2^-24: the relative error bound of k rounded float operations
     * (Higham); infinite where meaningless (k·u ≥ 1/2). Shared by the CPU path's error bounds.
     */
    static double gamma(long k) {
        double ku = k * 0x1p-24;
        return ku >= 0.5 ? Double.POSITIVE_INFINITY : ku / (1 - ku);
    }
}
