package dev.clpool.cpu;

import static dev.clpool.cpu.VecTestData.data;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link GapAvg} and its kernel {@link VecGlobal#pairSum}: the kernel's lanes against the same
 * arithmetic written out per channel (bit for bit), and the certificate: every certified average
 * within {@link AvgWindows#TOLERANCE} (plus the division's rounding) of the double sum, one-sign
 * data certified on every plane that {@link GapAvg#fits}, and sums whose pairs hide their error
 * (the lanes see zero), non-finite data and overflow refused.
 */
class GapAvgTest {
    private static final int[] CHANNELS = {16, 23, 70};

    @BeforeEach
    void vectorsRun() {
        assumeTrue(VectorSupport.enabled(), "the Vector API kernels need --add-modules jdk.incubator.vector");
    }

    @Test
    void pairSum_bitIdenticalToTheSameArithmeticPerChannel() {
        for (int c : CHANNELS) {
            for (int pixels : new int[] {1, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 49, 64, 100}) {
                // No NaN kind: Math.abs keeps a NaN's sign outside C2, the lanes clear it.
                for (int kind : new int[] {0, 1, 5, 6, 7}) {
                    float[] v = data(kind, (pixels + 1) * c, 11L * pixels + c + kind);
                    int padded = VecGlobal.padded(c);
                    float[] s = new float[padded];
                    float[] w = new float[padded];
                    assertEquals(GapAvg.groups(pixels), VecGlobal.pairSum(buffer(v), c, pixels, c, s, w));
                    for (int ch = 0; ch < c; ch++) {
                        float[] want = lane(v, c + ch, pixels, c);
                        String at = "c " + c + " pixels " + pixels + " kind " + kind + " ch " + ch;
                        assertEquals(Float.floatToRawIntBits(want[0]), Float.floatToRawIntBits(s[ch]), at + " sum");
                        assertEquals(Float.floatToRawIntBits(want[1]), Float.floatToRawIntBits(w[ch]), at + " W");
                    }
                }
            }
        }
    }

    /** Sum and W of one channel: groups of 8, then 4, then single pixels, trees of pairs, lanes from +0. */
    private static float[] lane(float[] v, int at, int pixels, int c) {
        float s = 0;
        float w = 0;
        int p = 0;
        while (p < pixels) {
            int k = pixels - p >= 8 ? 8 : pixels - p >= 4 ? 4 : 1;
            float[] a = new float[Math.max(1, k / 2)];
            for (int j = 0; j < a.length; j++) {
                a[j] = k == 1 ? v[at + p * c] : v[at + (p + 2 * j) * c] + v[at + (p + 2 * j + 1) * c];
            }
            float g;
            float m;
            if (k == 8) {
                g = (a[0] + a[1]) + (a[2] + a[3]);
                m = (Math.abs(a[0]) + Math.abs(a[1])) + (Math.abs(a[2]) + Math.abs(a[3]));
                m = m + m + m;
            } else if (k == 4) {
                g = a[0] + a[1];
                m = Math.abs(a[0]) + Math.abs(a[1]);
                m = m + m;
            } else {
                g = a[0];
                m = 0;
            }
            s = s + g;
            w = w + (k == 1 ? Math.abs(s) : m + Math.abs(s));
            p += k;
        }
        return new float[] {s, w};
    }

    @Test
    void certifiedAverages_withinTheFastPathsToleranceOfTheDoubleSum_everyKindOfData() {
        int certified = 0;
        int refused = 0;
        for (int c : CHANNELS) {
            for (int pixels : new int[] {1, 2, 5, 8, 9, 49, 64, 100}) {
                for (int kind = 0; kind < VecTestData.KINDS + 3; kind++) {
                    float[] v = kind < VecTestData.KINDS ? data(kind, pixels * c, 5L * pixels + kind) : special(kind, pixels, c);
                    float[] got = new float[c];
                    if (GapAvg.item(buffer(v), 0, pixels, c, FloatBuffer.wrap(got), 0)) {
                        certified++;
                        for (int ch = 0; ch < c; ch++) {
                            double ref = 0;
                            for (int p = 0; p < pixels; p++) {
                                ref += v[p * c + ch];
                            }
                            ref /= pixels;
                            double allowed = AvgWindows.TOLERANCE * Math.max(1, Math.abs(ref)) * (1 + 1e-6) + 0x1p-24 * Math.abs(ref);
                            assertTrue(Math.abs(got[ch] - ref) <= allowed,
                                    "kind " + kind + " c " + c + " pixels " + pixels + " ch " + ch + ": " + got[ch] + " vs " + ref);
                        }
                    } else {
                        refused++;
                    }
                }
            }
        }
        assertTrue(certified > 60 && refused > 20, certified + " certified, " + refused + " refused");
    }

    /**
     * Kind 8: pairs B + d and −B + d (d under half B's ulp) whose trees return exactly 0, so the
     * lanes and their running part of W see nothing, while the true average is d/2: only the trees'
     * a-priori part refuses it. Kind 9: uniform data in [−4, 4) (the workloads' random data).
     * Kind 10: values near float max of one sign, whose sums overflow.
     */
    private static float[] special(int kind, int pixels, int c) {
        SplittableRandom r = new SplittableRandom(kind * 31L + pixels);
        float[] v = new float[pixels * c];
        for (int i = 0; i < v.length; i++) {
            int p = i / c;
            v[i] = switch (kind) {
                case 8 -> p % 2 == 1 ? 0x1p-13f : p % 4 == 0 ? 4096f : -4096f;
                case 9 -> (float) (r.nextDouble() * 8 - 4);
                default -> 3e38f;
            };
        }
        return v;
    }

    @Test
    void hiddenPairErrors_nonFiniteData_andOverflow_areRefused() {
        for (int c : CHANNELS) {
            for (int pixels : new int[] {8, 16, 49, 64}) {
                assertFalse(GapAvg.item(buffer(special(8, pixels, c)), 0, pixels, c, FloatBuffer.allocate(c), 0), "hidden " + pixels);
                assertFalse(GapAvg.item(buffer(special(10, pixels, c)), 0, pixels, c, FloatBuffer.allocate(c), 0), "overflow " + pixels);
                for (int kind : new int[] {2, 3}) {
                    float[] v = data(kind, pixels * c, pixels + c);
                    assertFalse(GapAvg.item(buffer(v), 0, pixels, c, FloatBuffer.allocate(c), 0), "kind " + kind + " " + pixels);
                }
            }
        }
    }

    @Test
    void oneSignData_andTheWorkloadsRandomData_certifyOnEveryPlaneThatFits() {
        int largest = 0;
        for (int pixels = 1; pixels <= 128; pixels++) {
            if (!GapAvg.fits(pixels)) {
                continue;
            }
            largest = pixels;
            int c = 17;
            SplittableRandom r = new SplittableRandom(pixels);
            float[] positive = new float[pixels * c];
            float[] constant = new float[pixels * c];
            for (int i = 0; i < positive.length; i++) {
                positive[i] = r.nextInt(2) == 0 ? 0f : (float) r.nextDouble(0, 1000);
                constant[i] = -3.3f;
            }
            assertTrue(GapAvg.item(buffer(positive), 0, pixels, c, FloatBuffer.allocate(c), 0), "ReLU'd " + pixels);
            assertTrue(GapAvg.item(buffer(constant), 0, pixels, c, FloatBuffer.allocate(c), 0), "constant " + pixels);
        }
        assertEquals(104, largest);
        assertTrue(GapAvg.item(buffer(special(9, 49, 2048)), 0, 49, 2048, FloatBuffer.allocate(2048), 0), "uniform [-4, 4), 7x7x2048");
    }

    @Test
    void certifiedAverages_sameBitsAsPerChannel_andOneFailingChannelAnywhereRefusesTheItem() {
        float perW = 0x1p-22f;
        float allowed = 4e-5f;
        for (int c : new int[] {1, 15, 16, 23, 33, 70}) {
            SplittableRandom r = new SplittableRandom(c);
            float[] s = new float[VecGlobal.padded(c)];
            float[] w = new float[VecGlobal.padded(c)];
            for (int ch = 0; ch < c; ch++) {
                s[ch] = (float) r.nextDouble(-300, 300);
                w[ch] = (float) r.nextDouble(0, 100);
            }
            float[] got = new float[c];
            assertTrue(VecGlobal.certifiedAverages(s, w, c, 49, perW, allowed, got), "c " + c);
            for (int ch = 0; ch < c; ch++) {
                assertEquals(Float.floatToRawIntBits(s[ch] / 49f), Float.floatToRawIntBits(got[ch]), "c " + c + " ch " + ch);
            }
            // The first lane, a lane in the middle, the last lane of whole vectors and every tail lane.
            for (int bad : new int[] {0, c / 2, c - 1, c - c % 16, Math.max(0, c - 2)}) {
                if (bad >= c) {
                    continue;
                }
                for (float[] kind : new float[][] {{s[bad], 1e6f}, {s[bad], Float.NaN}, {Float.NaN, w[bad]}, {1e30f, Float.POSITIVE_INFINITY}}) {
                    float[] s2 = s.clone();
                    float[] w2 = w.clone();
                    s2[bad] = kind[0];
                    w2[bad] = kind[1];
                    assertFalse(VecGlobal.certifiedAverages(s2, w2, c, 49, perW, allowed, new float[c]),
                            "c " + c + " bad " + bad + " s " + kind[0] + " w " + kind[1]);
                }
            }
        }
    }

    private static ByteBuffer buffer(float[] v) {
        ByteBuffer buf = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.nativeOrder());
        buf.asFloatBuffer().put(v);
        return buf;
    }
}
