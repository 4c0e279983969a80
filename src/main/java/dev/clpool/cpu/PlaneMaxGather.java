package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Max backward of one-channel planes (channels-first tensors viewed as (N·C, H, W, 1)) in the
 * Vector API's lanes along the rows, where it is on, the planes' rows fill a vector and the column
 * stride is 1 or 2: every output's chosen tap number ({@link VecArgmaxPlanes#taps}, over bands of
 * output rows of all planes), then each input row gathers its gradients
 * ({@link VecPlaneMaxGather#row}, over bands of input rows). The same bits as
 * {@link PlaneBackward}'s scalar scatter; a gather, so each element is written by one task.
 */
final class PlaneMaxGather {
    /** Elements per task, in either pass. */
    private static final int TASK_ELEMENTS = 1 << 13;

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
        for (int t = 0; t < numbers.length; t++) {
            numbers[t] = t;
        }
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
        ByteBuffer x = CpuArgmax.bytes(in);
        ByteBuffer dy = CpuArgmax.bytes(gradOut);
        ByteBuffer dx = CpuArgmax.bytes(gradIn);
        int limit = Math.toIntExact(is.elementCount());
        int[] taps = new int[Math.toIntExact(os.elementCount())];
        int outRows = os.n() * os.h();
        int perOut = Math.max(1, TASK_ELEMENTS / os.w());
        parallel.run((outRows + perOut - 1) / perOut, task -> {
            int[][] list = Scratch.get().ints(0, 3, kh * kw);
            for (int q = task * perOut, end = Math.min(outRows, q + perOut); q < end; q++) {
                int n = q / os.h();
                int oy = q % os.h();
                int count = 0;
                for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                    int row = Math.toIntExact(is.offset(n, p.inputRow(oy, jy), 0, 0));
                    for (int jx = 0; jx < kw; jx++, count++) {
                        list[1][count] = p.colStart[0] + jx * p.dw;
                        list[0][count] = row + list[1][count];
                        list[2][count] = numbers[jy * kw + jx];
                    }
                }
                VecArgmaxPlanes.taps(x, list[0], list[1], list[2], count, p.sw, is.w(), os.w(), lo, hi, limit, taps,
                        q * os.w());
            }
        });
        FloatBuffer dyFloats = gradOut.floats();
        FloatBuffer dxFloats = gradIn.floats();
        long span = VecPlaneMaxGather.span(kw, p.dw, p.sw, p.colStart[0], os.w(), is.w());
        int inRows = is.n() * is.h();
        int perIn = Math.max(1, TASK_ELEMENTS / is.w());
        parallel.run((inRows + perIn - 1) / perIn, task -> {
            int[][] a = Scratch.get().ints(1, 3, 2 * kh * kw);
            for (int q = task * perIn, end = Math.min(inRows, q + perIn); q < end; q++) {
                int n = q / is.h();
                int y = q % is.h();
                int count = 0;
                for (int i = rows.from[y]; i < rows.from[y + 1]; i++, count++) {
                    int oy = rows.outputs[i];
                    a[0][count] = Math.toIntExact(os.offset(n, oy, 0, 0));
                    a[1][count] = (y - p.rowStart[oy]) / p.dh * kw;
                }
                VecPlaneMaxGather.row(taps, dy, dx, dyFloats, dxFloats, a[0], a[1], count, kw, p.dw, p.sw, p.colStart[0],
                        os.w(), is.w(), span, q * is.w(), a[2]);
            }
        });
    }
}
