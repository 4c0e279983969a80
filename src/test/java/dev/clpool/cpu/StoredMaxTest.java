package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.DType;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.WideningBackend;
import dev.clpool.testing.StorageCases;
import java.nio.ShortBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * 16-bit channels-last max windows on the stored patterns ({@link CpuBackend#poolStored},
 * {@link VecMaxStored}) against the path they replace: the input widened to float32, the float32
 * max, the result rounded once ({@link WideningBackend} over a CPU path without the capability),
 * bit for bit in both 16-bit types: every order of NaNs (signalling and quiet, both signs, payloads
 * naming the tap), ±0, ±1 and ±∞ over four taps; random geometries (strides, dilation, padding,
 * ceil mode, channels from one short vector to four and a half) on the storage tests' special
 * values, ReLU'd, all-zero and ±0-with-negatives data. And which requests take the path.
 */
class StoredMaxTest {
    private static final CpuBackend CPU = new CpuBackend(1);
    /** Today's path: widened, float32 max, rounded once. */
    private static final WideningBackend WIDENED = new WideningBackend(new WidenOnly(CPU));

    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void everyOrderOfSpecialsOverFourTaps_sameBitsAsWidened() {
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            // 64 channels: two vectors a call; 128 and 176: four (then one and an overlapping one).
            for (int c : new int[] {64, 128, 176}) {
                Tensor x = everyFourTapOrder(dtype, c);
                check(PoolSpec.max(2, 2).stride(2).build(), x, true, dtype + " 2x2 s2, " + c + " channels");
                check(PoolSpec.max(2, 2).stride(1).ceilMode(true).build(), x, true, dtype + " 2x2 s1 ceil, " + c + " channels");
                check(PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build(), x, true, dtype + " 3x3 s1 p1, " + c + " channels");
            }
        }
    }

    /**
     * One suspect window at a time among NaN-free, zero-free ones, in every vector position of a
     * call (two vectors of 64 channels; four of 128; four, one and an overlapping one of 176): a
     * positive signalling NaN, a negative NaN beside positive values, a −0 before +0 as the maximum.
     * Each must be seen in its own vector, not only where a neighbour's suspect redoes the call.
     */
    @Test
    void loneSuspects_everyVectorPosition_sameBitsAsWidened() {
        PoolSpec k2 = PoolSpec.max(2, 2).stride(2).build();
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            boolean half = dtype == DType.FLOAT16;
            short one = (short) (half ? 0x3c00 : 0x3f80);
            short[][] windows = {
                {one, (short) ((half ? 0x7c00 : 0x7f80) | 5), one, one},
                {one, (short) ((half ? 0xfe00 : 0xffc0) | 3), one, one},
                {(short) 0x8000, 0, (short) (0x8000 | one), (short) (0x8000 | one)},
            };
            for (int c : new int[] {64, 128, 176}) {
                for (int ch = 0; ch < c; ch += 5) {
                    for (short[] w : windows) {
                        Tensor x = Tensor.of(Shape.of(1, 2, 2, c), dtype, new float[4 * c]);
                        ShortBuffer b = x.shorts();
                        for (int i = 0; i < b.capacity(); i++) {
                            b.put(i, (short) (one + i % 97)); // positive, distinct, no zero or NaN
                        }
                        for (int tap = 0; tap < 4; tap++) {
                            b.put(tap * c + ch, w[tap]);
                        }
                        check(k2, x, true, dtype + " lone suspect " + String.format("%04x", w[1] & 0xffff)
                                + " in channel " + ch + " of " + c);
                    }
                }
            }
        }
    }

    @RepeatedTest(24)
    void randomGeometry_sameBitsAsWidened(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(9100 + rep);
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.MAX);
        int eh = (spec.windowH() - 1) * spec.dilationH() + 1;
        int ew = (spec.windowW() - 1) * spec.dilationW() + 1;
        int lanes = ShortVectorLanes.LANES;
        Shape s = Shape.of(1 + r.nextInt(2), eh + r.nextInt(8), ew + r.nextInt(8), lanes + r.nextInt(4 * lanes + lanes / 2));
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            Tensor x = data(s, dtype, rep % 4, r);
            PoolGeometry g = spec.geometry(s);
            check(spec, x, !MaxVanHerk.pays(g), spec + " on " + s + " " + dtype + " data " + rep % 4);
        }
    }

    @Test
    void commonLayers_everyDataKind_sameBitsAsWidened() {
        PoolSpec stem = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec vgg = PoolSpec.max(2, 2).stride(2).build();
        PoolSpec inception = PoolSpec.max(3, 3).stride(2).build();
        SplittableRandom r = new SplittableRandom(77);
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            for (int kind = 0; kind < 4; kind++) {
                check(stem, data(Shape.of(2, 13, 11, 64), dtype, kind, r), true, "stem " + dtype + " data " + kind);
                check(vgg, data(Shape.of(1, 6, 8, 520), dtype, kind, r), true, "vgg " + dtype + " data " + kind);
                check(inception, data(Shape.of(1, 9, 9, 96), dtype, kind, r), true, "inception " + dtype + " data " + kind);
            }
        }
    }

    @Test
    void globalMax_everyOrderOfSpecialsOverFourPixels_sameBitsAsWidened() {
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            Tensor windows = everyFourTapOrder(dtype, 64);
            Shape s = Shape.of(64, 2, 2, 64);
            Tensor x = Tensor.allocate(s, dtype);
            for (int ox = 0; ox < 64; ox++) {
                for (int tap = 0; tap < 4; tap++) {
                    for (int ch = 0; ch < 64; ch++) {
                        x.shorts().put(Math.toIntExact(s.offset(ox, tap / 2, tap % 2, ch)), windows.shorts()
                                .get(Math.toIntExact(windows.shape().offset(0, tap / 2, 2 * ox + tap % 2, ch))));
                    }
                }
            }
            checkGlobal(x, true, dtype + " every order over four pixels");
        }
    }

    @RepeatedTest(12)
    void globalMax_randomShapes_sameBitsAsWidened(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(9300 + rep);
        int lanes = ShortVectorLanes.LANES;
        Shape s = Shape.of(1 + r.nextInt(3), 1 + r.nextInt(9), 1 + r.nextInt(9), lanes + r.nextInt(4 * lanes + lanes / 2));
        for (DType dtype : StorageCases.SIXTEEN_BIT) {
            checkGlobal(data(s, dtype, rep % 4, r), true, s + " " + dtype + " data " + rep % 4);
        }
    }

    @Test
    void otherRequests_areNotTaken() {
        Shape s = Shape.of(1, 20, 20, 64);
        Tensor half = data(s, DType.FLOAT16, 0, new SplittableRandom(5));
        PoolSpec max = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolGeometry g = max.geometry(s);
        Tensor out = Tensor.allocate(g.output(), DType.FLOAT16);
        assertTrue(CPU.poolStored(g, half, out), "float16 3x3 s2 over 64 channels");
        assertFalse(CPU.poolStored(PoolSpec.avg(3, 3).stride(2).build().geometry(s), half, out), "avg");
        assertFalse(CPU.poolStored(g, half.convert(DType.FLOAT32), out.convert(DType.FLOAT32)), "float32");
        assertFalse(CPU.poolStored(g, half, out.convert(DType.BFLOAT16)), "float16 in, bfloat16 out");
        PoolGeometry spp = PoolSpec.max(13, 13).stride(1).padding(Padding.of(6)).build().geometry(s);
        assertTrue(MaxVanHerk.pays(spp), "13x13 s1 is van Herk's");
        assertFalse(CPU.poolStored(spp, half, Tensor.allocate(spp.output(), DType.FLOAT16)), "13x13 s1 p6");
        Shape narrow = Shape.of(1, 20, 20, ShortVectorLanes.LANES - 1);
        PoolGeometry gn = max.geometry(narrow);
        Tensor narrowHalf = data(narrow, DType.FLOAT16, 0, new SplittableRandom(6));
        assertFalse(CPU.poolStored(gn, narrowHalf, Tensor.allocate(gn.output(), DType.FLOAT16)), "channels short of a vector");
        Tensor g1 = Tensor.allocate(Shape.of(1, 1, 1, 64), DType.FLOAT16);
        assertTrue(CPU.globalStored(PoolMode.MAX, half, g1), "global max, one thread");
        assertFalse(CPU.globalStored(PoolMode.AVG, half, g1), "global avg");
        assertFalse(CPU.globalStored(PoolMode.MAX, half.convert(DType.FLOAT32), g1.convert(DType.FLOAT32)), "global float32");
        assertFalse(CPU.globalStored(PoolMode.MAX, narrowHalf, Tensor.allocate(Shape.of(1, 1, 1, narrow.c()), DType.FLOAT16)),
                "global, channels short of a vector");
        try (CpuBackend two = new CpuBackend(2)) {
            // One item of 64 channels: one task (two vectors of 32) on AVX-512, too few for two threads.
            assertEquals(VecMaxStored.globalBlocks(64) >= 2, two.globalStored(PoolMode.MAX, half, g1), "global max, one item, two threads");
        }
    }

    /** WideningBackend hands a 16-bit pool to the delegate's stored form first, and never widens one it took; float32 never asks. */
    @Test
    void wideningBackend_asksBeforeWidening() {
        PoolingBackend taking = new WidenOnly(CPU) {
            @Override
            public boolean poolStored(PoolGeometry g, Tensor in, Tensor out) {
                assertTrue(in.dtype() != DType.FLOAT32, "asked for float32");
                ShortBuffer o = out.shorts();
                for (int i = 0; i < o.capacity(); i++) {
                    o.put(i, (short) 0x1234);
                }
                return true;
            }

            @Override
            public void pool(PoolGeometry g, Tensor in, Tensor out) {
                throw new AssertionError("widened a request the stored form took");
            }

            @Override
            public boolean globalStored(PoolMode mode, Tensor in, Tensor out) {
                assertTrue(in.dtype() != DType.FLOAT32, "asked for float32");
                out.shorts().put(0, (short) 0x4321);
                return true;
            }

            @Override
            public void global(PoolMode mode, Tensor in, Tensor out) {
                throw new AssertionError("widened a global request the stored form took");
            }
        };
        Shape s = Shape.of(1, 4, 4, 8);
        PoolGeometry g = PoolSpec.max(2, 2).stride(2).build().geometry(s);
        Tensor out = Tensor.allocate(g.output(), DType.FLOAT16);
        new WideningBackend(taking).pool(g, Tensor.allocate(s, DType.FLOAT16), out);
        assertEquals((short) 0x1234, out.shorts().get(0));
        assertThrows(AssertionError.class, () -> new WideningBackend(taking).pool(g, Tensor.allocate(s), Tensor.allocate(g.output())));
        Tensor gOut = Tensor.allocate(Shape.of(1, 1, 1, 8), DType.BFLOAT16);
        new WideningBackend(taking).global(PoolMode.MAX, Tensor.allocate(s, DType.BFLOAT16), gOut);
        assertEquals((short) 0x4321, gOut.shorts().get(0));
        assertThrows(AssertionError.class, () -> new WideningBackend(taking).global(PoolMode.MAX, Tensor.allocate(s),
                Tensor.allocate(Shape.of(1, 1, 1, 8))));
    }

    /** Global max on the stored patterns (taken where {@code taken}; and through WideningBackend on two threads) against the widened path's bits. */
    private static void checkGlobal(Tensor x, boolean taken, String what) {
        Shape os = Shape.of(x.shape().n(), 1, 1, x.shape().c());
        Tensor want = Tensor.allocate(os, x.dtype());
        WIDENED.global(PoolMode.MAX, x, want);
        Tensor got = Tensor.allocate(os, x.dtype());
        assertEquals(taken, CPU.globalStored(PoolMode.MAX, x, got), what + ": taken");
        if (taken) {
            StorageCases.assertSameBits(got, want, what + ", stored form");
        }
        Tensor viaWidening = Tensor.allocate(os, x.dtype());
        try (WideningBackend b = new WideningBackend(new CpuBackend(2))) {
            b.global(PoolMode.MAX, x, viaWidening);
        }
        StorageCases.assertSameBits(viaWidening, want, what + ", two threads through WideningBackend");
    }

    /** The stored form (taken where {@code taken}) and WideningBackend over the full CPU path, against the widened path's bits. */
    private static void check(PoolSpec spec, Tensor x, boolean taken, String what) {
        PoolGeometry g = spec.geometry(x.shape());
        Tensor want = Tensor.allocate(g.output(), x.dtype());
        WIDENED.pool(g, x, want);
        Tensor got = Tensor.allocate(g.output(), x.dtype());
        assertEquals(taken, CPU.poolStored(g, x, got), what + ": taken");
        if (taken) {
            StorageCases.assertSameBits(got, want, what + ", stored form");
        }
        Tensor viaWidening = Tensor.allocate(g.output(), x.dtype());
        try (WideningBackend b = new WideningBackend(new CpuBackend(2))) {
            b.pool(g, x, viaWidening);
        }
        StorageCases.assertSameBits(viaWidening, want, what + ", two threads through WideningBackend");
    }

    /**
     * 16-bit data of {@code kind}: 0 Gaussian with the storage tests' special values (subnormals,
     * large, ±0, ±∞, NaNs), 1 ReLU'd (about half +0), 2 all +0, 3 ≤ 0 with +0 and −0.
     */
    static Tensor data(Shape s, DType dtype, int kind, SplittableRandom r) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            float g = (float) r.nextGaussian();
            v[i] = switch (kind) {
                case 0 -> g;
                case 1 -> Math.max(0f, g);
                case 2 -> 0f;
                default -> r.nextInt(3) == 0 ? (r.nextBoolean() ? 0f : -0f) : -Math.abs(g);
            };
        }
        return StorageCases.input(Tensor.of(s, v), dtype, r, kind == 0);
    }

    /**
     * Every order of eight patterns over the four taps of a 2×2 stride-2 window: −∞, −1, −0, +0,
     * 1, +∞, a positive signalling NaN and a negative quiet NaN, the NaNs' payloads naming the tap.
     * Shape (1, 2, 2·ceil(4096 / c), c): output (0, ox) channel ch holds order
     * {@code (ox·c + ch) mod 4096} in base 8.
     */
    static Tensor everyFourTapOrder(DType dtype, int c) {
        int outputs = (4096 + c - 1) / c;
        Shape s = Shape.of(1, 2, 2 * outputs, c);
        Tensor t = Tensor.allocate(s, dtype);
        ShortBuffer b = t.shorts();
        for (int ox = 0; ox < outputs; ox++) {
            for (int ch = 0; ch < c; ch++) {
                int order = (ox * c + ch) % 4096;
                for (int tap = 0; tap < 4; tap++) {
                    int which = (order >> (3 * tap)) & 7;
                    b.put(Math.toIntExact(s.offset(0, tap / 2, 2 * ox + tap % 2, ch)), pattern(dtype, which, tap));
                }
            }
        }
        return t;
    }

    private static short pattern(DType dtype, int which, int tap) {
        boolean half = dtype == DType.FLOAT16;
        int inf = half ? 0x7c00 : 0x7f80;
        int one = half ? 0x3c00 : 0x3f80;
        int quiet = half ? 0x0200 : 0x0040;
        return (short) switch (which) {
            case 0 -> 0x8000 | inf;
            case 1 -> 0x8000 | one;
            case 2 -> 0x8000;
            case 3 -> 0;
            case 4 -> one;
            case 5 -> inf;
            case 6 -> inf | (tap + 1);
            default -> 0x8000 | inf | quiet | (tap + 1);
        };
    }

    /** The lanes of {@link VecMaxStored}'s short vector (loaded only where the Vector API is). */
    private static final class ShortVectorLanes {
        static final int LANES = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.length();
    }

    /** The CPU path without {@link PoolingBackend#poolStored}: what WideningBackend widened before. */
    private static class WidenOnly implements PoolingBackend {
        private final CpuBackend cpu;

        WidenOnly(CpuBackend cpu) {
            this.cpu = cpu;
        }

        @Override
        public String kind() {
            return cpu.kind();
        }

        @Override
        public String description() {
            return cpu.description();
        }

        @Override
        public void pool(PoolGeometry g, Tensor in, Tensor out) {
            cpu.pool(g, in, out);
        }

        @Override
        public void global(PoolMode mode, Tensor in, Tensor out) {
            cpu.global(mode, in, out);
        }

        @Override
        public void convert(Tensor src, Tensor dst) {
            cpu.convert(src, dst);
        }

        @Override
        public void close() {
        }
    }
}
