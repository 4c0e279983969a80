package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;

/**
 * Max and avg backward of a channels-first float32 tensor of spatial rank 1-3 in one pass, where
 * the Vector API is on and the windows tile the input two columns wide: window = stride on every
 * axis, window 2 on W, no padding, dilation 1, every input element in one window, output rows of at
 * least a vector ({@link VectorSupport#fitsRow}). The 3-D U-Net's 2×2×2 stride 2 and DenseNet's
 * transition 2×2 stride 2 are such. Elsewhere the engine lowers the operation as before: for 3-D,
 * a forward (H, W) pass, the D pass's backward and the (H, W) pass's backward, three passes over
 * temporaries that this kernel does not have.
 *
 * <p>With tiling windows each input element receives at most one gradient. Max: the one of the
 * window whose first maximum in scan order (D, then H, then W; the first NaN where there is one,
 * −0 tying +0) it is, which is the first of the lowering's two passes: the lowering's bits
 * ({@link VecCfPairBackward} says how the lanes find it). Avg: the output's gradient divided by
 * the window's size, rounded once: the lowering's bits in 1-D and 2-D; in 3-D, where the lowering
 * divides twice (by the depth, then by the plane's window), within SEMANTICS.md's tolerance.
 */
final class CfPairBackward {
    /** Input elements per task. */
    private static final int TASK_ELEMENTS = 1 << 14;

    private CfPairBackward() {
    }

    /** Whether {@link #run} takes this max or avg backward ({@code axes} outermost first). */
    static boolean fits(PoolMode mode, Axis[] axes, Tensor in, Tensor gradOut, Tensor gradIn) {
        return in.dtype() == DType.FLOAT32 && gradOut.dtype() == DType.FLOAT32 && gradIn.dtype() == DType.FLOAT32
                && fits(mode, axes);
    }

    /** {@link #fits} for float32 tensors: the geometry alone. */
    static boolean fits(PoolMode mode, Axis[] axes) {
        if (!VectorSupport.ENABLED || mode != PoolMode.MAX && mode != PoolMode.AVG) {
            return false;
        }
        for (Axis a : axes) {
            if (!a.tiles()) {
                return false;
            }
        }
        Axis w = axes[axes.length - 1];
        return w.window() == 2 && VectorSupport.fitsRow(w.out()) && w.in() >= 2 * VecCfPairBackward.lanes();
    }

    /** The backward of {@code planes} planes of the spatial {@code axes}; {@link #fits} holds. */
    static void run(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn, CpuBackward.Parallel parallel) {
        int r = axes.length;
        Axis d = r == 3 ? axes[0] : new Axis(1, 1, 1, 1, 1, 0, 0);
        Axis h = r >= 2 ? axes[r - 2] : new Axis(1, 1, 1, 1, 1, 0, 0);
        Axis w = axes[r - 1];
        int rows = d.window() * h.window();
        int iw = w.in();
        int ow = w.out();
        ByteBuffer x = CpuArgmax.bytes(in);
        ByteBuffer dy = CpuArgmax.bytes(gradOut);
        ByteBuffer dx = CpuArgmax.bytes(gradIn);
        int outRows = Math.multiplyExact(planes, d.out() * h.out());
        int perTask = Math.max(1, TASK_ELEMENTS / (rows * iw));
        boolean max = mode == PoolMode.MAX;
        float divisor = (float) ((double) rows * w.window());
        parallel.run((outRows + perTask - 1) / perTask, task -> {
            int[][] ints = Scratch.get().ints(0, 2, Math.max(rows, VecCfPairBackward.lanes()));
            int[] rowAt = ints[0];
            for (int q = task * perTask, end = Math.min(outRows, q + perTask); q < end; q++) {
                int oy = q % h.out();
                int slab = q / h.out();
                int oz = slab % d.out();
                int plane = slab / d.out();
                int t = 0;
                for (int dz = 0; dz < d.window(); dz++) {
                    int z = oz * d.window() + dz;
                    for (int dh = 0; dh < h.window(); dh++, t++) {
                        rowAt[t] = ((plane * d.in() + z) * h.in() + oy * h.window() + dh) * iw;
                    }
                }
                if (max) {
                    VecCfPairBackward.row(x, dy, dx, rowAt, rows, q * ow, iw, ints[1]);
                } else {
                    VecCfPairBackward.avgRow(dy, dx, rowAt, rows, q * ow, iw, divisor);
                }
            }
        });
    }
}
