package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolMode;
import java.nio.FloatBuffer;

/**
 * The CPU path's kernels for channels-first tensors, (N, C, W), (N, C, H, W) or (N, C, D, H, W):
 * {@code planes = N*C} contiguous planes, reduced along W, the contiguous axis, without a
 * transposed copy. The layer that lowers every rank and layout onto the backends calls these with
 * float32 buffers (it widens and narrows other storage types) and the resolved {@link Axis} of each
 * spatial axis, outermost first.
 *
 * <p>Viewing such a tensor as channels-last with batch N*C and one channel is exact but slow: the
 * channels-last loops run over C, here one element wide. These loops run over whole rows and
 * bands of rows instead ({@link PlanePlan}): windowed max in {@link PlaneMax}, average in
 * {@link PlaneAvg}, global pooling in {@link PlaneGlobal}, LP here (it visits only the taps inside
 * the input). Results follow the same rules as the channels-last path: max bit-identical (clpool's
 * rule: a strictly larger value or the first NaN in scan order wins; padding never does), averages
 * certified float sums falling back to double, LP in double. Work is split into ranges of bands
 * of output rows (LP: of rows) on the backend's threads, small problems staying on the calling thread.
 *
 * <p>Buffers are read and written at absolute indices: element 0 of a tensor is index 0 of its
 * buffer, whatever the buffer's position.
 */
public final class ChannelsFirstPool {
    private final CpuBackend cpu;

    /** Runs on {@code cpu}'s threads (the instance does not own them). */
    public ChannelsFirstPool(CpuBackend cpu) {
        this.cpu = java.util.Objects.requireNonNull(cpu, "cpu");
    }

    /**
     * Windowed pooling of {@code planes} channels-first planes: {@code in} holds
     * {@code planes * D*H*W} floats (the axes' {@code in}), {@code out} receives
     * {@code planes * OD*OH*OW} (their {@code out}).
     *
     * @param mode max, avg or lp
     * @param p the LP exponent (lp only)
     * @param countIncludePad the average's divisor rule (avg only)
     * @param axes one per spatial axis, outermost first (1 to 3), each window covering input
     */
    public void pool(PoolMode mode, double p, boolean countIncludePad, FloatBuffer in, FloatBuffer out, int planes,
                     Axis... axes) {
        PlanePlan plan = new PlanePlan(planes, axes);
        requireFloats("input", in, planes * plan.inPlane);
        requireFloats("output", out, planes * plan.outPlane);
        switch (mode) {
            case MAX: {
                PlaneMax max = new PlaneMax(plan, VectorSupport.fitsRow(plan.w.in()));
                cpu.chunks(plan.bands(), plan.workPerBand(), (from, to) -> max.run(in, out, from, to, Scratch.get()));
                break;
            }
            case AVG: {
                PlaneAvg avg = new PlaneAvg(plan, countIncludePad, VectorSupport.fitsRow(plan.w.in()));
                cpu.chunks(plan.bands(), plan.workPerBand(), (from, to) -> avg.run(in, out, from, to, Scratch.get()));
                break;
            }
            case LP: {
                requireExponent(p);
                int rows = Math.toIntExact((long) planes * plan.d.out() * plan.h.out());
                long work = (long) plan.w.out() * plan.d.window() * plan.h.window() * plan.w.window();
                cpu.chunks(rows, work, (from, to) -> lpRows(plan, p, in, out, from, to));
                break;
            }
            default:
                throw new IllegalArgumentException("windowed pooling supports max, avg and lp, not " + mode.word());
        }
    }

    /**
     * Global pooling of {@code planes} channels-first planes of {@code planeSize} floats each (the
     * product of the spatial sizes): one result per plane into {@code out}.
     *
     * @param mode max, avg or lp
     * @param p the LP exponent (lp only)
     */
    public void global(PoolMode mode, double p, FloatBuffer in, FloatBuffer out, int planes, long planeSize) {
        if (planes < 1 || planeSize < 1) {
            throw new IllegalArgumentException("planes and plane size must be >= 1, got " + planes + " and " + planeSize);
        }
        requireFloats("input", in, planes * planeSize);
        requireFloats("output", out, planes);
        int size = Math.toIntExact(planeSize);
        switch (mode) {
            case MAX: PlaneGlobal.max(cpu, in, out, planes, size); break;
            case AVG: PlaneGlobal.avg(cpu, in, out, planes, size); break;
            case LP:
                requireExponent(p);
                PlaneGlobal.lp(cpu, p, in, out, planes, size);
                break;
            default: throw new IllegalArgumentException("global pooling supports max, avg and lp, not " + mode.word());
        }
    }

    private static void requireFloats(String what, FloatBuffer b, long floats) {
        if (b.limit() < floats) {
            throw new IllegalArgumentException(what + " holds " + b.limit() + " floats, expected at least " + floats);
        }
    }

    private static void requireExponent(double p) {
        if (!(p > 0) || Double.isInfinite(p)) {
            throw new IllegalArgumentException("lp needs a finite p > 0, got " + p);
        }
    }

    /**
     * LP pooling of output rows {@code [from, to)}, as the channels-last path computes it: per
     * window the largest |x| first (so that the scaled powers never overflow), then
     * {@code amax * (sum (|x|/amax)^p)^(1/p)} in double; NaN if the window holds one, and
     * {@code amax} itself when it is 0 or ∞.
     */
    private static void lpRows(PlanePlan g, double p, FloatBuffer src, FloatBuffer dst, int from, int to) {
        int oh = g.h.out();
        int ow = g.w.out();
        float[] row = new float[ow];
        for (int r = from; r < to; r++) {
            int slab = r / oh;
            int plane = slab / g.d.out();
            int oz = slab % g.d.out();
            int oy = r % oh;
            for (int ox = 0; ox < ow; ox++) {
                row[ox] = lp(g, p, src, plane, oz, oy, ox);
            }
            dst.put(g.outputRow(plane, oz, oy), row, 0, ow);
        }
    }

    private static float lp(PlanePlan g, double p, FloatBuffer src, int plane, int oz, int oy, int ox) {
        float amax = 0f;
        boolean nan = false;
        for (int pass = 0; pass < 2; pass++) {
            double sum = 0;
            for (int jz = g.d.firstTap(oz); jz < g.d.endTap(oz); jz++) {
                int z = (int) g.d.start(oz) + jz * g.d.dilation();
                for (int jy = g.h.firstTap(oy); jy < g.h.endTap(oy); jy++) {
                    int y = (int) g.h.start(oy) + jy * g.h.dilation();
                    int base = g.inputRow(plane, z, y) + (int) g.w.start(ox);
                    for (int jx = g.w.firstTap(ox); jx < g.w.endTap(ox); jx++) {
                        float a = Math.abs(src.get(base + jx * g.w.dilation()));
                        if (pass == 0) {
                            nan |= a != a;
                            amax = Math.max(amax, a);
                        } else {
                            sum += Math.pow(a / (double) amax, p);
                        }
                    }
                }
            }
            if (pass == 0 && (nan || amax == 0f || amax == Float.POSITIVE_INFINITY)) {
                return nan ? Float.NaN : amax;
            }
            if (pass == 1) {
                return (float) (amax * Math.pow(sum, 1.0 / p));
            }
        }
        throw new AssertionError();
    }
}
