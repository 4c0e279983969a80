package dev.clpool.cpu;

import static dev.clpool.cpu.VecTestData.data;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VecGlobal}'s kernels against their scalar twins on the same inputs: {@link CpuGlobal}'s
 * scalar global max (bit for bit) and average (within the tolerance of a double reference, the
 * same bits where non-finite), and {@link VecGlobal#sum}'s lanes against the
 * same arithmetic written out per channel. Channel counts below, at and past a vector, with tails;
 * planes of one pixel to several runs; ties of −0 and +0, NaNs with payloads, infinities, all-zero
 * and constant data, and sums that cancel (where the bound must send the result to the fallback).
 */
class VecGlobalTest {
    private static final int[] CHANNELS = {16, 17, 70};
    private static final int[][] PLANES = {{1, 3}, {7, 7}, {13, 11}};

    @BeforeEach
    void vectorsRun() {
        assumeTrue(VectorSupport.enabled(), "the Vector API kernels need --add-modules jdk.incubator.vector");
    }


    @Test
    void globalMax_bitIdenticalToTheScalarPath_everyKindOfData() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2)) {
            int cases = 0;
            for (int c : CHANNELS) {
                for (int[] plane : PLANES) {
                    for (int kind = 0; kind < VecTestData.KINDS; kind++) {
                        Shape s = Shape.of(2, plane[0], plane[1], c);
                        assertMaxMatches(one, s, data(kind, (int) s.elementCount(), 31L * c + kind), "kind " + kind);
                        cases++;
                    }
                }
            }
            // Several runs per plane (two threads, one item): the runs' maxima are folded by the rule.
            for (int kind : new int[] {0, 1, 2, 5}) {
                Shape s = Shape.of(1, 48, 48, 17);
                assertMaxMatches(two, s, data(kind, (int) s.elementCount(), kind), "runs, kind " + kind);
            }
            assertTrue(cases >= 72);
        }
    }

    /**
     * Channels whose {@code Math.max} is zero or NaN take the rule's answer from a second look: a
     * ±0 before a NaN (the answer is the NaN), NaNs of several payloads (the first), ±0 in either
     * order after negatives and −∞, a zero or NaN only in the last pixel, and one channel in the
     * overlapping last vector; one and several runs per item.
     */
    @Test
    void globalMax_zeroAndNaNChannels_takeTheFirstZeroOrNaN() {
        float nan1 = Float.intBitsToFloat(0x7fc00001);
        float nan2 = Float.intBitsToFloat(0xffc00002);
        for (int c : new int[] {16, 19, 40}) {
            for (int hw : new int[] {1, 7, 49, 100, 2304}) {
                float[] v = new float[hw * c];
                for (int p = 0; p < hw; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        float x = switch (ch % 6) {
                            case 0 -> p == 0 ? 0f : p == hw / 2 ? nan2 : -1f;
                            case 1 -> p == hw - 1 ? nan1 : p % 3 == 0 ? nan2 : -0f;
                            case 2 -> p == 0 ? Float.NEGATIVE_INFINITY : p % 2 == 0 ? 0f : -0f;
                            case 3 -> p == hw - 1 ? -0f : -2f - p;
                            case 4 -> p % 2 == 0 ? -0f : 0f;
                            default -> p == hw - 1 ? nan1 : -3f;
                        };
                        v[p * c + ch] = ch == c - 1 && hw > 1 && p == hw - 1 ? 0f : x;
                    }
                }
                assertMaxMatches(CPU1, Shape.of(1, 1, hw, c), v, "zero/NaN c " + c + " hw " + hw);
                assertMaxMatches(CPU2, Shape.of(1, 1, hw, c), v, "zero/NaN runs c " + c + " hw " + hw);
            }
        }
    }

    private static final CpuBackend CPU1 = new CpuBackend(1);
    private static final CpuBackend CPU2 = new CpuBackend(2);

    private static void assertMaxMatches(CpuBackend cpu, Shape s, float[] v, String what) {
        Tensor in = Tensor.of(s, v);
        Tensor vec = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
        Tensor scalar = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
        CpuGlobal.max(cpu, in, vec);
        CpuGlobal.max(cpu, s, in.floats(), scalar.floats());
        float[] direct = new float[s.c()];
        int hw = s.h() * s.w();
        for (int n = 0; n < s.n(); n++) {
            VecGlobal.max(in.buffer(), n * hw * s.c(), hw, s.c(), direct);
            for (int ch = 0; ch < s.c(); ch++) {
                float want = scalar.floats().get(n * s.c() + ch);
                float ref = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < hw; p++) {
                    ref = CpuBackend.max(ref, v[(n * hw + p) * s.c() + ch]);
                }
                String at = what + " " + s + " n " + n + " ch " + ch;
                assertEquals(Float.floatToRawIntBits(ref), Float.floatToRawIntBits(want), "scalar " + at);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(vec.floats().get(n * s.c() + ch)), at);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(direct[ch]), "direct " + at);
            }
        }
    }

    @Test
    void globalAvg_likeTheScalarPath_bitForBitOnSmallPlanes_withinToleranceElsewhere() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2)) {
            for (int c : CHANNELS) {
                for (int[] plane : PLANES) {
                    for (int kind = 0; kind < VecTestData.KINDS; kind++) {
                        Shape s = Shape.of(3, plane[0], plane[1], c);
                        float[] v = kind == 7 ? data(kind, (int) s.elementCount(), c) : scaled(data(kind, (int) s.elementCount(), c));
                        assertAvgMatches(one, s, v, "kind " + kind);
                    }
                }
            }
            for (int kind : new int[] {0, 3, 6, 7}) {
                Shape s = Shape.of(1, 48, 48, 19);
                assertAvgMatches(two, s, data(kind, (int) s.elementCount(), kind), "runs, kind " + kind);
            }
        }
    }

    /** Uniform-like data in [-4, 4), as the workloads' random data, from the Gaussian kinds (others as they are). */
    private static float[] scaled(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.isFinite(v[i]) && v[i] != 0 && v[i] != 2.75f ? (float) Math.tanh(v[i]) * 4 : v[i];
        }
        return v;
    }

    private static void assertAvgMatches(CpuBackend cpu, Shape s, float[] v, String what) {
        Tensor in = Tensor.of(s, v);
        Tensor vec = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
        Tensor scalar = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
        CpuGlobal.avg(cpu, in, vec);
        CpuGlobal.avg(cpu, s, in.floats(), scalar.floats());
        int hw = s.h() * s.w();
        // Small planes now go through GapAvg (GapAvgTest); only its refusals reach VecGlobal.sum,
        // whose lanes the scalar path's equal bit for bit (sumLanes_bitIdenticalToTheSameArithmeticPerChannel).
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < s.c(); ch++) {
                float got = vec.floats().get(n * s.c() + ch);
                float want = scalar.floats().get(n * s.c() + ch);
                String at = what + " " + s + " n " + n + " ch " + ch + ": " + got + " vs " + want;
                if (!Float.isFinite(want)) {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), at);
                } else {
                    double ref = 0;
                    for (int p = 0; p < hw; p++) {
                        ref += v[(n * hw + p) * s.c() + ch];
                    }
                    ref /= hw;
                    assertTrue(Math.abs(got - ref) <= 4e-6 * Math.max(1, Math.abs(ref)), at + " ref " + ref);
                }
            }
        }
    }

    /** {@link VecGlobal#sum}'s lanes (B, s, e, q) against its arithmetic written out for one channel at a time. */
    @Test
    void sumLanes_bitIdenticalToTheSameArithmeticPerChannel() {
        for (int c : new int[] {16, 23, 40}) {
            for (int pixels : new int[] {1, 2, 3, 4, 5, 15, 16, 17, 49, 64, 70}) {
                for (int kind : new int[] {0, 1, 6, 7}) {
                    float[] v = data(kind, (pixels + 1) * c, 7L * pixels + c);
                    ByteBuffer buf = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.nativeOrder());
                    buf.asFloatBuffer().put(v);
                    int padded = VecGlobal.padded(c);
                    float[] lb = new float[padded];
                    float[] cs = new float[padded];
                    float[] ce = new float[padded];
                    float[] cq = new float[padded];
                    long flushes = VecGlobal.sum(buf, c, pixels, c, lb, cs, ce, cq, new float[padded]);
                    assertEquals(((pixels + 3) / 4 + 3) / 4, flushes);
                    for (int ch = 0; ch < c; ch++) {
                        float[] want = lane(v, c + ch, pixels, c);
                        String at = "c " + c + " pixels " + pixels + " kind " + kind + " ch " + ch;
                        assertEquals(want[0], lb[ch], at + " B");
                        assertEquals(want[1], cs[ch], at + " s");
                        assertEquals(want[2], ce[ch], at + " e");
                        assertEquals(want[3], cq[ch], at + " q");
                    }
                }
            }
        }
    }

    /** B, s, e, q of one channel: groups of four (+0 past the end) added pairwise, flushed every four groups and at the end. */
    private static float[] lane(float[] v, int at, int pixels, int c) {
        float l = 0;
        float b = 0;
        float[] s = new float[1];
        float[] e = new float[1];
        float[] q = new float[1];
        int groups = 0;
        for (int p = 0; p < pixels; p += 4) {
            float x0 = v[at + p * c];
            float x1 = p + 1 < pixels ? v[at + (p + 1) * c] : 0f;
            float x2 = p + 2 < pixels ? v[at + (p + 2) * c] : 0f;
            float x3 = p + 3 < pixels ? v[at + (p + 3) * c] : 0f;
            float a = x0 + x1;
            float d = x2 + x3;
            float g = a + d;
            float t = l + g;
            l = t;
            b += (Math.abs(a) + Math.abs(d)) + (Math.abs(g) + Math.abs(t));
            if (++groups % 4 == 0 || p + 4 >= pixels) {
                CompensatedSum.add(s, e, q, 0, l);
                l = 0;
            }
        }
        return new float[] {b, s[0], e[0], q[0]};
    }
}
