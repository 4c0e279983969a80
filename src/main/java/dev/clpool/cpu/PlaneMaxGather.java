package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * Max backward of one-channel planes (channels-first tensors viewed as (N·C, H, W, 1)) in the
 * Vector API's lanes, where it is on, the planes' rows fill a vector and the column stride is 1 or
 * 2, over a band's <b>stride phases laid out flat</b>. The input (y, x) is phase plane
 * ((y + padTop) mod sh, (x + padLeft) mod sw) at row Y = (y + padTop) / sh and column
 * X = (x + padLeft) / sw, and every phase plane row, like every output row, is {@link #pitch}
 * elements long: then tap (jy, jx) of output (oy, ox) is element (oy + offY, ox + offX) of one
 * phase plane, a fixed distance from the output's own position, and an input element's
 * contributions come from outputs at fixed distances too. So both passes run over a whole band in
 * one flat loop of vectors ({@link VecArgmaxPlanes#flatTaps}, {@link VecPlaneMaxGather#sum}), not
 * row by row: before, a 56-output row was four vectors (the last overlapping: 14% of the lanes
 * computed twice) in each pass, with its taps and contributions listed per row, and the columns
 * at a row's ends chosen and summed one at a time.
 *
 * <p>A band is a range of phase rows Y (every input row lies in one band). Its input rows are staged
 * as raw bits, split by column phase (at stride 2: {@link VecArgmaxPlanes#split}), −∞ where a
 * window reaches past the input; its output rows' chosen tap numbers are found by the rule over
 * the taps in scan order (the first maximum, the first NaN), and their gradients staged beside
 * them (+0 in the slack columns between rows, which adds nothing). A window whose choice is −∞ may
 * have chosen the padding (a window of −∞ only that the padding leads): then the band's taps are
 * chosen again one output at a time by the rule over the taps inside the input. Each input element
 * sums, from +0, the gradients of the outputs that chose it, in ascending output rows then columns
 * (the general path's order; up to two terms in float, which are the double sum's bits, more in
 * double lanes), and is rounded to float once with one canonical NaN: {@link PlaneBackward}'s bits.
 * The phase planes of the sums are interleaved back into the band's input rows, written with one
 * bulk copy.
 */
final class PlaneMaxGather {
    /** Input elements per band, a task (its staged planes, taps and sums stay in the second-level cache). */
    private static final int BAND_INPUTS = 1 << 14;

    private final int ih;
    private final int iw;
    private final int oh;
    private final int ow;
    private final int sh;
    private final int sw;
    private final int padTop;
    private final int padLeft;
    private final int taps;
    private final int kw;
    private final int dh;
    private final int dw;
    /** The output rows and columns whose windows lie inside the input: [oyLo, oyHi), [oxLo, oxHi). */
    private final int oyLo;
    private final int oyHi;
    private final int oxLo;
    private final int oxHi;
    /** Phase rows and phase columns the furthest tap lies beyond its output's own. */
    private final int maxOffY;
    private final int maxOffX;
    /** Elements of every phase plane row and output row of a band. */
    private final int pitch;
    /** Phase rows of all input rows, and per band. */
    private final int phaseRows;
    private final int bandY;
    /** Per tap: its distance in a band's phase planes ({@code plane·planeLen} added per band), its phase plane, its row. */
    private final int[] tapShift;
    private final int[] tapPlane;
    private final int[] tapNumber;
    /**
     * Per phase plane: its taps' distances back to the outputs holding them (negative), then their
     * tap numbers; in ascending output order (the general path's summation order).
     */
    private final int[][] contributions;

    private PlaneMaxGather(PoolGeometry g) {
        Axis r = g.rows();
        Axis c = g.cols();
        ih = r.in();
        iw = c.in();
        oh = r.out();
        ow = c.out();
        sh = r.stride();
        sw = c.stride();
        padTop = r.padBegin();
        padLeft = c.padBegin();
        int kh = r.window();
        kw = c.window();
        dh = r.dilation();
        dw = c.dilation();
        taps = kh * kw;
        long inside = inside(r);
        oyLo = (int) (inside >>> 32);
        oyHi = (int) inside;
        inside = inside(c);
        oxLo = (int) (inside >>> 32);
        oxHi = (int) inside;
        maxOffY = (kh - 1) * r.dilation() / sh;
        maxOffX = (kw - 1) * c.dilation() / sw;
        pitch = Math.max((iw + padLeft + sw - 1) / sw, ow + maxOffX) + maxOffX;
        phaseRows = (ih + padTop + sh - 1) / sh;
        bandY = Math.max(1, Math.min(phaseRows, BAND_INPUTS / (sh * sw * pitch)));
        tapShift = new int[taps];
        tapPlane = new int[taps];
        tapNumber = new int[taps];
        int[] count = new int[sh * sw];
        for (int t = 0; t < taps; t++) {
            int dy = t / kw * r.dilation();
            int dx = t % kw * c.dilation();
            tapPlane[t] = dy % sh * sw + dx % sw;
            tapShift[t] = dy / sh * pitch + dx / sw;
            tapNumber[t] = t;
            count[tapPlane[t]]++;
        }
        contributions = new int[sh * sw][];
        for (int k = 0; k < sh * sw; k++) {
            contributions[k] = new int[2 * count[k]];
            // Scan order backwards: descending distance, so ascending outputs (no two taps of a plane share one).
            for (int t = taps - 1, i = 0; t >= 0; t--) {
                if (tapPlane[t] == k) {
                    contributions[k][i] = -tapShift[t];
                    contributions[k][count[k] + i++] = t;
                }
            }
        }
    }

    /** The outputs [lo, hi) of an axis whose windows lie inside the input, packed as lo << 32 | hi (lo == hi if none). */
    private static long inside(Axis a) {
        int lo = a.out();
        int hi = 0;
        for (int o = 0; o < a.out(); o++) {
            if (a.firstTap(o) == 0 && a.endTap(o) == a.window()) {
                lo = Math.min(lo, o);
                hi = o + 1;
            }
        }
        return ((long) Math.min(lo, hi) << 32) | hi;
    }

    /** Whether {@link #run} takes this max backward of one channel. */
    static boolean fits(PoolGeometry g) {
        return g.mode() == PoolMode.MAX && g.input().c() == 1 && VectorSupport.fitsRow(g.input().w())
                && VecArgmaxPlanes.handles(g.cols().stride()) && WindowPlan.flatBackwardPays(g);
    }

    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, CpuBackward.Parallel parallel) {
        PlaneMaxGather m = new PlaneMaxGather(g);
        IntBuffer x = CpuArgmax.bits(in);
        FloatBuffer dy = gradOut.floats();
        FloatBuffer dx = gradIn.floats();
        int bands = (m.phaseRows + m.bandY - 1) / m.bandY;
        parallel.run(g.input().n() * bands, task -> m.band(x, dy, dx, task / bands, task % bands * m.bandY, Scratch.get()));
    }

    /** The gradients of plane {@code n}'s input rows in phase rows [y0, y0 + bandY). */
    private void band(IntBuffer x, FloatBuffer dy, FloatBuffer dx, int n, int y0, Scratch s) {
        int lanes = VecWidth.floats();
        int y1 = Math.min(phaseRows, y0 + bandY);
        int base = y0 - maxOffY;                       // phase row of the band's first output row
        int outRows = y1 - base;
        int stageRows = outRows + maxOffY;
        int planeLen = stageRows * pitch + lanes + maxOffX;
        int planes = sh * sw;
        int[] stage = s.ints(0, 1, planes * planeLen)[0];
        int[] row = s.ints(1, 1, sw * pitch)[0];
        int[] shift = s.ints(2, 1, taps)[0];
        int[] chosen = s.ints(3, 1, outRows * pitch + lanes)[0];
        float[] grad = s.floats(0, outRows * pitch + lanes);
        stage(x, n, base, stageRows, planeLen, stage, row);
        for (int t = 0; t < taps; t++) {
            shift[t] = tapPlane[t] * planeLen + tapShift[t];
        }
        // Output rows inside the output: their taps and gradients; the others' (and the slack) take no tap and +0.
        int r0 = Math.max(0, -base);
        int r1 = Math.max(r0, Math.min(outRows, oh - base));
        Arrays.fill(chosen, 0, r0 * pitch, -1);
        Arrays.fill(chosen, r1 * pitch, outRows * pitch + lanes, -1);
        Arrays.fill(grad, 0, outRows * pitch + lanes, 0f);
        for (int r = r0; r < r1; r++) {
            dy.get(Math.toIntExact((long) (n * oh + base + r) * ow), grad, r * pitch + maxOffX, ow);
        }
        int from = r0 * pitch;
        int to = r1 * pitch;
        boolean all = to - from < lanes;
        if (!all) {
            VecArgmaxPlanes.flatTaps(stage, shift, tapNumber, taps, from, to, chosen);
        }
        exactTaps(stage, shift, base, r0, r1, chosen, all);
        float[] sums = s.floats(1, planes * (bandY * pitch + lanes));
        int sumLen = bandY * pitch + lanes;
        for (int k = 0; k < planes; k++) {
            // From column X = 0 of the band's first phase row: the outputs of every tap lie after the staged start.
            gather(chosen, grad, contributions[k], maxOffY * pitch + maxOffX, (y1 - y0) * pitch - maxOffX, sums,
                    k * sumLen + maxOffX);
        }
        write(dx, sums, sumLen, n, y0, y1, s);
    }

    /**
     * Phase rows [base, base + rows) of plane n's input into the phase planes ({@code planeLen}
     * ints apart): phase row R, column X at {@code R·pitch + maxOffX + X}, −∞ outside the input.
     */
    private void stage(IntBuffer x, int n, int base, int rows, int planeLen, int[] stage, int[] row) {
        int lead = padLeft + sw * maxOffX;
        int len = sw * pitch;
        for (int r = 0; r < rows; r++) {
            for (int yp = 0; yp < sh; yp++) {
                int y = (base + r) * sh + yp - padTop;
                int at = yp * sw * planeLen + r * pitch;
                if (y < 0 || y >= ih) {
                    infinity(stage, at, at + pitch);
                    if (sw == 2) {
                        infinity(stage, at + planeLen, at + planeLen + pitch);
                    }
                    continue;
                }
                int[] to = sw == 1 ? stage : row;
                int o = sw == 1 ? at : 0;
                infinity(to, o, o + lead);
                x.get(Math.toIntExact((long) (n * ih + y) * iw), to, o + lead, iw);
                infinity(to, o + lead + iw, o + len);
                if (sw == 2) {
                    VecArgmaxPlanes.split(row, len, stage, at, planeLen);
                }
            }
        }
        for (int k = 0; k < sh * sw; k++) {
            // The slack past the last row: read by the last vectors of the tap pass, never chosen for an output.
            Arrays.fill(stage, k * planeLen + rows * pitch, (k + 1) * planeLen, 0);
        }
    }

    private static void infinity(int[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] = CpuArgmax.NEGATIVE_INFINITY;
        }
    }

    /**
     * Where the vector pass may have chosen the padding: the outputs of rows [r0, r1) of the band
     * whose windows reach past the input (a window of −∞ only, led by the padding, keeps the padding's
     * −∞) whose chosen tap lies outside the input are chosen again by the rule over the taps inside;
     * with {@code all}, every output of those rows is chosen that way.
     */
    private void exactTaps(int[] stage, int[] shift, int base, int r0, int r1, int[] chosen, boolean all) {
        for (int r = r0; r < r1; r++) {
            int oy = base + r;
            boolean inside = !all && oy >= oyLo && oy < oyHi;
            for (int ox = 0; ox < ow; ox++) {
                if (inside && ox == oxLo && oxLo < oxHi) {
                    ox = oxHi - 1;
                    continue;
                }
                int pos = r * pitch + maxOffX + ox;
                int t = chosen[pos];
                if (all || !inInput(oy, ox, t)) {
                    chosen[pos] = exact(stage, shift, oy, ox, pos);
                }
            }
        }
    }

    /** Whether tap {@code t} of output (oy, ox) lies inside the input. */
    private boolean inInput(int oy, int ox, int t) {
        int y = oy * sh - padTop + t / kw * dh;
        int x = ox * sw - padLeft + t % kw * dw;
        return y >= 0 && y < ih && x >= 0 && x < iw;
    }

    /** Output (oy, ox)'s chosen tap: the rule over its taps inside the input in scan order, the first starting it. */
    private int exact(int[] stage, int[] shift, int oy, int ox, int pos) {
        int chosen = -1;
        float best = 0;
        for (int t = 0; t < taps; t++) {
            if (!inInput(oy, ox, t)) {
                continue;
            }
            float v = Float.intBitsToFloat(stage[shift[t] + pos]);
            if (chosen < 0 || best == best && !(v <= best)) {
                chosen = t;
                best = v;
            }
        }
        return chosen;
    }

    /** Sums of one phase plane's elements [from, from + len) of the band (output positions), into {@code sums[at]}. */
    private static void gather(int[] chosen, float[] grad, int[] list, int from, int len, float[] sums, int at) {
        int count = list.length / 2;
        int lanes = VecWidth.floats();
        if (len < lanes) {
            for (int i = 0; i < len; i++) {
                sums[at + i] = one(chosen, grad, list, count, from + i);
            }
            return;
        }
        for (int i = 0; ; i += lanes) {
            int b = Math.min(i, len - lanes);
            VecPlaneMaxGather.sum(chosen, grad, list, count, count, from + b, sums, at + b);
            if (b == len - lanes) {
                return;
            }
        }
    }

    /** One element's sum in double, as the scalar path forms it. */
    private static float one(int[] chosen, float[] grad, int[] list, int count, int i) {
        double acc = 0;
        for (int k = 0; k < count; k++) {
            int e = i + list[k];
            if (chosen[e] == list[count + k]) {
                acc += grad[e];
            }
        }
        return CpuBackend.canonicalNaN((float) acc);
    }

    /** Input rows of phase rows [y0, y1) from the phase planes' sums, into the tensor with one bulk copy. */
    private void write(FloatBuffer dx, float[] sums, int sumLen, int n, int y0, int y1, Scratch s) {
        int first = Math.max(0, y0 * sh - padTop);
        int end = Math.min(ih, y1 * sh - padTop);
        float[] rows = s.floats(2, (end - first) * iw);
        for (int y = first; y < end; y++) {
            int yy = y + padTop;
            int at = (yy / sh - y0) * pitch + maxOffX;
            int plane = yy % sh * sw;
            if (sw == 1) {
                System.arraycopy(sums, plane * sumLen + at + padLeft, rows, (y - first) * iw, iw);
            } else {
                int even = (plane + (padLeft & 1)) * sumLen + at + (padLeft >> 1);
                int odd = (plane + ((padLeft + 1) & 1)) * sumLen + at + ((padLeft + 1) >> 1);
                VecPlaneMaxGather.interleave(sums, even, odd, rows, (y - first) * iw, iw);
            }
        }
        dx.put(Math.toIntExact((long) (n * ih + first) * iw), rows, 0, (end - first) * iw);
    }
}
