package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link VecPlaneGlobal}'s channels-first global average against its scalar twin
 * ({@link PlaneGlobal#avg}) and an exact reference, plane sizes around the vector width and the
 * tail, special values included.
 */
class VecPlaneGlobalTest {
    @ParameterizedTest(name = "plane size {0}")
    @ValueSource(ints = {1, 3, 4, 7, 8, 9, 15, 16, 17, 47, 48, 49, 50, 54, 55, 56, 64, 196, 4095})
    void averageMatchesTheScalarLoopsAndTheReference(int size) {
        int planes = 37;
        SplittableRandom r = new SplittableRandom(size);
        float[] v = new float[planes * size];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble(-8, 8) * (r.nextInt(8) == 0 ? 1e6 : 1));
        }
        v[0] = Float.NaN;                       // plane 0
        v[size] = Float.POSITIVE_INFINITY;      // plane 1
        v[2 * size + size - 1] = -0.0f;         // plane 2, in the tail
        v[3 * size + size - 1] = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            v[4 * size + i] = -0.0f;            // plane 4: all -0
            v[5 * size + i] = 3.25f;            // plane 5: constant
        }
        float[] vec = run(v, planes, size, true);
        float[] scalar = run(v, planes, size, false);
        Tolerance.assertClose(vec, reference(v, planes, size), "vector, plane size " + size);
        Tolerance.assertClose(scalar, reference(v, planes, size), "scalar, plane size " + size);
        for (int q = 0; q < planes; q++) {
            assertEquals(Math.abs(scalar[q] - vec[q]) <= Math.ulp(scalar[q]) || scalar[q] == vec[q]
                    || (Float.isNaN(vec[q]) && Float.isNaN(scalar[q])), true, "plane " + q + ": " + vec[q] + " vs " + scalar[q]);
        }
        assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(vec[0]), "canonical NaN");
        assertEquals(3.25f, vec[5]);
    }

    @Test
    void sumReadsOnlyItsPlane() {
        ByteBuffer b = ByteBuffer.allocateDirect(64 * Float.BYTES).order(ByteOrder.nativeOrder());
        for (int i = 0; i < 64; i++) {
            b.putFloat(i * Float.BYTES, i < 5 || i >= 5 + 19 ? 1e30f : 1f);
        }
        assertEquals(19.0, VecPlaneGlobal.sum(b, 5, 19));
    }

    /**
     * Once compiled, the 7×7 kernel allocates nothing: its mask was built with JDK 17's
     * {@code addIndex} (run in Java, arrays each block) and, with a cold vector loop for the
     * tensor's last planes beside the hot one, boxed (40 KB a call on ResNet-50's head). Called
     * until a window of calls allocates under 16 bytes a block (compiled) or a bound of calls is
     * reached; no timing.
     */
    @Test
    void sevenBySevenKernelAllocatesNothingOnceCompiled() {
        int size = 49;
        int planes = 2048;
        int block = 64;
        ByteBuffer in = ByteBuffer.allocateDirect(planes * size * Float.BYTES).order(ByteOrder.nativeOrder());
        SplittableRandom r = new SplittableRandom(49);
        for (int i = 0; i < planes * size; i++) {
            in.putFloat(i * Float.BYTES, (float) r.nextDouble(-4, 4));
        }
        float[] result = new float[block];
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory
                .getThreadMXBean();
        long id = Thread.currentThread().getId();
        int window = 50;
        long perWindow = Long.MAX_VALUE;
        for (int w = 0; w < 400 && perWindow >= 16L * window * (planes / block); w++) {
            long a0 = mx.getThreadAllocatedBytes(id);
            for (int c = 0; c < window; c++) {
                for (int p0 = 0; p0 < planes; p0 += block) {
                    SixVectorSums.averages(in, p0, block, size, result);
                }
            }
            perWindow = mx.getThreadAllocatedBytes(id) - a0;
        }
        assertEquals(true, perWindow < 16L * window * (planes / block), perWindow + " bytes in " + window + " calls");
        double want = 0;
        for (int i = (planes - 1) * size; i < planes * size; i++) {
            want += in.getFloat(i * Float.BYTES);
        }
        assertEquals((float) (want / size), result[block - 1], "the tensor's last plane");
    }

    private static float[] run(float[] v, int planes, int size, boolean vector) {
        ByteBuffer in = ByteBuffer.allocateDirect(v.length * Float.BYTES).order(ByteOrder.nativeOrder());
        in.asFloatBuffer().put(v);
        FloatBuffer out = FloatBuffer.allocate(planes);
        try (CpuBackend cpu = new CpuBackend(3)) {
            if (vector) {
                VecPlaneGlobal.avg(cpu, in, out, planes, size);
            } else {
                PlaneGlobal.avg(cpu, in.asFloatBuffer(), out, planes, size);
            }
        }
        return out.array();
    }

    private static double[] reference(float[] v, int planes, int size) {
        double[] want = new double[planes];
        for (int q = 0; q < planes; q++) {
            java.math.BigDecimal s = java.math.BigDecimal.ZERO;
            boolean special = false;
            double d = 0;
            for (int i = 0; i < size; i++) {
                float x = v[q * size + i];
                if (Float.isNaN(x) || Float.isInfinite(x)) {
                    special = true;
                    d += x;
                } else {
                    s = s.add(new java.math.BigDecimal(x));
                }
            }
            want[q] = special ? d : s.doubleValue() / size;
        }
        return want;
    }
}
