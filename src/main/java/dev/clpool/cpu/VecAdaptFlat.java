package dev.clpool.cpu;

import dev.clpool.Shape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AdaptPlaneLanes}' certified averages of a group of small planes in the planes' own layout,
 * without the 16×16 transposes in and out (which alone cost more than the whole channels-last
 * call of VGG-16's head): every region at most three columns wide and three rows tall, each start
 * column and row that of one region (outputs no larger than the input). Over the group's flat
 * floats, every position's sum across the columns of a region starting there,
 * {@code (x0 + x1) + x2}, and then down the rows of a region starting there, {@code (h0 + h1) + h2},
 * with the taps a region does not have ANDed to +0 by masks that repeat along the flat floats; each
 * output read by a gather from its region's first position, {@code + 0} and divided, as
 * {@link VecAdaptiveRows#averages}.
 *
 * <p>The same additions in the same order as {@link VecAdaptiveRows#sums} and
 * {@link VecAdaptiveRows#averages} lane by lane, so the same bits: adding a +0 for a missing tap
 * changes a sum only where it is a −0 (to +0), which changes no later sum that is not zero, and
 * every zero result is +0 after the final {@code + 0} either way. Only for groups whose inputs'
 * magnitude certifies every average (no infinity, no NaN: {@link AdaptiveAvgRows#limit}).
 */
final class VecAdaptFlat {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    private final int area;
    private final int w;
    /** Masks of the second and third tap across (period {@link #colPeriod}) and down (period {@link #rowPeriod}). */
    private final int[] col2;
    private final int[] col3;
    private final int[] row2;
    private final int[] row3;
    private final int colPeriod;
    private final int rowPeriod;
    /** For a vector's worth of planes: each output's region start, relative to the first plane, and its divisor. */
    private final int[] from;
    private final float[] divisor;

    private VecAdaptFlat(Shape is, Shape os, int[] y0, int[] y1, int[] x0, int[] x1) {
        int lanes = F.length();
        w = is.w();
        area = is.h() * w;
        colPeriod = lcm(w, lanes);
        rowPeriod = lcm(area, lanes);
        int[] width = new int[w];
        int[] height = new int[is.h()];
        for (int ox = 0; ox < os.w(); ox++) {
            width[x0[ox]] = x1[ox] - x0[ox];
        }
        for (int oy = 0; oy < os.h(); oy++) {
            height[y0[oy]] = y1[oy] - y0[oy];
        }
        col2 = new int[colPeriod + lanes];
        col3 = new int[colPeriod + lanes];
        for (int i = 0; i < col2.length; i++) {
            col2[i] = width[i % w] >= 2 ? -1 : 0;
            col3[i] = width[i % w] >= 3 ? -1 : 0;
        }
        row2 = new int[rowPeriod + lanes];
        row3 = new int[rowPeriod + lanes];
        for (int i = 0; i < row2.length; i++) {
            row2[i] = height[i % area / w] >= 2 ? -1 : 0;
            row3[i] = height[i % area / w] >= 3 ? -1 : 0;
        }
        int outArea = os.h() * os.w();
        from = new int[lanes * outArea];
        divisor = new float[lanes * outArea];
        for (int p = 0; p < lanes; p++) {
            for (int oy = 0; oy < os.h(); oy++) {
                for (int ox = 0; ox < os.w(); ox++) {
                    int o = p * outArea + oy * os.w() + ox;
                    from[o] = p * area + y0[oy] * w + x0[ox];
                    divisor[o] = (float) ((long) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]));
                }
            }
        }
    }

    /** The plan for these regions, or null where a region is wider or taller than three or two regions start together. */
    static VecAdaptFlat plan(Shape is, Shape os, int[] y0, int[] y1, int[] x0, int[] x1) {
        if (os.w() > is.w() || os.h() > is.h() || !fits(x0, x1) || !fits(y0, y1)) {
            return null;
        }
        return new VecAdaptFlat(is, os, y0, y1, x0, x1);
    }

    /** Regions of one to three, each starting after the one before. */
    private static boolean fits(int[] s, int[] e) {
        for (int i = 0; i < s.length; i++) {
            if (e[i] - s[i] < 1 || e[i] - s[i] > 3 || i > 0 && s[i] <= s[i - 1]) {
                return false;
            }
        }
        return true;
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    /** Floats of scratch {@link #run} needs for sums across (and down) of {@code planes} planes. */
    int scratch(int planes) {
        return planes * area + 2 * w + 2 * F.length();
    }

    /**
     * The averages of {@code planes} (at least a vector) planes at {@code stage[0..)} into
     * {@code res[0..)}, planes major; {@code across} and {@code down} of {@link #scratch} floats.
     * {@code stage} holds at least a vector and two floats past the planes.
     */
    void run(float[] stage, int planes, float[] across, float[] down, float[] res) {
        int lanes = F.length();
        int n = planes * area;
        for (int i = 0, k = 0; i < n; i += lanes) {
            FloatVector b = FloatVector.fromArray(F, stage, i + 1).viewAsIntegralLanes()
                    .and(IntVector.fromArray(I, col2, k)).viewAsFloatingLanes();
            FloatVector c = FloatVector.fromArray(F, stage, i + 2).viewAsIntegralLanes()
                    .and(IntVector.fromArray(I, col3, k)).viewAsFloatingLanes();
            FloatVector.fromArray(F, stage, i).add(b).add(c).intoArray(across, i);
            k += lanes;
            if (k >= colPeriod) {
                k -= colPeriod;
            }
        }
        int w2 = 2 * w;
        for (int i = 0, k = 0; i < n; i += lanes) {
            FloatVector b = FloatVector.fromArray(F, across, i + w).viewAsIntegralLanes()
                    .and(IntVector.fromArray(I, row2, k)).viewAsFloatingLanes();
            FloatVector c = FloatVector.fromArray(F, across, i + w2).viewAsIntegralLanes()
                    .and(IntVector.fromArray(I, row3, k)).viewAsFloatingLanes();
            FloatVector.fromArray(F, across, i).add(b).add(c).intoArray(down, i);
            k += lanes;
            if (k >= rowPeriod) {
                k -= rowPeriod;
            }
        }
        int outs = from.length;
        int outArea = outs / lanes;
        for (int p = 0; p < planes; p += lanes) {
            int q = Math.min(p, planes - lanes);
            int base = q * area;
            int to = q * outArea;
            for (int j = 0; j < outs; j += lanes) {
                FloatVector.fromArray(F, down, base, from, j).add(0f).div(FloatVector.fromArray(F, divisor, j))
                        .intoArray(res, to + j);
            }
        }
    }
}
