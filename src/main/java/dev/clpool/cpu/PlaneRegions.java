package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The geometry of adaptive pooling of one-channel planes (channels-first tensors viewed as
 * channels-last with one channel) shared by {@link PlaneAdaptiveMax} and {@link PlaneAdaptiveAvg}:
 * units of work, and where each unit's results lie in its staged input.
 *
 * <p>A unit is a group of whole planes staged with one bulk copy, or, for a plane (or its results)
 * too large for that, a band of its output rows with the input rows they read. Every region is a box
 * of {@code kh} rows by {@code kw} columns, and adaptive regions take at most three heights and three
 * widths; a unit's results are listed per (height, width), each by the position of its region's
 * first element in the staged input and its place among the unit's results ({@link Picks}), so that
 * the paths run one flat loop per size over the whole unit instead of a few-iteration loop per output
 * row (six for SPP-net's 6×6), whose set-up cost more than the work.
 */
final class PlaneRegions {
    /** Floats staged per unit of work, and results per unit (a group of planes or a band of one plane). */
    static final int UNIT_FLOATS = 1 << 13;

    final Shape in;
    final Shape out;
    final int[] y0;
    final int[] y1;
    final int[] x0;
    final int[] x1;
    /** The distinct region heights, and per output row the index of its height. */
    final int[] heights;
    private final int[] heightOf;
    /** The distinct region widths, and per output column the index of its width. */
    final int[] widths;
    private final int[] widthOf;
    /** Planes per unit (whole planes), or 0 when a plane is split into bands of output rows. */
    private final int group;
    /** The first output row of each band of a plane, and one past the last (bands only). */
    private final int[] bandStart;
    /** Per band (one, of {@link #group} planes, for whole planes), per (height, width): where its results are. */
    private final Picks[][] picks;

    /**
     * The results of one (height, width) of a unit: result {@code k}'s region starts at element
     * {@code from[k]} of the staged input, and the result goes to {@code to[k]} of the unit's
     * results. Plane by plane, {@code perPlane} each, so a group of fewer planes takes a prefix.
     */
    record Picks(int[] from, int[] to, int perPlane) {
    }

    /**
     * One unit: {@code planes} planes from plane {@code first}, output rows {@code [oa, ob)} of
     * each, staged {@code span} floats apart from input row {@code y0[oa]}.
     */
    record Unit(int first, int planes, int oa, int ob, int span, Picks[] picks) {
        /** Floats of staged input. */
        int length() {
            return planes * span;
        }
    }

    /** Regions {@code [y0[oy], y1[oy]) × [x0[ox], x1[ox])} of a tensor of shape {@code in} (one channel). */
    PlaneRegions(Shape in, Shape out, int[] y0, int[] y1, int[] x0, int[] x1) {
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
                picks[k] = picks(1, bandStart[k], bandStart[k + 1], span(bandStart[k], bandStart[k + 1]));
            }
        }
    }

    /** Floats of the input rows that output rows {@code [oa, ob)} read. */
    private int span(int oa, int ob) {
        return (y1[ob - 1] - y0[oa]) * in.w();
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

    /** The distinct values of {@code end[i] - start[i]}, ascending. */
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

    /** Unit {@code u}. */
    Unit unit(int u) {
        if (group > 0) {
            int first = u * group;
            return new Unit(first, Math.min(group, in.n() - first), 0, out.h(), in.h() * in.w(), picks[0]);
        }
        int bands = bandStart.length - 1;
        int oa = bandStart[u % bands];
        int ob = bandStart[u % bands + 1];
        return new Unit(u / bands, 1, oa, ob, span(oa, ob), picks[u % bands]);
    }

    /** The picks of height {@code heights[a]} and width {@code widths[b]} in {@code unit}. */
    Picks picks(Unit unit, int a, int b) {
        return unit.picks[a * widths.length + b];
    }

    /** Stages the unit's input rows into {@code to}. */
    void stage(FloatBuffer src, Unit unit, float[] to) {
        src.get(Math.toIntExact(in.offset(unit.first, y0[unit.oa], 0, 0)), to, 0, unit.length());
    }

    /** Writes the unit's {@code planes * (ob - oa) * OW} results. */
    void write(FloatBuffer dst, Unit unit, float[] res) {
        dst.put(Math.toIntExact(out.offset(unit.first, unit.oa, 0, 0)), res, 0, unit.planes * (unit.ob - unit.oa) * out.w());
    }
}
