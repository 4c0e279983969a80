package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adaptive max in Vector API lanes as {@link VecAdaptiveRows} does the average (used only where
 * {@link VectorSupport#ENABLED}, at least one vector of channels): an input row's maxima across the
 * regions' columns formed once ({@link #across}) and each output row's fold down its regions' rows
 * ({@link #down}), lane by lane the operations of {@link VecAdaptive#maxAcross} (clpool's rule:
 * compare and blend, {@code x − x} subtracted so that a NaN or an infinity leaves the lane NaN), in
 * the same order, so the same bits; a NaN result is for the caller to redo by the rule in scan order.
 * {@link VecAdaptive#maxAcross} reduces an input row again for every output row that reads it (SPP-net's
 * 13 rows to 6: 18 row reductions instead of 13) and folds into its accumulators through memory.
 *
 * <p>Regions of up to three columns and three rows run in flat loops with the taps written out (each
 * offset the loop index plus a constant, as in {@link VecAdaptiveRows}); a last vector of a channel
 * count that is not a multiple of the lanes overlaps the one before it and writes the same values
 * again (every result is a function of the inputs alone, nothing is folded in place). No method here
 * takes or returns a vector.
 */
final class VecAdaptiveMaxRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VecAdaptiveMaxRows() {
    }

    /**
     * The maxima of the input row at {@code row[base]} ({@code c} channels per column) across each
     * region's columns, every region at most three columns wide ({@link AdaptiveAvgRows#narrow}): output column ox's
     * at {@code to + ox·c + ch} of {@code hm}.
     */
    static void across(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] hm, int to) {
        int last = c - F.length();
        for (int ox = 0; ox < ow; ox++) {
            int w = x1[ox] - x0[ox];
            int from = base + x0[ox] * c;
            int into = to + ox * c;
            for (int ch = 0; ch < last; ch += F.length()) {
                across(row, from + ch, c, w, hm, into + ch);
            }
            across(row, from + last, c, w, hm, into + last);
        }
    }

    /**
     * {@link #across} where every region is at most three columns wide ({@code narrow}), else
     * {@link VecAdaptive#maxAcross}: the same maxima at the same places of {@code hm}.
     */
    static void across(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] hm, int to,
                       boolean narrow) {
        if (narrow) {
            across(row, base, c, ow, x0, x1, hm, to);
        } else {
            VecAdaptive.maxAcross(row, base, c, ow, x0, x1, hm, to, true);
        }
    }

    /** One vector of channels of {@code w} (1 to 3) columns {@code c} apart from {@code row[o]}, by the rule. */
    private static void across(float[] row, int o, int c, int w, float[] hm, int at) {
        FloatVector x = FloatVector.fromArray(F, row, o);
        FloatVector m = x.sub(x.sub(x));
        if (w > 1) {
            x = FloatVector.fromArray(F, row, o + c);
            m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
        }
        if (w > 2) {
            x = FloatVector.fromArray(F, row, o + 2 * c);
            m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
        }
        m.intoArray(hm, at);
    }

    /**
     * One output row's maxima from the maxima across columns of its {@code rows} input rows (input
     * row j of the regions, in scan order, at {@code rowAt[j]} of {@code hm}), folded in order by the
     * rule into {@code res[ox·c + ch]}.
     */
    static void down(float[] hm, int[] rowAt, int rows, int c, int ow, float[] res) {
        int step = F.length();
        int width = ow * c;
        int a0 = rowAt[0];
        if (rows == 1) {
            System.arraycopy(hm, a0, res, 0, width);
        } else if (rows <= 3) {
            int a1 = rowAt[1];
            int a2 = rows == 3 ? rowAt[2] : a1;
            for (int i = 0; i < width - step; i += step) {
                down(hm, a0 + i, a1 + i, a2 + i, rows, res, i);
            }
            down(hm, a0 + width - step, a1 + width - step, a2 + width - step, rows, res, width - step);
        } else {
            for (int i = 0; i < width; i += step) {
                int v = Math.min(i, width - step);
                FloatVector a = FloatVector.fromArray(F, hm, a0 + v);
                for (int j = 1; j < rows; j++) {
                    FloatVector m = FloatVector.fromArray(F, hm, rowAt[j] + v);
                    a = a.blend(m, m.compare(VectorOperators.GT, a)).sub(m.sub(m));
                }
                a.intoArray(res, v);
            }
        }
    }

    /** Two or three rows' vectors at {@code a0}, {@code a1} (and {@code a2}) folded by the rule. */
    private static void down(float[] hm, int a0, int a1, int a2, int rows, float[] res, int at) {
        FloatVector a = FloatVector.fromArray(F, hm, a0);
        FloatVector m = FloatVector.fromArray(F, hm, a1);
        a = a.blend(m, m.compare(VectorOperators.GT, a)).sub(m.sub(m));
        if (rows == 3) {
            m = FloatVector.fromArray(F, hm, a2);
            a = a.blend(m, m.compare(VectorOperators.GT, a)).sub(m.sub(m));
        }
        a.intoArray(res, at);
    }
}
