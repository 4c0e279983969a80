package dev.clpool.cpu;

import java.nio.FloatBuffer;

/**
 * Adaptive max pooling of one-channel planes (channels-first tensors viewed as channels-last with
 * one channel), in long loops that C2 vectorises instead of one short scalar chain per region.
 *
 * <p>Work goes in {@link PlaneRegions}' units (groups of whole planes, or bands of a large plane),
 * each staged with one bulk copy. For each region height, the maximum of {@code kh} vertically
 * adjacent elements at every position of the staged array comes from shifted folds
 * ({@code v[i] = max(v[i], v[i + q*W])}, by doubling, with {@link PlaneMax#windows}, which folds
 * {@link PlaneMax}'s columns too: windows of q rows give windows of 2q, and kh rows are two
 * overlapping windows of the largest power of two); the same along the row for each width; each
 * result is then one element of the array for its region's height and width. Windows that
 * straddle two planes are computed and never read.
 *
 * <p>The scalar form this replaces, {@code m = max(m, x)} over each region's elements, is a
 * reduction to C2, which on x86 compiles it (whether written as {@code Math.max} or as clpool's
 * compare-and-select rule) to compare-and-branch code: its branches follow the data, so random
 * input ran 2.5× slower than all-zero input (SPP-net's 13×13 to 6×6, one thread). Folds of two
 * arrays are not reductions and vectorise, without branches.
 *
 * <p>{@code Math.max} differs from clpool's rule (a later value replaces the maximum only if strictly
 * greater; the first NaN wins) only where the result is zero or NaN and the input holds a −0 or a
 * NaN ({@link MaxExact}); such results are recomputed with the rule in scan order (rows, then
 * columns), so results are bit for bit those of {@link CpuAdaptive}'s general path.
 */
final class PlaneAdaptiveMax {
    private final PlaneRegions r;

    PlaneAdaptiveMax(PlaneRegions regions) {
        r = regions;
    }

    /** Unit {@code u} of the regions: stages its input, pools it and writes its results. */
    void run(FloatBuffer src, FloatBuffer dst, int u) {
        PlaneRegions.Unit unit = r.unit(u);
        int w = r.in.w();
        int len = unit.length();
        Scratch s = Scratch.get();
        float[] stage = s.floats(0, len);
        float[] tmp = s.floats(1, len);
        float[] across = s.floats(2, len);
        float[] res = s.floats(3, unit.planes() * (unit.ob() - unit.oa()) * r.out.w());
        float[] vertical = s.floats(4, len);
        r.stage(src, unit, stage);
        boolean zeros = false;
        for (int a = 0; a < r.heights.length; a++) {
            float[] down = null;
            for (int b = 0; b < r.widths.length; b++) {
                PlaneRegions.Picks p = r.picks(unit, a, b);
                if (p.perPlane() == 0) {
                    continue;
                }
                if (down == null) {
                    down = PlaneMax.windows(stage, len, r.heights[a], w, vertical, tmp);
                }
                float[] box = PlaneMax.windows(down, len - (r.heights[a] - 1) * w, r.widths[b], 1, across, tmp);
                zeros |= pick(box, res, p.from(), p.to(), unit.planes() * p.perPlane());
            }
        }
        if (zeros && MaxExact.holdsNegativeZeroOrNaN(stage, len)) {
            exact(stage, res, unit);
        }
        r.write(dst, unit, res);
    }

    /**
     * Copies {@code n} results out of {@code box} ({@code res[to[k]] = box[from[k]]}); says whether
     * any is zero or NaN ({@link PlanePlan#zeroOrNaN}: no branch on the data). One flat loop over the
     * unit's results (a loop per output row is six iterations long for SPP-net's 6×6 and cost more
     * than the copies).
     */
    private static boolean pick(float[] box, float[] res, int[] from, int[] to, int n) {
        int zeros = 0;
        for (int k = 0; k < n; k++) {
            float m = box[from[k]];
            res[to[k]] = m;
            zeros |= PlanePlan.zeroOrNaN(m);
        }
        return zeros != 0;
    }

    /** Recomputes every zero or NaN result of the unit with clpool's rule, in scan order. */
    private void exact(float[] stage, float[] res, PlaneRegions.Unit unit) {
        int w = r.in.w();
        int ow = r.out.w();
        int ya = r.y0[unit.oa()];
        int rows = unit.ob() - unit.oa();
        for (int g = 0; g < unit.planes(); g++) {
            for (int oy = unit.oa(); oy < unit.ob(); oy++) {
                int to = (g * rows + oy - unit.oa()) * ow;
                for (int ox = 0; ox < ow; ox++) {
                    float m = res[to + ox];
                    if (m > 0 || m < 0) {
                        continue;
                    }
                    m = Float.NEGATIVE_INFINITY;
                    for (int y = r.y0[oy]; y < r.y1[oy]; y++) {
                        int at = g * unit.span() + (y - ya) * w;
                        for (int x = r.x0[ox]; x < r.x1[ox]; x++) {
                            m = CpuBackend.max(m, stage[at + x]);
                        }
                    }
                    res[to + ox] = m;
                }
            }
        }
    }
}
