package dev.clpool.cpu;

import dev.clpool.Shape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adaptive max of a staged group of small planes in their own layout, one vector per output row,
 * for planes of {@code 2·OW + 1} columns (at most a vector) whose regions are three columns at a
 * stride of two and at most three rows (SPP-net's 13×13 to 6×6), used by {@link AdaptPlaneLanes}
 * (only where {@link VectorSupport#ENABLED}) instead of its transposes into channel lanes.
 *
 * <p>Per output row, the vectors at its regions' rows (the last row again where a region is
 * shorter than three) are folded down; the fold is folded with itself shifted by one lane and by
 * two, so lane x holds columns x to x + 2; the even lanes are the row's results, moved to the
 * front by one shuffle and stored as a whole vector (the next row's store overwrites the rest).
 * The shuffles are constants: built from tables in the method, each {@code rearrange} also checked
 * its indexes, and the path ran no faster than the transposes.
 *
 * <p>Down, then across, is not clpool's scan order, and the fold {@code x > m ? x : m} lets a
 * NaN pass: so this runs only on a group that holds no NaN and no −0 (the check of
 * {@link VecPlaneMax#minusZeroOrNaN}), where a region's maximum is one value in any order (+0 the
 * only zero, repeating a row or column changes nothing) and every compare is ordered: the rule's
 * bits. Other groups take the transposes.
 */
final class VecPlaneRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Lane j takes lane j + 1, j + 2, 2j (wrapped: the lanes past a row's results are never read). */
    private static final VectorShuffle<Float> NEXT = VectorShuffle.fromOp(F, j -> (j + 1) % F.length());
    private static final VectorShuffle<Float> AFTER = VectorShuffle.fromOp(F, j -> (j + 2) % F.length());
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(F, j -> 2 * j % F.length());

    private VecPlaneRows() {
    }

    /**
     * Per output row oy, the offsets in a plane of its regions' three rows ({@code rows[3·oy + j]},
     * the last row repeated for shorter regions), where this path fits the regions
     * {@code [y0, y1) × [x0, x1)} of planes {@code is} to {@code os}; else null.
     */
    static int[] rows(Shape is, Shape os, int[] y0, int[] y1, int[] x0, int[] x1) {
        if (is.w() > F.length() || is.w() != 2 * os.w() + 1) {
            return null;
        }
        for (int ox = 0; ox < os.w(); ox++) {
            if (x0[ox] != 2 * ox || x1[ox] != 2 * ox + 3) {
                return null;
            }
        }
        int[] rows = new int[3 * os.h()];
        for (int oy = 0; oy < os.h(); oy++) {
            if (y1[oy] - y0[oy] > 3) {
                return null;
            }
            for (int j = 0; j < 3; j++) {
                rows[3 * oy + j] = Math.min(y0[oy] + j, y1[oy] - 1) * is.w();
            }
        }
        return rows;
    }

    /**
     * The maxima of {@code planes} planes of {@code area} floats staged in {@code x}, which is
     * readable a vector beyond the last plane ({@code rows} from {@link #rows}): plane g's
     * {@code oh·ow} results into {@code res[g·oh·ow, …)}, each output row stored as a whole vector
     * (so {@code res} has a vector to spare at its end).
     */
    static void max(float[] x, int planes, int area, int oh, int ow, int[] rows, float[] res) {
        int outArea = oh * ow;
        for (int g = 0; g < planes; g++) {
            int base = g * area;
            int to = g * outArea;
            for (int oy = 0; oy < oh; oy++) {
                FloatVector a = FloatVector.fromArray(F, x, base + rows[3 * oy]);
                FloatVector b = FloatVector.fromArray(F, x, base + rows[3 * oy + 1]);
                a = a.blend(b, b.compare(VectorOperators.GT, a));
                b = FloatVector.fromArray(F, x, base + rows[3 * oy + 2]);
                a = a.blend(b, b.compare(VectorOperators.GT, a));
                FloatVector m = a.rearrange(NEXT);
                m = a.blend(m, m.compare(VectorOperators.GT, a));
                b = a.rearrange(AFTER);
                m = m.blend(b, b.compare(VectorOperators.GT, m));
                m.rearrange(EVEN).intoArray(res, to + oy * ow);
            }
        }
    }
}
