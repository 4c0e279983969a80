package dev.clpool.cpu;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * Max pooling with indices on the CPU path. The chosen element of each window is found once, by
 * {@link CpuBackward#argmax} (the one CPU argmax, shared with max backward): a tap wins exactly
 * when {@link CpuBackend#max} would replace the running maximum (a strictly larger value, or the
 * first NaN), starting from the window's first tap inside the input, so padding never wins. The
 * value is then that element itself, which is bit for bit what {@code pool} computes (the first
 * NaN with its payload, the first of equal zeros), and the index is its position written in the
 * requested {@link IndexConvention}. Values and indices therefore always agree.
 */
final class CpuMaxIndices {
    private CpuMaxIndices() {
    }

    static void run(PoolGeometry g, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        Shape is = g.input();
        Shape os = g.output();
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        LongBuffer idx = indices.longs();
        IndexConvention conv = indices.convention();
        int[] arg = CpuBackward.argmax(g, src, parallel);
        int c = is.c();
        int w = is.w();
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            int o = Math.toIntExact(os.offset(n, oy, 0, 0));
            for (int ox = 0; ox < os.w(); ox++) {
                for (int ch = 0; ch < c; ch++, o++) {
                    int y = arg[o] / w;
                    int x = arg[o] % w;
                    dst.put(o, src.get(Math.toIntExact(is.offset(n, y, x, ch))));
                    idx.put(o, conv.index(is, n, y, x, ch));
                }
            }
        });
    }
}
