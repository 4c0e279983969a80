package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The CPU path's kernels for channels-first tensors, (N, C, W), (N, C, H, W) or (N, C, D, H, W):
 * {@code planes = N*C} contiguous planes, reduced along W, the contiguous axis, without a
 * transposed copy. The layer that lowers every rank and layout onto the backends calls these with
 * float32 buffers (it widens and narrows other storage types; windowed pooling takes the tensors'
 * bytes) and the resolved {@link Axis} of each spatial axis, outermost first.
 *
 * <p>Viewing such a tensor as channels-last with batch N*C and one channel is exact but slow: the
 * channels-last loops run over C, here one element wide. These loops run over whole rows and
 * bands of rows instead ({@link PlanePlan}): windowed max in {@link PlaneMax}, average in
 * {@link PlaneAvg}, global pooling in {@link PlaneGlobal}, LP in {@link PlaneLp}. Results follow
 * the same rules as the channels-last path: max bit-identical (clpool's rule: a strictly larger
 * value or the first NaN in scan order wins; padding never does), averages certified float sums
 * falling back to double, LP in double. Work is split into ranges of bands
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
     * Windowed pooling of {@code planes} channels-first planes: the bytes {@code input} hold
     * {@code planes * D*H*W} floats (the axes' {@code in}), float32 in native byte order from byte
     * 0 (whatever the order the buffer is set to), {@code output} receives
     * {@code planes * OD*OH*OW} (their {@code out}). Bytes, not a float view: max reads some
     * windows with vector loads straight from them ({@link VecPlaneMax#pooled}).
     *
     * @param mode max, avg or lp
     * @param p the LP exponent (lp only)
     * @param countIncludePad the average's divisor rule (avg only)
     * @param axes one per spatial axis, outermost first (1 to 3), each window covering input
     */
    public void pool(PoolMode mode, double p, boolean countIncludePad, ByteBuffer input, ByteBuffer output, int planes,
                     Axis... axes) {
        ByteBuffer raw = input.duplicate().order(ByteOrder.nativeOrder()).position(0);
        FloatBuffer in = raw.asFloatBuffer();
        ByteBuffer rawOut = output.duplicate().order(ByteOrder.nativeOrder()).position(0);
        FloatBuffer out = rawOut.asFloatBuffer();
        PlanePlan plan = new PlanePlan(planes, axes);
        requireFloats("input", in, planes * plan.inPlane);
        requireFloats("output", out, planes * plan.outPlane);
        switch (mode) {
            case MAX: {
                PlaneMax max = new PlaneMax(plan, VectorSupport.fitsRow(plan.w.in()));
                cpu.chunks(plan.bands(), plan.workPerBand(), (from, to) -> max.run(raw, rawOut, in, out, from, to, Scratch.get()));
                break;
            }
            case AVG: {
                PlaneAvg avg = new PlaneAvg(plan, countIncludePad, VectorSupport.fitsRow(plan.w.in()));
                cpu.chunks(plan.bands(), plan.workPerBand(),
                        (from, to) -> avg.run(raw, rawOut, in, out, from, to, Scratch.get()));
                break;
            }
            case LP: {
                requireExponent(p);
                PlaneLp lp = new PlaneLp(plan, p, VectorSupport.fitsRow(plan.w.in()));
                cpu.chunks(lp.rows(), lp.workPerRow(), (from, to) -> lp.run(in, out, from, to, Scratch.get()));
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
}
