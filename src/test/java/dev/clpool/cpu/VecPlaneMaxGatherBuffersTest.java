package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneMaxGather}'s reads from and writes to a tensor's bytes (the stride-2 split of
 * {@link PlaneMaxGather}'s staging, straight from the input; the interleave of its sums, straight
 * into the gradient): raw bits (NaN payloads, ±0, ±∞) at odd offsets and widths, against the plain
 * one-at-a-time split and interleave, and nothing written outside the row; and 3×3 s2 backward
 * through {@link PlaneMaxGather} (its four planes summed at once, {@link VecPlaneMaxGather#stemSums})
 * against the general path, with both parities of left padding, planes of odd widths in several
 * bands, inputs whose unique maxima take up to four contributions, and ±1e30 gradients against 1 (so
 * that another order of a plane's terms shows).
 */
class VecPlaneMaxGatherBuffersTest {
    private static final int[] SPECIAL = {0x7fc00000, 0xffc00003, 0x7f800001, 0x80000000, 0, 0x7f800000, 0xff800000,
        0x3f800000, 0xbf800000};

    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
    }

    @Test
    void splitFromTheBufferIsTheScalarSplit() {
        SplittableRandom r = new SplittableRandom(81);
        int l = VecWidth.floats();
        for (int iw : new int[] {1, 2, l - 1, l, 2 * l - 1, 2 * l, 2 * l + 1, 2 * l + 2, 3 * l + 5, 112, 7 * l + 3}) {
            for (int at : new int[] {0, 1, 3, 17}) {
                ByteBuffer src = ByteBuffer.allocateDirect(4 * (at + iw + 2 * l)).order(ByteOrder.nativeOrder());
                for (int i = 0; i < src.capacity() / 4; i++) {
                    src.putInt(4 * i, bits(r));
                }
                int even = 5;
                int odd = 9 + iw;
                int[] want = new int[odd + iw + 7];
                int[] got = new int[want.length];
                for (int i = 0; i < want.length; i++) {
                    want[i] = got[i] = 0x12345678 + i;
                }
                for (int x = 0; x < iw; x++) {
                    want[((x & 1) == 0 ? even : odd) + x / 2] = src.getInt(4 * (at + x));
                }
                VecPlaneMaxGather.split(src, at, iw, got, even, odd);
                assertArrayEquals(want, got, "iw " + iw + " at " + at);
            }
        }
    }

    @Test
    void interleaveIntoTheBufferIsTheScalarInterleave() {
        SplittableRandom r = new SplittableRandom(82);
        int l = VecWidth.floats();
        for (int iw : new int[] {1, 2, l - 1, l, 2 * l - 1, 2 * l, 2 * l + 1, 2 * l + 2, 3 * l + 5, 112, 7 * l + 3}) {
            for (int at : new int[] {0, 1, 3, 17}) {
                float[] src = new float[2 * iw + 4 * l];
                for (int i = 0; i < src.length; i++) {
                    src[i] = Float.intBitsToFloat(bits(r));
                }
                int even = 3;
                int odd = 7 + iw / 2;
                int len = at + iw + 2 * l;
                ByteBuffer got = ByteBuffer.allocateDirect(4 * len).order(ByteOrder.nativeOrder());
                int[] want = new int[len];
                for (int i = 0; i < len; i++) {
                    want[i] = 0x12345678 + i;
                    got.putInt(4 * i, want[i]);
                }
                for (int x = 0; x < iw; x++) {
                    want[at + x] = Float.floatToRawIntBits(src[((x & 1) == 0 ? even : odd) + x / 2]);
                }
                VecPlaneMaxGather.interleave(src, even, odd, got, at, iw);
                int[] have = new int[len];
                got.asIntBuffer().get(have);
                assertArrayEquals(want, have, "iw " + iw + " at " + at);
            }
        }
    }

    /** The stem's 3×3 s2 with left padding 1 and 0 (odd and even lead), widths odd and even, several bands. */
    @Test
    void stemBackwardBothPaddingParitiesIsTheGeneralPathsBits() {
        SplittableRandom r = new SplittableRandom(83);
        int l = VecWidth.floats();
        for (int w : new int[] {2 * l, 2 * l + 1, 3 * l + 3, 112}) {
            int h = (1 << 14) / (2 * w) + 5;
            compare(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, h, w, 1), r);
            compare(PoolSpec.max(3, 3).stride(2).build(), Shape.of(2, h, w, 1), r);
            compare(PoolSpec.max(3, 3).stride(2).padding(Padding.of(0, 1, 1, 0)).build(), Shape.of(1, h, w, 1), r);
            compare(PoolSpec.max(2, 2).stride(2).padding(Padding.of(1, 0, 0, 1)).build(), Shape.of(1, h, w, 1), r);
        }
    }

    private static void compare(PoolSpec spec, Shape s, SplittableRandom r) {
        int n = Math.toIntExact(s.elementCount());
        int[] xb = new int[n];
        for (int i = 0; i < n; i++) {
            // Ties, ±0 and NaN payloads among random values: the chosen taps (first maximum, first NaN) must be kept.
            // Ties, ±0 and NaN payloads among small values, and unique maxima that every window holding them chooses
            // (up to four contributions, whose order shows against ±1e30 gradients).
            xb[i] = switch (r.nextInt(8)) {
                case 0 -> SPECIAL[r.nextInt(SPECIAL.length)];
                case 1, 2 -> Float.floatToRawIntBits(100f + i);
                default -> Float.floatToRawIntBits(r.nextInt(8) - 4f);
            };
        }
        Tensor x = Tensor.allocate(s);
        x.buffer().asIntBuffer().put(xb);
        PoolGeometry g = spec.geometry(s);
        float[] dy = new float[Math.toIntExact(g.output().elementCount())];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = switch (r.nextInt(10)) {
                case 0 -> Float.intBitsToFloat(bits(r));
                case 1, 2 -> 1e30f;
                case 3, 4 -> -1e30f;
                case 5 -> 1f;
                default -> (float) r.nextGaussian() * (r.nextBoolean() ? 1f : 1e20f);
            };
        }
        Tensor gradOut = Tensor.of(g.output(), dy);
        Tensor want = Tensor.allocate(s);
        Tensor got = Tensor.allocate(s);
        if (!PlaneMaxGather.fits(g)) {
            throw new AssertionError(spec + " on " + s + " should take the flat phases");
        }
        CpuBackward.run(g, x, gradOut, want, TestParallel.ONE_THREAD, false, false);
        PlaneMaxGather.run(g, x, gradOut, got, TestParallel.ONE_THREAD);
        assertArrayEquals(VecArgmaxTest.bits(want), VecArgmaxTest.bits(got), spec + " on " + s);
    }

    private static int bits(SplittableRandom r) {
        return r.nextInt(4) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : Float.floatToRawIntBits((float) r.nextGaussian());
    }
}
