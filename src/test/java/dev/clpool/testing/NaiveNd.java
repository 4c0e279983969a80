package dev.clpool.testing;

import dev.clpool.Axis;
import dev.clpool.IndexConvention;
import dev.clpool.Layout;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.TensorShape;

/**
 * Pooling of tensors of spatial rank 1-3 in either layout, written plainly from SEMANTICS.md in
 * float64 and sharing no arithmetic with the library (only the resolved output sizes and padding
 * of {@link PoolSpec#axes}): every window enumerated tap by tap, outermost axis first. Arrays are in
 * the tensors' storage order.
 */
public final class NaiveNd {
    private NaiveNd() {
    }

    /** Values (as doubles) and indices of one pooling, in the output's storage order. */
    public record Result(double[] values, long[] indices) { }

    /** Offset of (n, c, position) in a tensor of shape {@code s}; {@code pos} has {@code s.rank()} entries. */
    public static long offset(TensorShape s, int n, int c, int[] pos) {
        long p = 0;
        for (int i = 0; i < pos.length; i++) {
            p = p * s.spatial(i) + pos[i];
        }
        return s.layout() == Layout.CHANNELS_LAST ? ((long) n * s.spatialSize() + p) * s.c() + c
                : ((long) n * s.c() + c) * s.spatialSize() + p;
    }

    /** Windowed pooling (and, for max, indices in {@code convention}). */
    public static Result pool(float[] x, TensorShape s, PoolSpec spec, IndexConvention convention) {
        Axis[] axes = spec.axes(s);
        TensorShape o = spec.outputShape(s);
        int r = s.rank();
        double[] values = new double[Math.toIntExact(o.elementCount())];
        long[] indices = new long[values.length];
        forEach(o, (n, c, op) -> {
            double sum = 0;
            double best = Double.NEGATIVE_INFINITY;
            long pick = -1;
            boolean nan = false;
            long divisor = divisor(spec, axes, op);
            for (int[] pos : taps(axes, op)) {
                float v = x[(int) offset(s, n, c, pos)];
                sum += spec.mode() == PoolMode.LP ? Math.pow(Math.abs((double) v), spec.p()) : v;
                if (!nan && (Float.isNaN(v) || pick < 0 || v > best)) {
                    // The first NaN, else the first element equal to the maximum (of -0 and +0 the first).
                    nan = Float.isNaN(v);
                    best = v;
                    pick = index(convention, s, n, c, pos);
                }
            }
            long at = offset(o, n, c, op);
            switch (spec.mode()) {
                case MAX: values[(int) at] = best; indices[(int) at] = pick; break;
                case AVG: values[(int) at] = sum / divisor; break;
                default: values[(int) at] = Math.pow(sum, 1 / spec.p()); break;
            }
        });
        return new Result(values, indices);
    }

    /** The index of element (n, c, pos) of an input of shape {@code s} in {@code convention} (SEMANTICS.md). */
    public static long index(IndexConvention convention, TensorShape s, int n, int c, int[] pos) {
        long p = 0;
        for (int i = 0; i < pos.length; i++) {
            p = p * s.spatial(i) + pos[i];
        }
        switch (convention) {
            case NHWC: return p * s.c() + c;
            case PYTORCH: return p;
            case ONNX: return ((long) n * s.c() + c) * s.spatialSize() + p;
            default: {
                long q = 0;
                for (int i = pos.length - 1; i >= 0; i--) {
                    q = q * s.spatial(i) + pos[i];
                }
                return ((long) n * s.c() + c) * s.spatialSize() + q;
            }
        }
    }

    /** Backward of max or avg: each output's gradient to its argmax, or spread over its window / divisor. */
    public static double[] backward(float[] x, float[] dy, TensorShape s, PoolSpec spec) {
        Axis[] axes = spec.axes(s);
        TensorShape o = spec.outputShape(s);
        Result fwd = pool(x, s, spec, IndexConvention.ONNX);
        double[] dx = new double[x.length];
        int r = s.rank();
        forEach(o, (n, c, op) -> {
            long at = offset(o, n, c, op);
            double g = dy[(int) at];
            if (spec.mode() == PoolMode.MAX) {
                int[] pos = decode(s, fwd.indices()[(int) at] % s.spatialSize());
                dx[(int) offset(s, n, c, pos)] += g;
                return;
            }
            long divisor = divisor(spec, axes, op);
            for (int[] pos : taps(axes, op)) {
                dx[(int) offset(s, n, c, pos)] += g / divisor;
            }
        });
        return dx;
    }

    /** Adaptive avg or max to {@code size}: output i covers floor(i*in/out) .. ceil((i+1)*in/out)-1 on each axis. */
    public static double[] adaptive(float[] x, TensorShape s, PoolMode mode, int[] size) {
        TensorShape o = s.withSpatial(size);
        double[] out = new double[Math.toIntExact(o.elementCount())];
        int r = s.rank();
        forEach(o, (n, c, op) -> {
            int[] lo = new int[r];
            int[] hi = new int[r];
            long count = 1;
            for (int i = 0; i < r; i++) {
                lo[i] = (int) ((long) op[i] * s.spatial(i) / size[i]);
                hi[i] = (int) (((long) op[i] + 1) * s.spatial(i) + size[i] - 1) / size[i];
                count *= hi[i] - lo[i];
            }
            int[] pos = lo.clone();
            double sum = 0;
            FirstMax max = new FirstMax();
            do {
                float v = x[(int) offset(s, n, c, pos)];
                sum += v;
                max.take(v);
            } while (nextIn(pos, lo, hi));
            out[(int) offset(o, n, c, op)] = mode == PoolMode.MAX ? max.best : sum / count;
        });
        return out;
    }

    /** Global avg, max or lp (exponent p) over each plane or volume. */
    public static double[] global(float[] x, TensorShape s, PoolMode mode, double p) {
        TensorShape o = s.global();
        double[] out = new double[Math.toIntExact(o.elementCount())];
        int[] all = s.spatial();
        forEach(o, (n, c, op) -> {
            int[] pos = new int[s.rank()];
            double sum = 0;
            FirstMax max = new FirstMax();
            do {
                float v = x[(int) offset(s, n, c, pos)];
                sum += mode == PoolMode.LP ? Math.pow(Math.abs((double) v), p) : v;
                max.take(v);
            } while (nextIn(pos, new int[s.rank()], all));
            out[(int) offset(o, n, c, op)] = mode == PoolMode.MAX ? max.best
                    : mode == PoolMode.AVG ? sum / s.spatialSize() : Math.pow(sum, 1 / p);
        });
        return out;
    }

    private static int[] decode(TensorShape s, long p) {
        int[] pos = new int[s.rank()];
        for (int i = s.rank() - 1; i >= 0; i--) {
            pos[i] = (int) (p % s.spatial(i));
            p /= s.spatial(i);
        }
        return pos;
    }

    /** The average's divisor of output {@code op}: a product of per-axis counts (SEMANTICS.md). */
    private static long divisor(PoolSpec spec, Axis[] axes, int[] op) {
        long divisor = 1;
        for (int i = 0; i < axes.length; i++) {
            divisor *= spec.countIncludePad() ? includePadTaps(axes[i], op[i]) : inputTaps(axes[i], op[i]);
        }
        return divisor;
    }

    /** The input positions of output {@code op}'s window inside the input, in scan order (outermost axis first). */
    private static java.util.List<int[]> taps(Axis[] axes, int[] op) {
        java.util.List<int[]> all = new java.util.ArrayList<>();
        int[] tap = new int[axes.length];
        do {
            int[] pos = new int[axes.length];
            boolean inside = true;
            for (int i = 0; i < axes.length; i++) {
                pos[i] = op[i] * axes[i].stride() - axes[i].padBegin() + tap[i] * axes[i].dilation();
                inside &= pos[i] >= 0 && pos[i] < axes[i].in();
            }
            if (inside) {
                all.add(pos);
            }
        } while (next(tap, axes));
        return all;
    }

    private static int inputTaps(Axis a, int o) {
        int count = 0;
        for (int j = 0; j < a.window(); j++) {
            long pos = (long) o * a.stride() - a.padBegin() + (long) j * a.dilation();
            count += pos >= 0 && pos < a.in() ? 1 : 0;
        }
        return count;
    }

    private static int includePadTaps(Axis a, int o) {
        int count = 0;
        for (int j = 0; j < a.window(); j++) {
            long pos = (long) o * a.stride() - a.padBegin() + (long) j * a.dilation();
            count += pos >= -a.padBegin() && pos < (long) a.in() + a.padEnd() ? 1 : 0;
        }
        return count;
    }

    private static boolean next(int[] tap, Axis[] axes) {
        for (int i = tap.length - 1; i >= 0; i--) {
            if (++tap[i] < axes[i].window()) {
                return true;
            }
            tap[i] = 0;
        }
        return false;
    }

    private static boolean nextIn(int[] pos, int[] lo, int[] hi) {
        for (int i = pos.length - 1; i >= 0; i--) {
            if (++pos[i] < hi[i]) {
                return true;
            }
            pos[i] = lo[i];
        }
        return false;
    }

    /** The first NaN, else the first element equal to the maximum, in the order offered. */
    private static final class FirstMax {
        double best;
        private boolean any;
        private boolean nan;

        void take(float v) {
            if (!nan && (Float.isNaN(v) || !any || v > best)) {
                nan = Float.isNaN(v);
                best = v;
                any = true;
            }
        }
    }

    private interface Visit {
        void at(int n, int c, int[] pos);
    }

    private static void forEach(TensorShape o, Visit v) {
        for (int n = 0; n < o.n(); n++) {
            for (int c = 0; c < o.c(); c++) {
                int[] pos = new int[o.rank()];
                do {
                    v.at(n, c, pos.clone());
                } while (nextIn(pos, new int[o.rank()], o.spatial()));
            }
        }
    }
}
