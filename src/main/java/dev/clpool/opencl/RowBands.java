package dev.clpool.opencl;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Row bands with a halo: how one batch item too large for a device allocation is pooled in pieces.
 * A band is output rows {@code [outFrom, outTo)} of one item; it reads input rows
 * {@code [inFrom, inTo)} (rows are contiguous in NHWC, so a band's input and output are contiguous
 * byte ranges of the item) with
 * {@code inFrom = max(0, start(outFrom))} and {@code inTo = min(H, start(outTo-1) + e)}, the
 * windows' rows clipped to the input; bands overlap by the halo, the rows two windows share.
 *
 * <p>A band runs as an ordinary pooling of a {@code 1 x (inTo-inFrom) x W x C} tensor whose row
 * axis is the item's with the leading padding {@code inFrom - start(outFrom)} (what is left of the
 * item's top padding: only bands that start inside it have any) and the item's trailing padding.
 * Its output height is set to {@code outTo - outFrom}, not derived from the sizes, so ceil mode
 * needs no special case. The trailing padding matters only to the {@code count_include_pad}
 * divisor, {@code min(start + e, in + padEnd) - start}: a band that ends above the input's last row
 * has every window inside it (so the divisor is {@code e} there and in the item), and one that
 * reaches the last row clips exactly where the item does. {@link #band} checks that every window
 * of a band has the item's start, taps and divisor extent. Since only the leading padding varies,
 * the bands of an item need at most a few kernel builds: the bands that start in the top padding,
 * and one for all the others. A band's geometry carries its first input row as its
 * {@link PoolGeometry#rowOrigin}, so paths whose summation order is anchored at the tensor's rows
 * sum each window as the whole item does.
 */
final class RowBands {
    private RowBands() {
    }

    /**
     * Output rows {@code [outFrom, outTo)} of a batch item, computed from its input rows
     * {@code [inFrom, inTo)} as {@code geometry} (input {@code 1 x (inTo-inFrom) x W x C}).
     */
    record Band(int outFrom, int outTo, int inFrom, int inTo, PoolGeometry geometry) {
        int outRows() {
            return outTo - outFrom;
        }

        int inRows() {
            return inTo - inFrom;
        }
    }

    /** The first input row output rows from {@code o} on read. */
    private static int inFrom(Axis rows, int o) {
        return (int) Math.max(0, rows.start(o));
    }

    /** One past the last input row output rows up to {@code o} (inclusive) read. */
    private static int inTo(Axis rows, int o) {
        return (int) Math.min(rows.in(), rows.start(o) + rows.effectiveWindow());
    }

    /** The most input rows a band of one output row reads: the smallest band there can be. */
    static int inputRowsOfOneOutputRow(Axis rows) {
        int most = 0;
        for (int o = 0; o < rows.out(); o++) {
            most = Math.max(most, inTo(rows, o) - inFrom(rows, o));
        }
        return most;
    }

    /**
     * Splits the output rows of one batch item of {@code g} into bands, top to bottom, each as
     * tall as allowed: at most {@code maxInRows} input rows and {@code maxOutRows} output rows.
     *
     * @throws IllegalArgumentException when one output row alone reads more than {@code maxInRows}
     *                                  input rows, or {@code maxOutRows < 1}
     */
    static List<Band> split(PoolGeometry g, long maxInRows, long maxOutRows) {
        Axis rows = g.rows();
        if (maxOutRows < 1) {
            throw new IllegalArgumentException("a band must hold at least one output row, got " + maxOutRows);
        }
        List<Band> bands = new ArrayList<>();
        for (int o0 = 0; o0 < rows.out(); ) {
            int in0 = inFrom(rows, o0);
            long last; // the last output row whose window's rows end within in0 + maxInRows
            if (rows.in() - in0 <= maxInRows) {
                last = rows.out() - 1L;
            } else {
                last = Math.floorDiv(in0 + maxInRows - rows.effectiveWindow() + rows.padBegin(), rows.stride());
            }
            int o1 = (int) Math.min(o0 + Math.min(maxOutRows, rows.out()), Math.min(rows.out(), last + 1));
            if (o1 <= o0) {
                throw new IllegalArgumentException("output row " + o0 + " reads " + (inTo(rows, o0) - in0)
                        + " input rows, more than the " + maxInRows + " a band may hold");
            }
            bands.add(band(g, o0, o1));
            o0 = o1;
        }
        return bands;
    }

    /**
     * The band of output rows {@code [o0, o1)} of one batch item of {@code g}.
     *
     * @throws IllegalStateException if a window of the band differs from the item's (a bug here)
     */
    static Band band(PoolGeometry g, int o0, int o1) {
        Axis rows = g.rows();
        int in0 = inFrom(rows, o0);
        int in1 = inTo(rows, o1 - 1);
        Axis banded = new Axis(in1 - in0, o1 - o0, rows.window(), rows.stride(), rows.dilation(),
                (int) (in0 - rows.start(o0)), rows.padEnd());
        for (int o = o0; o < o1; o++) {
            int b = o - o0;
            if (banded.start(b) + in0 != rows.start(o) || banded.firstTap(b) != rows.firstTap(o)
                    || banded.endTap(b) != rows.endTap(o) || banded.extentIncludingPad(b) != rows.extentIncludingPad(o)) {
                throw new IllegalStateException("row band [" + o0 + ", " + o1 + ") of " + g.spec() + " on "
                        + g.input() + ": output row " + o + " has another window in the band (" + banded + ")");
            }
        }
        Shape in = new Shape(1, in1 - in0, g.input().w(), g.input().c());
        Shape out = new Shape(1, o1 - o0, g.output().w(), g.output().c());
        return new Band(o0, o1, in0, in1, new PoolGeometry(g.spec(), in, out, banded, g.cols(), g.rowOrigin() + in0));
    }

    /**
     * Rows {@code [y0, y1)} of batch item {@code n} of an NHWC tensor of shape {@code s} stored in
     * {@code b} with {@code elementBytes} per element: one contiguous range, as a slice.
     */
    static ByteBuffer rows(ByteBuffer b, Shape s, int elementBytes, int n, int y0, int y1) {
        long row = (long) s.w() * s.c() * elementBytes;
        return HostBatches.slice(b, ((long) n * s.h() + y0) * row, (y1 - y0) * row);
    }
}
