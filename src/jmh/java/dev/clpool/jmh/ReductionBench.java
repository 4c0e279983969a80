package dev.clpool.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The forms of the inner reduction, single-threaded on cache-resident data: four 16K-float rows
 * folded element-wise into an accumulator (one 2×2 window per element, channels innermost).
 * Max: clpool's exact compare-and-select, a branch, Math.max (not exact alone: it returns +0.0 for
 * (-0.0, +0.0) and an unspecified NaN), and Math.max followed by the exact fix-up clpool uses
 * (rescan only where the result is zero or NaN); heap arrays against direct FloatBuffer gets.
 * Sum: double accumulation of floats, float accumulation, and Kahan-compensated float.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReductionBench {
    private static final int N = 16384;

    private final float[][] rows = new float[4][N];
    private final FloatBuffer[] direct = new FloatBuffer[4];
    private final float[] acc = new float[N];
    private final double[] dacc = new double[N];
    private final float[] comp = new float[N];
    private final float[] lanes = new float[16];
    private final double[][] staged = new double[4][N];

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        for (int k = 0; k < 4; k++) {
            direct[k] = ByteBuffer.allocateDirect(N * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (int i = 0; i < N; i++) {
                rows[k][i] = (float) (r.nextDouble() * 16 - 8);
                direct[k].put(i, rows[k][i]);
            }
        }
    }

    static float exact(float m, float v) {
        return (v > m || (v != v && m == m)) ? v : m;
    }

    @Benchmark
    public float[] maxCompareSelectHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = exact(exact(exact(a[i], b[i]), c[i]), d[i]);
        }
        return acc;
    }

    @Benchmark
    public float[] maxBranchHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            float m = a[i];
            float v = b[i];
            if (v > m || (v != v && m == m)) {
                m = v;
            }
            v = c[i];
            if (v > m || (v != v && m == m)) {
                m = v;
            }
            v = d[i];
            if (v > m || (v != v && m == m)) {
                m = v;
            }
            acc[i] = m;
        }
        return acc;
    }

    @Benchmark
    public float[] maxMathMaxHeapNotExact() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = Math.max(Math.max(Math.max(a[i], b[i]), c[i]), d[i]);
        }
        return acc;
    }

    @Benchmark
    public float[] maxMathMaxFixupHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = Math.max(Math.max(Math.max(a[i], b[i]), c[i]), d[i]);
        }
        for (int i = 0; i < N; i++) {
            float m = acc[i];
            if (!(m > 0 || m < 0)) {
                acc[i] = exact(exact(exact(a[i], b[i]), c[i]), d[i]);
            }
        }
        return acc;
    }

    /** As maxMathMaxFixupHeap, but the zero-or-NaN test is a vectorisable min-of-|x| reduction. */
    @Benchmark
    public float[] maxMathMaxMinCheckHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = Math.max(Math.max(Math.max(a[i], b[i]), c[i]), d[i]);
        }
        float least = Float.POSITIVE_INFINITY;
        for (int i = 0; i < N; i++) {
            least = Math.min(least, Math.abs(acc[i]));
        }
        if (!(least > 0)) {
            for (int i = 0; i < N; i++) {
                float m = acc[i];
                if (!(m > 0 || m < 0)) {
                    acc[i] = exact(exact(exact(a[i], b[i]), c[i]), d[i]);
                }
            }
        }
        return acc;
    }

    /** The zero-or-NaN test as sixteen lanes of min(|x|), so the loop body is one vector. */
    @Benchmark
    public float[] maxMathMaxLaneCheckHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = Math.max(Math.max(Math.max(a[i], b[i]), c[i]), d[i]);
        }
        float[] w = lanes;
        java.util.Arrays.fill(w, Float.POSITIVE_INFINITY);
        int i = 0;
        for (; i + 16 <= N; i += 16) {
            for (int j = 0; j < 16; j++) {
                w[j] = Math.min(w[j], Math.abs(acc[i + j]));
            }
        }
        boolean bad = false;
        for (int j = 0; j < 16; j++) {
            bad |= !(w[j] > 0);
        }
        for (; i < N; i++) {
            bad |= !(acc[i] > 0 || acc[i] < 0);
        }
        if (bad) {
            for (int k = 0; k < N; k++) {
                float m = acc[k];
                if (!(m > 0 || m < 0)) {
                    acc[k] = exact(exact(exact(a[k], b[k]), c[k]), d[k]);
                }
            }
        }
        return acc;
    }

    /** The check fused: the last tap's pass also folds min(|x|) into sixteen lanes. */
    @Benchmark
    public float[] maxMathMaxFusedLaneCheckHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        float[] w = lanes;
        java.util.Arrays.fill(w, Float.POSITIVE_INFINITY);
        int i = 0;
        for (; i + 16 <= N; i += 16) {
            for (int j = 0; j < 16; j++) {
                float m = Math.max(Math.max(Math.max(a[i + j], b[i + j]), c[i + j]), d[i + j]);
                acc[i + j] = m;
                w[j] = Math.min(w[j], Math.abs(m));
            }
        }
        boolean bad = false;
        for (int j = 0; j < 16; j++) {
            bad |= !(w[j] > 0);
        }
        if (bad) {
            for (int k = 0; k < N; k++) {
                float m = acc[k];
                if (!(m > 0 || m < 0)) {
                    acc[k] = exact(exact(exact(a[k], b[k]), c[k]), d[k]);
                }
            }
        }
        return acc;
    }

    @Benchmark
    public double[] widenToDouble() {
        float[] a = rows[0];
        for (int i = 0; i < N; i++) {
            dacc[i] = a[i];
        }
        return dacc;
    }

    @Benchmark
    public double[] sumDoubleStagedHeap() {
        for (int i = 0; i < N; i++) {
            dacc[i] = 0;
        }
        for (int k = 0; k < 4; k++) {
            double[] a = staged[k];
            for (int i = 0; i < N; i++) {
                dacc[i] += a[i];
            }
        }
        return dacc;
    }

    @Benchmark
    public float[] maxCompareSelectDirect() {
        FloatBuffer a = direct[0];
        FloatBuffer b = direct[1];
        FloatBuffer c = direct[2];
        FloatBuffer d = direct[3];
        for (int i = 0; i < N; i++) {
            acc[i] = exact(exact(exact(a.get(i), b.get(i)), c.get(i)), d.get(i));
        }
        return acc;
    }

    @Benchmark
    public float[] maxMathMaxFixupCopiedFromDirect() {
        for (int k = 0; k < 4; k++) {
            direct[k].get(0, rows[k], 0, N);
        }
        return maxMathMaxFixupHeap();
    }

    @Benchmark
    public double[] sumDoubleHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            dacc[i] = (double) a[i] + b[i] + c[i] + d[i];
        }
        return dacc;
    }

    @Benchmark
    public double[] sumDoubleAccumulateHeap() {
        for (int k = 0; k < 4; k++) {
            float[] a = rows[k];
            for (int i = 0; i < N; i++) {
                dacc[i] += a[i];
            }
        }
        return dacc;
    }

    @Benchmark
    public float[] sumFloatHeap() {
        float[] a = rows[0];
        float[] b = rows[1];
        float[] c = rows[2];
        float[] d = rows[3];
        for (int i = 0; i < N; i++) {
            acc[i] = a[i] + b[i] + c[i] + d[i];
        }
        return acc;
    }

    @Benchmark
    public float[] sumKahanFloatHeap() {
        for (int i = 0; i < N; i++) {
            acc[i] = 0;
            comp[i] = 0;
        }
        for (int k = 0; k < 4; k++) {
            float[] a = rows[k];
            for (int i = 0; i < N; i++) {
                float y = a[i] - comp[i];
                float s = acc[i];
                float t = s + y;
                comp[i] = (t - s) - y;
                acc[i] = t;
            }
        }
        return acc;
    }
}
