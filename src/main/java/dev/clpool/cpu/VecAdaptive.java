package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of adaptive pooling with many channels (used only where
 * {@link VectorSupport#ENABLED}): one input row's contribution to an output row, each region's
 * columns reduced a vector of channels at a time from the row staged by one bulk copy (no tap
 * copied to an array of its own). {@code row} holds the input row, {@code c} channels per column,
 * and output column {@code ox} covers input columns {@code [x0[ox], x1[ox])}; results go to
 * {@code ox·c + ch} of the arrays. Reading the taps with {@code fromByteBuffer} straight from the
 * tensor (bounds and buffer checks on every load: the offsets come from the region tables, so C2
 * cannot hoist them) cost more than the copy: one thread, thread CPU time, SPP-net's 6×6 level
 * 1.40 → 0.98 ms, VGG-16's adaptive 7×7 0.37 → 0.33 ms. Where {@code c}
 * is not a multiple of the vector length the last vector overlaps the one before it: it writes the
 * overlapped lanes again with the same values. Needs at least {@link VecWidth#floats()} channels.
 */
final class VecAdaptive {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VecAdaptive() {
    }

    /**
     * {@link AdaptiveAvgRows}' sums across each region's columns, lane by lane its arithmetic: the
     * float sum of the columns in order, and beside it the sum of every partial sum's magnitude
     * ({@code |t|} per addition, from +0); for the first row of the regions ({@code first}) written
     * to {@code as} and {@code ab}, else folded into them ({@code t = as + sum}, {@code as = t},
     * {@code ab += bound + |t|}). A last vector of fewer channels goes through {@code tail} (one
     * vector long) and is folded lane by lane, so that no lane is folded twice.
     */
    static void avgAcross(float[] row, int c, int ow, int[] x0, int[] x1, float[] as, float[] ab,
                          boolean first, float[] tail) {
        int step = F.length();
        for (int ox = 0; ox < ow; ox++) {
            for (int ch = 0; ch < c; ch += step) {
                int v = Math.min(ch, c - step);
                int o = x0[ox] * c + v;
                FloatVector sum = FloatVector.fromArray(F, row, o);
                FloatVector bound = FloatVector.zero(F);
                for (int x = x0[ox] + 1; x < x1[ox]; x++) {
                    o += c;
                    sum = sum.add(FloatVector.fromArray(F, row, o));
                    bound = bound.add(sum.abs());
                }
                int at = ox * c + v;
                if (v != ch) {
                    sum.intoArray(tail, 0);
                    bound.intoArray(tail, step);
                    for (int lane = ch - v; lane < step; lane++) {
                        float t = first ? tail[lane] : as[at + lane] + tail[lane];
                        ab[at + lane] = first ? tail[step + lane] : ab[at + lane] + (tail[step + lane] + Math.abs(t));
                        as[at + lane] = t;
                    }
                } else if (first) {
                    sum.intoArray(as, at);
                    bound.intoArray(ab, at);
                } else {
                    FloatVector t = FloatVector.fromArray(F, as, at).add(sum);
                    t.intoArray(as, at);
                    FloatVector.fromArray(F, ab, at).add(bound.add(t.abs())).intoArray(ab, at);
                }
            }
        }
    }

    /**
     * {@link AdaptiveAvgRows}' finish of one region's {@code count} results from {@code at}: each sum
     * in {@code as} becomes {@code (s + 0) / d}, and {@code worst} keeps the maximum of
     * {@code ab·k − max(1, |avg|)} (NaN where that is NaN, as {@link Math#max} keeps it).
     */
    static void avgFinish(float[] as, float[] ab, float[] worst, int at, int count, float d, float k) {
        int step = F.length();
        int i = at;
        for (; i + step <= at + count; i += step) {
            FloatVector v = FloatVector.fromArray(F, as, i).add(0f).div(d);
            v.intoArray(as, i);
            FloatVector excess = FloatVector.fromArray(F, ab, i).mul(k).sub(v.abs().max(1f));
            FloatVector.fromArray(F, worst, i).max(excess).intoArray(worst, i);
        }
        for (; i < at + count; i++) {
            float v = (as[i] + 0f) / d;
            as[i] = v;
            worst[i] = Math.max(worst[i], ab[i] * k - Math.max(1f, Math.abs(v)));
        }
    }

    /**
     * clpool's max ({@link CpuBackend#max}) across each region's columns, folded into {@code acc}
     * by the same rule ({@code first}: written, for the first row of the regions): a lane keeps its
     * value unless a later one is greater, so ties (−0 and +0 included) keep the first in scan
     * order. A NaN is never greater, so every value {@code x} also subtracts {@code x − x} from its
     * lane (+0 for finite values, NaN for a NaN or an infinity, after which the lane stays NaN):
     * the caller redoes a NaN result by the rule, in scan order.
     */
    static void maxAcross(float[] row, int c, int ow, int[] x0, int[] x1, float[] acc, boolean first) {
        int step = F.length();
        for (int ox = 0; ox < ow; ox++) {
            for (int ch = 0; ch < c; ch += step) {
                int v = Math.min(ch, c - step);
                int o = x0[ox] * c + v;
                FloatVector x = FloatVector.fromArray(F, row, o);
                FloatVector m = x.sub(x.sub(x));
                for (int col = x0[ox] + 1; col < x1[ox]; col++) {
                    o += c;
                    x = FloatVector.fromArray(F, row, o);
                    m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
                }
                int at = ox * c + v;
                if (!first) {
                    FloatVector a = FloatVector.fromArray(F, acc, at);
                    m = a.blend(m, m.compare(VectorOperators.GT, a)).sub(m.sub(m));
                }
                m.intoArray(acc, at);
            }
        }
    }
}
