package dev.clpool.cpu;

import static dev.clpool.cpu.VecTestData.data;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link GapPlanes} and its kernel {@link VecPlaneGlobal#floatSums(ByteBuffer, int, int, int, float[], float[], float[])}:
 * the kernel's sums and bounds against the same arithmetic written out per plane (bit for bit),
 * and the certificate: every certified average within {@link AvgWindows#TOLERANCE} (plus the
 * division's rounding) of the double sum, one-sign data certified on every plane size the kernel
 * takes, and sums whose pairs hide their error (the lanes see zero), non-finite data and overflow
 * refused.
 */
class GapPlanesTest {
    private static final int[] SIZES = {16, 17, 31, 32, 33, 48, 49, 63, 64, 65, 80, 81, 96, 97, 100, 112, 113, 121, 128};

    @BeforeEach
    void floatSumsRun() {
        assumeTrue(VectorSupport.enabled() && VecPlaneGlobal.floatSums(49), "needs the Vector API with 16-float vectors");
    }

    @Test
    void floatSums_bitIdenticalToTheSameArithmeticPerPlane() {
        float[] stash = new float[512];
        for (int size : SIZES) {
            for (int count : new int[] {16, 5, 1}) {
                // No NaN or infinity: Math.abs keeps a NaN's sign outside C2, the lanes clear it.
                for (int kind : new int[] {0, 1, 5, 6, 7}) {
                    float[] v = data(kind, (count + 2) * size, 13L * size + count + kind);
                    float[] s = new float[16];
                    float[] w = new float[16];
                    VecPlaneGlobal.floatSums(buffer(v), size, size, count, stash, s, w);
                    for (int q = 0; q < 16; q++) {
                        float[] want = q < count ? plane(v, (q + 1) * size, size) : new float[2];
                        String at = "size " + size + " count " + count + " kind " + kind + " plane " + q;
                        assertEquals(Float.floatToRawIntBits(want[0]), Float.floatToRawIntBits(s[q]), at + " sum");
                        assertEquals(Float.floatToRawIntBits(want[1]), Float.floatToRawIntBits(w[q]), at + " W");
                    }
                }
            }
        }
    }

    /** Sum and W of one plane as the kernel's comment describes them: leaves, pairs, the pairs' tree, the lanes' tree. */
    private static float[] plane(float[] v, int at, int size) {
        int k = (size + 15) / 16;
        float[][] leaf = new float[k][16];
        for (int i = 0; i < k; i++) {
            for (int l = 0; l < 16; l++) {
                leaf[i][l] = 16 * i + 16 <= size ? v[at + 16 * i + l] : l < 16 - size % 16 ? 0f : v[at + size - 16 + l];
            }
        }
        float[] s = new float[16];
        float[] w = new float[16];
        for (int l = 0; l < 16; l++) {
            float[] a = new float[(k + 1) / 2];
            for (int j = 0; j < a.length; j++) {
                a[j] = 2 * j + 1 < k ? leaf[2 * j][l] + leaf[2 * j + 1][l] : leaf[2 * j][l];
            }
            switch (a.length) {
                case 1 -> { s[l] = a[0]; w[l] = Math.abs(a[0]); }
                case 2 -> { s[l] = a[0] + a[1]; w[l] = Math.abs(a[0]) + Math.abs(a[1]); }
                case 3 -> { s[l] = (a[0] + a[1]) + a[2]; w[l] = (Math.abs(a[0]) + Math.abs(a[1])) + Math.abs(a[2]); }
                default -> {
                    s[l] = (a[0] + a[1]) + (a[2] + a[3]);
                    w[l] = (Math.abs(a[0]) + Math.abs(a[1])) + (Math.abs(a[2]) + Math.abs(a[3]));
                }
            }
        }
        for (int n = 8; n >= 1; n /= 2) {
            for (int l = 0; l < n; l++) {
                s[l] = s[2 * l] + s[2 * l + 1];
                w[l] = w[2 * l] + w[2 * l + 1];
            }
        }
        return new float[] {s[0], w[0]};
    }

    @Test
    void certifiedAverages_withinTheFastPathsToleranceOfTheDoubleSum_everyKindOfData() {
        int certified = 0;
        int refused = 0;
        for (int size : SIZES) {
            for (int kind = 0; kind < VecTestData.KINDS + 4; kind++) {
                float[] v = kind < VecTestData.KINDS ? data(kind, 16 * size, 7L * size + kind) : special(kind, 16, size);
                float[] avg = new float[16];
                int bad = certify(v, size, avg);
                for (int q = 0; q < 16; q++) {
                    if ((bad & 1 << q) != 0) {
                        refused++;
                        continue;
                    }
                    certified++;
                    double ref = 0;
                    for (int i = 0; i < size; i++) {
                        ref += v[q * size + i];
                    }
                    ref /= size;
                    double allowed = AvgWindows.TOLERANCE * Math.max(1, Math.abs(ref)) * (1 + 1e-6) + 0x1p-24 * Math.abs(ref);
                    assertTrue(Math.abs(avg[q] - ref) <= allowed,
                            "kind " + kind + " size " + size + " plane " + q + ": " + avg[q] + " vs " + ref);
                }
            }
        }
        assertTrue(certified > 1500 && refused > 1200, certified + " certified, " + refused + " refused");
    }

    @Test
    void hiddenPairErrors_nonFiniteData_andOverflow_areRefused() {
        for (int size : SIZES) {
            if (size % 64 == 0) {
                assertEquals(0xffff, certify(special(8, 16, size), size, new float[16]), "hidden, size " + size);
            }
            assertEquals(0xffff, certify(special(10, 16, size), size, new float[16]), "overflow, size " + size);
            float[] v = new float[16 * size];
            for (int q = 0; q < 16; q++) {
                float special = q % 3 == 0 ? Float.NaN : q % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                v[q * size + (q * 7) % size] = special;
            }
            assertEquals(0xffff, certify(v, size, new float[16]), "NaN and infinities, size " + size);
        }
    }

    @Test
    void oneSignData_andTheWorkloadsRandomData_certifyOnEveryPlaneSize() {
        for (int size = VecPlaneGlobal.MIN_FLOAT_PLANE; size <= VecPlaneGlobal.MAX_FLOAT_PLANE; size++) {
            SplittableRandom r = new SplittableRandom(size);
            float[] positive = new float[16 * size];
            float[] negative = new float[16 * size];
            for (int i = 0; i < positive.length; i++) {
                positive[i] = r.nextInt(2) == 0 ? 0f : (float) r.nextDouble(0, 1000);
                negative[i] = -3.3f * (1 + i % 5);
            }
            assertEquals(0, certify(positive, size, new float[16]), "ReLU'd, size " + size);
            assertEquals(0, certify(negative, size, new float[16]), "negative, size " + size);
            assertEquals(0, certify(special(9, 16, size), size, new float[16]), "uniform [-4, 4), size " + size);
        }
    }

    /** The refused planes' bits, kernel and certificate over 16 planes of {@code size} floats of {@code v}. */
    private static int certify(float[] v, int size, float[] avg) {
        float[] s = new float[16];
        float[] w = new float[16];
        VecPlaneGlobal.floatSums(buffer(v), 0, size, 16, new float[512], s, w);
        return GapPlanes.certificate(size).certify(s, w, 16, avg, 0);
    }

    /**
     * Kind 8: leaves of 4096, 2^-13 (under half 4096's ulp), −4096, 2^-13 in turn, so that the
     * pairs round to ±4096 and each lane's sum is exactly 0 while the true average is 2^-14 (planes
     * of whole pairs of pairs: 64 and 128 floats): only W's pairs refuse it. Kind 9: uniform data in [−4, 4) (the workloads' random
     * data). Kind 10: values near float max of one sign, whose sums overflow. Kind 11: uniform in
     * [−100, 100), mostly refused.
     */
    private static float[] special(int kind, int planes, int size) {
        SplittableRandom r = new SplittableRandom(kind * 31L + size);
        float[] v = new float[planes * size];
        for (int i = 0; i < v.length; i++) {
            int at = i % size;
            v[i] = switch (kind) {
                case 8 -> at / 16 % 2 == 1 ? 0x1p-13f : at / 16 % 4 == 0 ? 4096f : -4096f;
                case 9 -> (float) (r.nextDouble() * 8 - 4);
                case 10 -> 3e38f;
                default -> (float) (r.nextDouble() * 200 - 100);
            };
        }
        return v;
    }

    private static ByteBuffer buffer(float[] v) {
        ByteBuffer buf = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.nativeOrder());
        buf.asFloatBuffer().put(v);
        return buf;
    }
}
