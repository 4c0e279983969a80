package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adaptive max and average of staged channels-first planes no wider than a vector (VGG-16's head,
 * 10×10 to 7×7; SPP-net's 6×6 level, 13×13), for {@link AdaptPlaneLanes}: each input row is one
 * vector, read at column shifts 0, 1, … (a lane per starting column), so lane x folds columns x,
 * x + 1, … in order; the lanes of each region's start column and width are picked into lane ox by
 * one shuffle ({@code x0[ox]}) per distinct region width; the picked rows are then folded down the
 * output row's region rows. No transposes: the planes' own layout, one vector per row.
 *
 * <p>Lane by lane the arithmetic is {@link VecAdaptive}'s channels-last kernels' for one channel
 * (columns in order, then rows in order): max is clpool's rule in lanes with the {@code x − x}
 * poison (ties keep the first in scan order; a NaN or infinity leaves the lane NaN, which the
 * caller redoes by the rule), the average {@link AdaptiveAvgRows}' float sum and running bound B
 * ({@code |t|} after every addition), so the results and certificates are those of the transposed
 * path bit for bit.
 *
 * <p>The caller pads: rows are read 16 floats at a time from column shifts up to the widest
 * region's width − 1 ({@link #pad} floats past the group's planes), and each output row is written
 * 16 lanes wide, in increasing order (later rows overwrite the lanes past {@code OW}; {@link #pad}
 * floats past the group's results).
 */
final class VecPlaneRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final int w;
    private final int h;
    private final int ow;
    private final int oh;
    private final int[] y0;
    private final int[] y1;
    /** Lane ox from lane x0[ox] (lanes past OW from lane 0). */
    private final int[] from;
    /** The narrower region width, and the wider one (0 where all regions are as wide) with its lanes ox. */
    private final int narrow;
    private final int wide;
    private final boolean[] wideLanes;
    /** Lanes below OW. */
    private final boolean[] outputs;

    /** Regions {@code [y0[oy], y1[oy]) × [x0[ox], x1[ox])} of {@code h}×{@code w} planes; see {@link #fits}. */
    VecPlaneRows(int h, int w, int[] y0, int[] y1, int[] x0, int[] x1) {
        this.w = w;
        this.h = h;
        this.ow = x0.length;
        this.oh = y0.length;
        this.y0 = y0;
        this.y1 = y1;
        int lanes = F.length();
        from = new int[lanes];
        wideLanes = new boolean[lanes];
        outputs = new boolean[lanes];
        int[] widths = widths(x0, x1);
        narrow = widths[0];
        wide = widths.length > 1 ? widths[1] : 0;
        for (int ox = 0; ox < ow; ox++) {
            from[ox] = x0[ox];
            wideLanes[ox] = x1[ox] - x0[ox] == wide;
            outputs[ox] = true;
        }
    }

    /** The distinct widths of regions {@code [x0[ox], x1[ox])}, ascending. */
    private static int[] widths(int[] x0, int[] x1) {
        return java.util.stream.IntStream.range(0, x0.length).map(ox -> x1[ox] - x0[ox]).distinct().sorted().toArray();
    }

    /**
     * Whether planes of width {@code w} run here: planes and output rows at most a vector wide, and
     * regions of at most two widths (as adaptive pooling's are: ⌈W/OW⌉ and one more, or W/OW).
     */
    static boolean fits(int w, int[] x0, int[] x1) {
        return w <= F.length() && x0.length <= F.length() && widths(x0, x1).length <= 2;
    }

    /** Floats past a group's staged planes that are read, and past its results that are written. */
    int pad() {
        return F.length() + Math.max(narrow, wide);
    }

    /**
     * Max of {@code count} planes staged at {@code stage[p·h·w]} into {@code res[p·OH·OW]}: clpool's
     * rule in lanes, NaN where the region holds a NaN or an infinity (the caller redoes those).
     * {@code rows}: at least h vectors of scratch.
     */
    void max(float[] stage, int count, float[] res, float[] rows) {
        int step = F.length();
        int outArea = oh * ow;
        // Built here, not kept in fields: C2 unboxes a mask or shuffle only where it knows its class.
        VectorShuffle<Float> pick = VectorShuffle.fromArray(F, from, 0);
        VectorMask<Float> wider = VectorMask.fromArray(F, wideLanes, 0);
        for (int p = 0; p < count; p++) {
            for (int y = 0; y < h; y++) {
                int o = (p * h + y) * w;
                FloatVector x = FloatVector.fromArray(F, stage, o);
                FloatVector m = x.sub(x.sub(x));
                for (int k = 1; k < narrow; k++) {
                    x = FloatVector.fromArray(F, stage, o + k);
                    m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
                }
                FloatVector picked = m.rearrange(pick);
                if (wide != 0) {
                    for (int k = narrow; k < wide; k++) {
                        x = FloatVector.fromArray(F, stage, o + k);
                        m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
                    }
                    picked = picked.blend(m.rearrange(pick), wider);
                }
                picked.intoArray(rows, y * step);
            }
            for (int oy = 0; oy < oh; oy++) {
                FloatVector m = FloatVector.fromArray(F, rows, y0[oy] * step);
                for (int y = y0[oy] + 1; y < y1[oy]; y++) {
                    FloatVector r = FloatVector.fromArray(F, rows, y * step);
                    m = m.blend(r, r.compare(VectorOperators.GT, m)).sub(r.sub(r));
                }
                m.intoArray(res, p * outArea + oy * ow);
            }
        }
    }

    /**
     * Averages of {@code count} staged planes (as {@link #max}) into {@code res}, their bounds B into
     * {@code bounds} (the same layout), each region's sum divided by {@code divisor[oy·OW + ox]}
     * ({@code (s + 0) / d}, as {@link VecAdaptive#avgFinish}); returns false if some result's
     * B·{@code perB} exceeds max(1, |avg|) or is NaN (the caller then checks each with
     * {@link AvgWindows#certified}). {@code divisor} and {@code perB} are padded to whole vectors
     * past their last row; {@code rows}: at least 2·h vectors of scratch.
     */
    boolean avg(float[] stage, int count, float[] res, float[] bounds, float[] divisor, float[] perB, float[] rows) {
        int step = F.length();
        int outArea = oh * ow;
        VectorShuffle<Float> pick = VectorShuffle.fromArray(F, from, 0);
        VectorMask<Float> wider = VectorMask.fromArray(F, wideLanes, 0);
        VectorMask<Float> past = VectorMask.fromArray(F, outputs, 0).not();
        FloatVector worst = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int p = 0; p < count; p++) {
            for (int y = 0; y < h; y++) {
                int o = (p * h + y) * w;
                FloatVector s = FloatVector.fromArray(F, stage, o);
                FloatVector b = FloatVector.zero(F);
                for (int k = 1; k < narrow; k++) {
                    s = s.add(FloatVector.fromArray(F, stage, o + k));
                    b = b.add(s.abs());
                }
                FloatVector ps = s.rearrange(pick);
                FloatVector pb = b.rearrange(pick);
                if (wide != 0) {
                    for (int k = narrow; k < wide; k++) {
                        s = s.add(FloatVector.fromArray(F, stage, o + k));
                        b = b.add(s.abs());
                    }
                    ps = ps.blend(s.rearrange(pick), wider);
                    pb = pb.blend(b.rearrange(pick), wider);
                }
                ps.intoArray(rows, 2 * y * step);
                pb.intoArray(rows, (2 * y + 1) * step);
            }
            for (int oy = 0; oy < oh; oy++) {
                FloatVector s = FloatVector.fromArray(F, rows, 2 * y0[oy] * step);
                FloatVector b = FloatVector.fromArray(F, rows, (2 * y0[oy] + 1) * step);
                for (int y = y0[oy] + 1; y < y1[oy]; y++) {
                    s = s.add(FloatVector.fromArray(F, rows, 2 * y * step));
                    b = b.add(FloatVector.fromArray(F, rows, (2 * y + 1) * step).add(s.abs()));
                }
                FloatVector v = s.add(0f).div(FloatVector.fromArray(F, divisor, oy * ow));
                FloatVector excess = b.mul(FloatVector.fromArray(F, perB, oy * ow)).sub(v.abs().max(1f));
                worst = worst.max(excess.blend(Float.NEGATIVE_INFINITY, past));
                int at = p * outArea + oy * ow;
                v.intoArray(res, at);
                b.intoArray(bounds, at);
            }
        }
        return worst.compare(VectorOperators.LE, 0f).allTrue();
    }
}
