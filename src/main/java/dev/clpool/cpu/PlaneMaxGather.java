package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * Max backward of one-channel planes (channels-first tensors viewed as (N·C, H, W, 1)) in the
 * Vector API's lanes along the rows, where it is on, the planes' rows fill a vector and the column
 * stride is 1 or 2. A task is a band of input rows of one plane: the chosen tap numbers of the
 * output rows whose windows reach it ({@link VecArgmaxPlanes#taps}, from window rows staged in a
 * heap array, {@link ArgmaxPlanes#stage}) and their gradients are staged, then each input
 * row gathers its gradients from them ({@link VecPlaneMaxGather#row}) into a row written with one
 * bulk copy. The same bits as {@link PlaneBackward}'s scalar scatter; a gather, so each element is
 * written by one task (an output row on a band's edge has its taps found by both bands). Before,
 * the taps of the whole tensor went through memory between two passes and the gather listed its
 * taps per vector, with a division each, straight from the buffers: ResNet-50's channels-first stem
 * backward ran 1.4x slower (one thread, thread CPU time).
 */
final class PlaneMaxGather {
    /** Input elements per band, a task (its output rows' tap numbers and gradients stay in the second-level cache). */
    private static final int BAND_INPUTS = 1 << 14;

    private PlaneMaxGather() {
    }

    /** Whether {@link #run} takes this max backward of one channel. */
    static boolean fits(PoolGeometry g) {
        return g.mode() == PoolMode.MAX && g.input().c() == 1 && VectorSupport.fitsRow(g.input().w())
                && VecArgmaxPlanes.handles(g.cols().stride());
    }

    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, CpuBackward.Parallel parallel,
                    CpuBackward.Inverse rows) {
        WindowPlan p = new WindowPlan(g);
        Shape is = p.in;
        Shape os = p.out;
        int kh = p.rows.window();
        int kw = p.cols.window();
        int[] numbers = new int[kh * kw];
        Arrays.setAll(numbers, t -> t);
        int oxLo = os.w();
        int oxHi = 0;
        for (int o = 0; o < os.w(); o++) {
            if (p.colFirst[o] == 0 && p.colEnd[o] == kw) {
                oxLo = Math.min(oxLo, o);
                oxHi = o + 1;
            }
        }
        int lo = Math.min(oxLo, oxHi);
        int hi = oxHi;
        IntBuffer x = CpuArgmax.bits(in);
        FloatBuffer dy = gradOut.floats();
        FloatBuffer dx = gradIn.floats();
        int bandRows = Math.max(1, Math.min(is.h(), BAND_INPUTS / is.w()));
        int bands = (is.h() + bandRows - 1) / bandRows;
        parallel.run(is.n() * bands, task -> {
            int n = task / bands;
            int y0 = task % bands * bandRows;
            int y1 = Math.min(is.h(), y0 + bandRows);
            long range = PlaneBackward.outputRows(rows, y0, y1);
            int first = (int) (range >>> 32);
            int staged = Math.max(0, (int) range - first) * os.w();
            Scratch s = Scratch.get();
            int[][] list = s.ints(0, 6, kh * kw);
            int[][] a = s.ints(1, 3, 3 * kh * kw);
            int[] taps = s.ints(2, 1, staged)[0];
            int q0 = n * os.h() + first;
            int from = staged == 0 ? 0 : ArgmaxPlanes.firstStaged(p, q0);
            int len = staged == 0 ? 0 : ArgmaxPlanes.endStaged(p, q0 + staged / os.w() - 1) - from;
            int[] stage = ArgmaxPlanes.stage(p, x, from, len, 3, s);
            float[] grad = s.floats(0, staged);
            float[] row = s.floats(1, is.w());
            float[] phases = s.floats(2, VecPlaneMaxGather.phaseFloats(is.w()));
            // The band's output rows: their chosen tap numbers and their gradients, staged.
            // Lists 0-2: the taps of rows whose windows lie inside the input's rows, listed once; 3-5: the others'.
            int whole = -1;
            for (int oy = first, at = 0; at < staged; oy++, at += os.w()) {
                int l = ArgmaxPlanes.wholeRows(p, oy) ? 0 : 3;
                int count = l == 0 && whole >= 0 ? whole : ArgmaxPlanes.listTaps(p, oy, list, l, numbers);
                whole = l == 0 ? count : whole;
                VecArgmaxPlanes.taps(stage, list[l], list[l + 1], list[l + 2], count,
                        ArgmaxPlanes.stagedShift(p, n, oy, from / is.w()), p.sw, is.w(), os.w(), lo, hi, taps, at);
                dy.get(Math.toIntExact(os.offset(n, oy, 0, 0)), grad, at, os.w());
            }
            for (int y = y0; y < y1; y++) {
                int count = 0;
                for (int i = rows.from[y]; i < rows.from[y + 1]; i++, count++) {
                    int oy = rows.outputs[i];
                    a[0][count] = (oy - first) * os.w();
                    a[1][count] = (y - p.rowStart[oy]) / p.dh * kw;
                }
                VecPlaneMaxGather.row(taps, grad, row, a[0], a[1], count, kw, p.dw, p.sw, p.colStart[0], os.w(), is.w(),
                        a[2], phases);
                dx.put(Math.toIntExact(is.offset(n, y, 0, 0)), row, 0, is.w());
            }
        });
    }
}
