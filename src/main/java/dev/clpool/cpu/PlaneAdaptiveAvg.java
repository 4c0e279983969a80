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
 *
 * <p>Where the Vector API runs, a unit is first averaged in float with a running error bound, the
 * certified scheme of {@link AdaptiveAvgRows} (whose channel lanes a plane does not have) along
 * the staged unit instead ({@link VecPlaneAdaptive}): within SEMANTICS.md's tolerance, not the same
 * bits; a unit with an average it cannot certify is summed in double as above.
 */
final class PlaneAdaptiveAvg {
    private final PlaneRegions r;
    /** Whether units go to the certified float sums in vector lanes first. */
    private final boolean vectors;

    /** {@code vectors}: the certified float sums where the Vector API runs (else the double sums only). */
    PlaneAdaptiveAvg(PlaneRegions regions, boolean vectors) {
        r = regions;
        this.vectors = vectors && VectorSupport.ENABLED;
    }

    /** Unit {@code u} of the regions: stages its input, pools it and writes its results. */
    void run(FloatBuffer src, FloatBuffer dst, int u) {
        PlaneRegions.Unit unit = r.unit(u);
        Scratch s = Scratch.get();
        float[] stage = s.floats(0, unit.length());
        float[] res = s.floats(1, unit.planes() * (unit.ob() - unit.oa()) * r.out.w());
        r.stage(src, unit, stage);
        if (!vectors || !certified(stage, res, unit)) {
            exact(stage, res, unit, s);
        }
        r.write(dst, unit, res);
    }

    /**
     * The unit's averages in float ({@link VecPlaneAdaptive#regions}: the regions of one size
     * gathered a vector of results at a time, tap by tap), each divided by its element count in
     * float; whether every one is certified (as {@link AdaptiveAvgRows}': u·B·(1 + γ(3·taps)) over
     * the count at most {@link AvgWindows#TOLERANCE}·max(1, |avg|), B the sum of the partial sums'
     * magnitudes). If not, {@code res} holds no final values.
     */
    private boolean certified(float[] stage, float[] res, PlaneRegions.Unit unit) {
        float worst = 0f;
        for (int a = 0; a < r.heights.length; a++) {
            for (int b = 0; b < r.widths.length; b++) {
                PlaneRegions.Picks p = r.picks(unit, a, b);
                int n = unit.planes() * p.perPlane();
                if (n == 0) {
                    continue;
                }
                long taps = (long) r.heights[a] * r.widths[b];
                // A float division, as AdaptiveAvgRows divides.
                float d = (float) taps;
                float k = AdaptiveAvgRows.perB(taps);
                float e = VecPlaneAdaptive.regions(stage, r.in.w(), r.heights[a], r.widths[b], p.from(), p.to(), n, d,
                        k, res);
                worst = e > worst || e != e ? e : worst;
            }
        }
        // A NaN (a NaN or infinite average, or ∞ − ∞) fails.
        return worst <= 0f;
    }

    /** The unit's averages from double sums: the general path's bits. */
    private void exact(float[] stage, float[] res, PlaneRegions.Unit unit, Scratch s) {
        int w = r.in.w();
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
    }
}
