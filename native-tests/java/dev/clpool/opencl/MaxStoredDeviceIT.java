package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.StorageCases;
import java.nio.ShortBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max windows over float16 and bfloat16 on CPU devices from the stored patterns
 * ({@code pool2d_stored.cl}, {@link KernelOptions#maxStored}) give today's bits: those of the float
 * path on the same device ({@code -Dclpool.opencl.maxStored=never}: {@code pool2d_nhwc.cl} as
 * before) and the CPU path's, for every form the kernel takes (four vectors a tap at 64 and 128
 * channels, a vector of 16, 8, 2 and 1 channels, one and two outputs a work item, border windows
 * from padding and ceil mode, dilation), on data where the patterns' order needs the float path:
 * NaNs with signs and payloads (quiet and signalling), ±0 ties, windows of negatives and of −0,
 * subnormals, ±∞ and the largest finite values, beside ReLU'd and all-zero data. The GPUs' layout
 * (forced on this device) and windows past the unrolling never take it, even forced: the kernel
 * file refuses to build there. Builds two programs per case and type (bfloat16: the first two
 * cases), 20 in all: about 20 s cold on PoCL.
 */
class MaxStoredDeviceIT {
    private static final String[] KINDS = {"special", "ties", "sparse", "nonpositive", "tiny", "relu", "zero"};

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    /** Each form of pool2d_stored.cl: chunks and vector widths, OPX 1 and 2, border windows. */
    private static final List<Object[]> CASES = List.of(
            new Object[] {PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 13, 14, 64)},
            new Object[] {PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build(), Shape.of(1, 9, 11, 48)},
            new Object[] {PoolSpec.max(2, 2).stride(2).build(), Shape.of(2, 8, 10, 128)},
            new Object[] {PoolSpec.max(3, 2).stride(1).dilation(2).padding(Padding.of(2, 1)).build(), Shape.of(1, 10, 9, 40)},
            new Object[] {PoolSpec.max(2, 2).stride(2).ceilMode(true).build(), Shape.of(2, 7, 9, 6)},
            new Object[] {PoolSpec.max(2, 3).stride(1, 2).build(), Shape.of(1, 6, 11, 3)});

    @ParameterizedTest
    @MethodSource("bindings")
    void everyFormTaken_givesTheFloatPathsBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        SplittableRandom r = new SplittableRandom(20261208L);
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (int k = 0; k < CASES.size(); k++) {
                PoolSpec spec = (PoolSpec) CASES.get(k)[0];
                Shape s = (Shape) CASES.get(k)[1];
                PoolGeometry g = spec.geometry(s);
                // bfloat16 differs in its infinity pattern and conversions only: the first two forms
                for (DType t : k < 2 ? StorageCases.SIXTEEN_BIT : new DType[] {DType.FLOAT16}) {
                    for (String kind : KINDS) {
                        Tensor x = data(kind, s, t, r);
                        String what = binding + " " + spec + " on " + s + " " + t + " " + kind
                                + KernelOptions.maxRuns(g, KernelOptions.wideVectorWidth(s.c()), t, true);
                        Tensor stored = pool(device, g, x, "auto");
                        StorageCases.assertSameBits(stored, pool(device, g, x, "never"), what + " against the float path");
                        StorageCases.assertSameBits(stored, cpu.pool(x, spec), what + " against the CPU path");
                    }
                }
            }
        } finally {
            System.clearProperty(KernelOptions.MAX_STORED);
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void channelLanes_andWindowsPastTheUnrolling_keepTheFloatKernel(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        PoolSpec stem = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        Shape s = Shape.of(1, 9, 10, 64);
        // dilated, so not the separable passes: pool2d without its unrolled interior
        PoolSpec huge = PoolSpec.max(17, 17).dilation(2).build();
        Shape hs = Shape.of(1, 34, 35, 16);
        assertFalse(KernelOptions.maxStored(stem.geometry(s), DType.FLOAT16, false));
        assertFalse(KernelOptions.maxStored(huge.geometry(hs), DType.FLOAT16, true));
        OpenClBackend lanes = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT,
                OpenClBackend.Tuning.fromSystem().withLayout(OpenClBackend.Layout.CHANNEL_LANES));
        OpenClBackend loop = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        SplittableRandom r = new SplittableRandom(20261209L);
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (DType t : StorageCases.SIXTEEN_BIT) {
                Tensor x = data("special", s, t, r);
                StorageCases.assertSameBits(pool(lanes, stem.geometry(s), x, "always"), cpu.pool(x, stem), binding + " lanes " + t);
                Tensor hx = data("ties", hs, t, r);
                StorageCases.assertSameBits(pool(loop, huge.geometry(hs), hx, "always"), cpu.pool(hx, huge), binding + " 17x17 " + t);
            }
        } finally {
            System.clearProperty(KernelOptions.MAX_STORED);
            lanes.close();
            loop.close();
        }
    }

    private static Tensor pool(OpenClBackend device, PoolGeometry g, Tensor x, String stored) {
        System.setProperty(KernelOptions.MAX_STORED, stored);
        Tensor out = Tensor.allocate(g.output(), x.dtype());
        device.pool(g, x, out);
        return out;
    }

    /** 16-bit data of one kind (raw patterns), so that every branch of the kernel's flags is taken. */
    static Tensor data(String kind, Shape s, DType t, SplittableRandom r) {
        boolean half = t == DType.FLOAT16;
        int inf = half ? 0x7c00 : 0x7f80;
        int quiet = half ? 0x0200 : 0x0040;
        int one = half ? 0x3c00 : 0x3f80;
        Tensor x = Tensor.allocate(s, t);
        ShortBuffer b = x.shorts();
        for (int i = 0; i < b.capacity(); i++) {
            int sign = r.nextBoolean() ? 0x8000 : 0;
            int finite = r.nextInt(inf);
            int v = switch (kind) {
                case "special" -> r.nextInt(4) == 0 ? StorageCases.special(t, r) : sign | finite;
                // ±0 mostly, ±1, ±∞, NaNs whose payloads name their element (the first NaN is kept)
                case "ties" -> switch (r.nextInt(16)) {
                    case 0, 1, 2, 3, 4, 5, 6, 7 -> sign;
                    case 8, 9 -> sign | one;
                    case 10, 11 -> sign | inf;
                    case 12 -> sign | inf | quiet | (i % quiet);          // quiet NaN
                    case 13 -> sign | inf | (1 + i % (quiet - 1));        // signalling NaN
                    default -> sign | finite;
                };
                // finite values, a suspect (NaN of either sign, or a zero) in about one element in 150
                case "sparse" -> r.nextInt(150) != 0 ? sign | finite
                        : r.nextBoolean() ? sign | inf | 1 + r.nextInt(2 * quiet - 1) : sign;
                // windows of negatives, of -0, and maxima of +0 beside -0
                case "nonpositive" -> switch (r.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> 0x8000;
                    default -> 0x8000 | finite;
                };
                // subnormals of both signs, zeros and the smallest normals
                case "tiny" -> sign | r.nextInt(half ? 0x0402 : 0x0082);
                case "relu" -> sign == 0 ? finite : 0;
                case "zero" -> 0;
                default -> throw new IllegalArgumentException(kind);
            };
            b.put(i, (short) v);
        }
        return x;
    }
}
