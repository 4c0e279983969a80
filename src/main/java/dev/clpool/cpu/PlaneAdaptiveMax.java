package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Adaptive max pooling of one-channel planes (channels-first tensors viewed as channels-last with
 * one channel), in long loops that C2 vectorises instead of one short scalar chain per region.
 *
 * <p>A unit of work is a group of whole planes staged with one bulk copy, or, for a plane (or its
 * results) too large for that, a band of its output rows with the input rows they read. Within it every region is a box
 * of {@code kh} rows by {@code kw} columns, and adaptive regions take at most three heights and
 * three widths. For each height, the maximum of {@code kh} vertically adjacent elements at every
 * position of the staged array comes from shifted folds ({@code v[i] = max(v[i], v[i + q*W])}, by
 * doubling, as {@link PlaneMax} folds its columns: windows of q rows give windows of 2q, and kh rows
 * are two overlapping windows of the largest power of two); the same along the row for each width;
 * each result is then one element of the array for its region's height and width. Windows that
 * straddle two planes are computed and never read. As everywhere on the CPU path the shifted operand
 * is copied into an array of its own first, so each loop has one index expression.
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
    /** Floats staged per unit of work (a group of planes or a band of one plane). */
    static final int UNIT_FLOATS = 1 << 13;

    private final Shape in;
    private final Shape out;
    private final int[] y0;
    private final int[] y1;
    private final int[] x0;
    private final int[] x1;
    /** The distinct region heights, and per output row the index of its height. */
    private final int[] heights;
    private final int[] heightOf;
    /** The distinct region widths, and per output column the index of its width. */
    private final int[] widths;
    private final int[] widthOf;
    /** Planes per unit (whole planes), or 0 when a plane is split into bands of output rows. */
    private final int group;
    /** The first output row of each band of a plane, and one past the last (bands only). */
    private final int[] bandStart;
    /** Per band (one, of {@link #group} planes, for whole planes), per (height, width): where its results are. */
    private final Picks[][] picks;

    /**
     * The results of one (height, width) of a unit: result {@code k} is element {@code from[k]} of the
     * array of windows of that size, and goes to {@code to[k]} of the unit's results. Plane by plane,
     * {@code perPlane} each, so a group of fewer planes takes a prefix.
     */
    private record Picks(int[] from, int[] to, int perPlane) {
    }

    /** Regions {@code [y0[oy], y1[oy]) × [x0[ox], x1[ox])} of a tensor of shape {@code in} (one channel). */
    PlaneAdaptiveMax(Shape in, Shape out, int[] y0, int[] y1, int[] x0, int[] x1) {
        this.in = in;
        this.out = out;
        this.y0 = y0;
        this.y1 = y1;
        this.x0 = x0;
        this.x1 = x1;
        heights = distinct(y0, y1);
        heightOf = indexOf(heights, y0, y1);
        widths = distinct(x0, x1);
        widthOf = indexOf(widths, x0, x1);
        long plane = (long) in.h() * in.w();
        long outPlane = (long) out.h() * out.w();
        if (plane <= UNIT_FLOATS && outPlane <= UNIT_FLOATS) {
            group = (int) Math.min(in.n(), UNIT_FLOATS / Math.max(plane, outPlane));
            bandStart = null;
            picks = new Picks[][] {picks(group, 0, out.h(), in.h() * in.w())};
        } else {
            group = 0;
            bandStart = bands();
            picks = new Picks[bandStart.length - 1][];
            for (int k = 0; k < picks.length; k++) {
                int oa = bandStart[k];
                int ob = bandStart[k + 1];
                picks[k] = picks(1, oa, ob, (y1[ob - 1] - y0[oa]) * in.w());
            }
        }
    }

    /** Where the results of output rows {@code [oa, ob)} of {@code planes} planes staged {@code span} apart are. */
    private Picks[] picks(int planes, int oa, int ob, int span) {
        int ow = out.w();
        int nw = widths.length;
        int[] count = new int[heights.length * nw];
        for (int oy = oa; oy < ob; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                count[heightOf[oy] * nw + widthOf[ox]] += planes;
            }
        }
        Picks[] all = new Picks[count.length];
        for (int i = 0; i < count.length; i++) {
            all[i] = new Picks(new int[count[i]], new int[count[i]], count[i] / planes);
        }
        int[] filled = new int[count.length];
        for (int g = 0; g < planes; g++) {
            for (int oy = oa; oy < ob; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int i = heightOf[oy] * nw + widthOf[ox];
                    all[i].from[filled[i]] = g * span + (y0[oy] - y0[oa]) * in.w() + x0[ox];
                    all[i].to[filled[i]++] = (g * (ob - oa) + oy - oa) * ow + ox;
                }
            }
        }
        return all;
    }

    /** The distinct values of {@code end[i] - start[i]}. */
    private static int[] distinct(int[] start, int[] end) {
        return IntStream.range(0, start.length).map(i -> end[i] - start[i]).distinct().sorted().toArray();
    }

    private static int[] indexOf(int[] sizes, int[] start, int[] end) {
        int[] at = new int[start.length];
        for (int i = 0; i < start.length; i++) {
            at[i] = Arrays.binarySearch(sizes, end[i] - start[i]);
        }
        return at;
    }

    /** Bands of output rows whose input rows and results each fit {@link #UNIT_FLOATS} (at least one output row each). */
    private int[] bands() {
        int[] starts = new int[out.h() + 1];
        int count = 0;
        int oy = 0;
        while (oy < out.h()) {
            starts[count++] = oy;
            int end = oy + 1;
            while (end < out.h() && (long) (y1[end] - y0[oy]) * in.w() <= UNIT_FLOATS
                    && (long) (end + 1 - oy) * out.w() <= UNIT_FLOATS) {
                end++;
            }
            oy = end;
        }
        starts[count] = out.h();
        return Arrays.copyOf(starts, count + 1);
    }

    /** Units of work: groups of planes, or bands of every plane. */
    int units() {
        return group > 0 ? (in.n() + group - 1) / group : in.n() * (bandStart.length - 1);
    }

    /** Unit {@code u}: stages its input, pools it and writes its results. */
    void run(FloatBuffer src, FloatBuffer dst, int u) {
        int first;
        int planes;
        int oa;
        int ob;
        if (group > 0) {
            first = u * group;
            planes = Math.min(group, in.n() - first);
            oa = 0;
            ob = out.h();
        } else {
            int bands = bandStart.length - 1;
            first = u / bands;
            planes = 1;
            oa = bandStart[u % bands];
            ob = bandStart[u % bands + 1];
        }
        int w = in.w();
        int ya = y0[oa];
        int span = (group > 0 ? in.h() : y1[ob - 1] - ya) * w;
        int len = planes * span;
        Scratch s = Scratch.get();
        float[] stage = s.floats(0, len);
        float[] tmp = s.floats(1, len);
        float[] across = s.floats(2, len);
        int ow = out.w();
        int outs = planes * (ob - oa) * ow;
        float[] res = s.floats(3, outs);
        float[] vertical = s.floats(4, len);
        src.get(Math.toIntExact(in.offset(first, ya, 0, 0)), stage, 0, len);
        Picks[] unit = picks[group > 0 ? 0 : u % (bandStart.length - 1)];
        boolean zeros = false;
        for (int a = 0; a < heights.length; a++) {
            if (!used(unit, a)) {
                continue;
            }
            float[] down = windows(stage, len, heights[a], w, vertical, tmp);
            int valid = len - (heights[a] - 1) * w;
            for (int b = 0; b < widths.length; b++) {
                Picks p = unit[a * widths.length + b];
                if (p.perPlane > 0) {
                    float[] box = windows(down, valid, widths[b], 1, across, tmp);
                    zeros |= pick(box, res, p.from, p.to, planes * p.perPlane);
                }
            }
        }
        if (zeros && MaxExact.holdsNegativeZeroOrNaN(stage, len)) {
            exact(stage, res, planes, span, oa, ob);
        }
        dst.put(Math.toIntExact(out.offset(first, oa, 0, 0)), res, 0, outs);
    }

    /** Whether the unit has regions of height {@code heights[a]}. */
    private boolean used(Picks[] unit, int a) {
        for (int b = 0; b < widths.length; b++) {
            if (unit[a * widths.length + b].perPlane > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Copies {@code n} results out of {@code box} ({@code res[to[k]] = box[from[k]]}); says whether
     * any is zero or NaN. One flat loop over the unit's results (a loop per output row is six
     * iterations long for SPP-net's 6×6 and cost more than the copies).
     */
    private static boolean pick(float[] box, float[] res, int[] from, int[] to, int n) {
        boolean zeros = false;
        for (int k = 0; k < n; k++) {
            float m = box[from[k]];
            res[to[k]] = m;
            zeros |= !(m > 0 || m < 0);
        }
        return zeros;
    }

    /** Recomputes every zero or NaN result with clpool's rule, in scan order. */
    private void exact(float[] stage, float[] res, int planes, int span, int oa, int ob) {
        int w = in.w();
        int ow = out.w();
        int ya = y0[oa];
        for (int g = 0; g < planes; g++) {
            for (int oy = oa; oy < ob; oy++) {
                int to = (g * (ob - oa) + oy - oa) * ow;
                for (int ox = 0; ox < ow; ox++) {
                    float m = res[to + ox];
                    if (m > 0 || m < 0) {
                        continue;
                    }
                    m = Float.NEGATIVE_INFINITY;
                    for (int y = y0[oy]; y < y1[oy]; y++) {
                        int at = g * span + (y - ya) * w;
                        for (int x = x0[ox]; x < x1[ox]; x++) {
                            m = CpuBackend.max(m, stage[at + x]);
                        }
                    }
                    res[to + ox] = m;
                }
            }
        }
    }

    /**
     * The maximum of {@code k} elements {@code step} apart at every position of {@code from[0, len)}
     * where they all lie: {@code into[i]} for {@code i < len - (k-1)*step}. By doubling (windows of q
     * give windows of 2q in one fold; k is two overlapping windows of the largest q). Returns the
     * array holding the result: {@code from} itself when k is 1, else {@code into}.
     */
    static float[] windows(float[] from, int len, int k, int step, float[] into, float[] tmp) {
        if (k == 1) {
            return from;
        }
        float[] cur = from;
        int q = 1;
        while (2 * q <= k) {
            fold(cur, into, tmp, q * step, len - (2 * q - 1) * step);
            cur = into;
            q *= 2;
        }
        if (q < k) {
            fold(cur, into, tmp, (k - q) * step, len - (k - 1) * step);
        }
        return into;
    }

    /** {@code into[i] = max(from[i], from[i + shift])} for {@code i < n}, through a copy into {@code tmp}. */
    private static void fold(float[] from, float[] into, float[] tmp, int shift, int n) {
        System.arraycopy(from, shift, tmp, 0, n);
        for (int i = 0; i < n; i++) {
            into[i] = Math.max(from[i], tmp[i]);
        }
    }
}
