package dev.clpool.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Adaptive average pooling of one-channel planes (channels-first tensors viewed as channels-last
 * with one channel), with the general path's sums: each region summed in double from 0, its rows
 * in order and each row's columns in order, then divided by its element count, so the results are
 * bit for bit those of {@link CpuAdaptive}'s general path.
 *
 * <p>Summed one region at a time, as before, each sum is a chain of dependent double additions
 * (VGG-16's 10×10 to 7×7: two to nine), which waits on every addition's latency. Here the sums of
 * all regions of one size in a unit ({@link PlaneRegions}) advance together, tap by tap in the
 * regions' order: {@code acc[k] += x[from[k] + offset]} over every region k, independent additions
 * in one flat loop.
 */
final class PlaneAdaptiveAvg {
    private final PlaneRegions r;

    PlaneAdaptiveAvg(PlaneRegions regions) {
        r = regions;
    }

    /** Unit {@code u} of the regions: stages its input, pools it and writes its results. */
    void run(FloatBuffer src, FloatBuffer dst, int u) {
        PlaneRegions.Unit unit = r.unit(u);
        int w = r.in.w();
        Scratch s = Scratch.get();
        float[] stage = s.floats(0, unit.length());
        float[] res = s.floats(1, unit.planes() * (unit.ob() - unit.oa()) * r.out.w());
        r.stage(src, unit, stage);
        for (int a = 0; a < r.heights.length; a++) {
            for (int b = 0; b < r.widths.length; b++) {
                PlaneRegions.Picks p = r.picks(unit, a, b);
                int n = unit.planes() * p.perPlane();
                if (n == 0) {
                    continue;
                }
                double[] acc = s.doubles(n);
                Arrays.fill(acc, 0, n, 0.0);
                int[] from = p.from();
                for (int y = 0; y < r.heights[a]; y++) {
                    for (int x = 0; x < r.widths[b]; x++) {
                        int offset = y * w + x;
                        for (int k = 0; k < n; k++) {
                            acc[k] += stage[from[k] + offset];
                        }
                    }
                }
                double div = (double) r.heights[a] * r.widths[b];
                int[] to = p.to();
                for (int k = 0; k < n; k++) {
                    res[to[k]] = CpuBackend.canonicalNaN((float) (acc[k] / div));
                }
            }
        }
        r.write(dst, unit, res);
    }
}
