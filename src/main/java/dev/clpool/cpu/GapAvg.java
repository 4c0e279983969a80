package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Global average of one batch item's small plane (a classifier's head: 7×7, 8×8, 10×10) with a
 * cheaper error bound than {@link CpuGlobal}'s running one: {@link VecGlobal#pairSum} sums each
 * channel in plain float, in pairwise trees of 8 pixels whose sums are added into the channel's
 * lane, and beside it one float sum W that bounds the error: a priori for the trees (their leaf
 * pairs' magnitudes), running for the lane additions. That is about two vector operations per
 * float where the running bound on every addition and the compensated flushes took three and a
 * half. Used where the Vector API kernels run, a whole plane is one task and the plane is short
 * enough ({@link #fits}); an item with a channel the bound does not certify returns false, and
 * {@link CpuGlobal} sums it again by its own path (running bound, then compensated, then double),
 * so every result keeps SEMANTICS.md's tolerance.
 *
 * <p><b>The bound.</b> Every rounded addition is t = (p + q)(1 + δ) = (p + q)/(1 + δ'), with |δ|,
 * |δ'| ≤ u = 2^-24, so the channel's computed sum S differs from Σx by exactly the sum of the
 * additions' errors, each at most u·|p + q| and at most u·|t|. In a group's tree (T levels: 3 for
 * 8 pixels, 2 for 4, none for a lone pixel, which is a leaf pair a_j = x of its own) let a_j be the
 * computed leaf pairs {@code fl(x0 + x1)} (level 1): by induction a computed node at level h has
 * |t| ≤ (1 + u)^(h−1)·Σ|a_j| over the pairs under it, and a pair's own |x0 + x1| ≤ |a_j|/(1 − u),
 * so a tree addition errs by at most u·(1 + γ(T + 1))·Σ|a_j| under it, and each a_j lies under T
 * of them. A lane addition errs by at most u·|s_k|, s_k the lane's computed sum after group k.
 * Hence |S − Σx| ≤ u·(1 + γ(4))·W with W = Σ_k (T_k·Σ_{j in k}|a_j| + |s_k|). The kernel sums W's
 * non-negative terms in float (each through at most 4 rounded additions in its group and one per
 * later group), so W ≤ Ŵ/(1 − γ(g + 4)) for g groups, and |S − Σx| ≤ K·Ŵ with
 * K = u·(1 + γ(4))/(1 − γ(g + 4)). The certificate is {@link CpuGlobal}'s:
 * K·Ŵ ≤ {@link AvgWindows#TOLERANCE}·hw·max(1, |avg|), evaluated in float with K raised and the
 * allowance lowered by 2^-20 to cover its own three roundings (as {@code CpuGlobal.finishInFloat});
 * the average {@code fl(S / hw)} then errs by at most TOLERANCE·max(1, |avg|) + u·|avg|, inside
 * SEMANTICS.md's 4e-6·max(1, |avg|). A pixel that is infinite or NaN, pairs that overflow, or a lane
 * sum that overflows (|s_k| is in W) make Ŵ infinite or NaN, and the certificate fails.
 *
 * <p>On data of one sign (after a ReLU) Σ|a_j| and each |s_k| are |Σx| up to roundings, so W is
 * about (3 + g)·|Σx| at most and K·W stays under 1e-6·|Σx| while g ≤ {@link #MAX_GROUPS}: every
 * channel certifies ({@code GapAvgTest} checks every plane that fits up to 128 pixels). Zero-mean
 * data certify up to a standard deviation of about 6 on 7×7 planes (uniform data in [−10, 10)),
 * where W is mostly the trees' part.
 */
final class GapAvg {
    /** The most groups (lane additions) tried: with 3 + g at most 16, one-sign data always certify. */
    static final int MAX_GROUPS = 13;

    private GapAvg() {
    }

    /** The number of groups {@link VecGlobal#pairSum} forms over {@code pixels} pixels. */
    static int groups(int pixels) {
        return pixels / 8 + pixels % 8 / 4 + pixels % 4;
    }

    /** Whether a plane of {@code pixels} pixels is summed here (at most {@link #MAX_GROUPS} groups). */
    static boolean fits(int pixels) {
        return groups(pixels) <= MAX_GROUPS;
    }

    /**
     * The averages of the {@code c} channels of {@code pixels} pixels from float {@code at} of
     * {@code raw} (channels-last, native order) into {@code dst} from float {@code to}, if the plane
     * {@link #fits} and every channel is certified; else writes nothing and returns false.
     */
    static boolean item(ByteBuffer raw, int at, int pixels, int c, FloatBuffer dst, int to) {
        if (!fits(pixels)) {
            return false;
        }
        Scratch scratch = Scratch.get();
        int padded = VecGlobal.padded(c);
        float[] s = scratch.floats(11, padded);
        float[] w = scratch.floats(12, padded);
        float[] result = scratch.floats(13, c);
        int g = VecGlobal.pairSum(raw, at, pixels, c, s, w);
        double k = 0x1p-24 * (1 + CompensatedSum.gamma(4)) / (1 - CompensatedSum.gamma(g + 4L));
        float perW = (float) (k * (1 + 0x1p-20));
        float allowed = (float) (AvgWindows.TOLERANCE * (double) pixels * (1 - 0x1p-20));
        if (!VecGlobal.certifiedAverages(s, w, c, pixels, perW, allowed, result)) {
            return false;
        }
        dst.put(to, result, 0, c);
        return true;
    }
}
