package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.backend.BackendLimitException;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.testing.NaiveNd;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Numerical safety on the device, every binding: global average of a 4096x4096 plane of values
 * near 1e4 (both accumulators) against float64; the host guard for the kernels' 32-bit offsets
 * (batches chunked under a small fake limit, a batch item beyond it refused: CPU path under auto,
 * typed error under opencl); window positions beyond 32 bits refused the same way; and a divisor
 * beyond 2^31 exact.
 */
class DeviceNumericsIT {
    private static final DeviceEngines ENGINES = new DeviceEngines();
    private static Tensor plane;
    private static double[] planeSums;

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> accumulators() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(Arguments.of(b, true), Arguments.of(b, false)));
    }

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static synchronized Tensor plane() {
        if (plane == null) {
            plane = Tensor.allocate(Shape.of(1, 4096, 4096, 2));
            planeSums = NumericalSafetyTest.fillNear1e4(plane);
        }
        return plane;
    }

    @ParameterizedTest(name = "{0} fp64={1}")
    @MethodSource("accumulators")
    void globalAvg_4096x4096_near1e4_isWithinTolerance_ofFloat64(BindingChoice binding, boolean fp64) {
        PoolingEngine device = fp64 ? ENGINES.device(binding) : ENGINES.deviceWithoutDouble(binding);
        Tensor x = plane();
        double hw = 4096.0 * 4096.0;
        float[] got = device.globalAvg(x).toArray();
        Tolerance.assertClose(got, new double[] {planeSums[0] / hw, planeSums[1] / hw},
                "global avg 4096x4096x2 near 1e4 on " + device.backendDescription() + " fp64=" + fp64);
        assertEquals("opencl", device.backendKind());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void kernelOffsetLimit_chunksWholeBatchItems_andMatchesCpu(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(5, 5, 5, 4); // 100 elements per batch item
        Tensor x = RandomCases.values(new SplittableRandom(5), s, true);
        OpenClBackend.Options limit = OpenClBackend.Options.DEFAULT.withMaxKernelElements(250); // 2 items per chunk
        try (OpenClBackend device = OpenClBackend.open(binding, -1, limit); CpuBackend cpu = new CpuBackend(1)) {
            for (PoolMode mode : PoolMode.values()) {
                PoolGeometry g = PoolSpec.builder(mode).window(2).stride(1).build().geometry(s);
                Tensor a = Tensor.allocate(g.output());
                Tensor b = Tensor.allocate(g.output());
                device.pool(g, x, a);
                cpu.pool(g, x, b);
                assertMatches(mode, a, b, "chunked " + mode);
            }
            for (PoolMode mode : new PoolMode[] {PoolMode.AVG, PoolMode.MAX}) {
                Tensor a = Tensor.allocate(Shape.of(5, 1, 1, 4));
                Tensor b = Tensor.allocate(Shape.of(5, 1, 1, 4));
                device.global(mode, x, a);
                cpu.global(mode, x, b);
                assertMatches(mode, a, b, "chunked global " + mode);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void batchItemBeyondTheKernelOffsetLimit_fallsBackUnderAuto_andIsTypedUnderOpencl(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(2, 5, 5, 4);
        Tensor x = RandomCases.values(new SplittableRandom(6), s, false);
        PoolSpec spec = PoolSpec.max(2, 2).build();
        // An item has 100 elements, and even a row band of one output row (2 input rows) has 40.
        OpenClBackend.Options limit = OpenClBackend.Options.DEFAULT.withMaxKernelElements(30);
        float[] want;
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            want = cpu.pool(x, spec).toArray();
        }
        OpenClBackend device = OpenClBackend.open(binding, -1, limit);
        PoolGeometry g = spec.geometry(s);
        BackendLimitException e0 = assertThrows(BackendLimitException.class, () -> device.pool(g, x, Tensor.allocate(g.output())));
        assertTrue(e0.getMessage().contains("32-bit offsets"), e0.getMessage());
        // refused before any buffer: context and queue, at most a cached program and its kernel
        assertTrue(device.nativeObjects().live() <= 4, device.nativeObjects().toString());
        device.close();
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
        try (PoolingEngine auto = PoolingEngine.builder().binding(binding).openClOptions(limit).build()) {
            assertEquals("opencl", auto.backendKind());
            assertArrayEquals(want, auto.pool(x, spec).toArray());
            // A limit, not a failure: this request ran on the CPU path, the device stays in use.
            assertEquals("opencl", auto.backendKind());
            assertTrue(auto.fallbackReason().isEmpty(), auto.fallbackReason().toString());
        }
        try (PoolingEngine opencl = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding)
                .openClOptions(limit).build()) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> opencl.pool(x, spec));
            assertEquals(DeviceUnavailableException.Reason.DEVICE_ERROR, e.reason());
            assertTrue(e.getMessage().contains("32-bit offsets"), e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void windowPositionsBeyond32bits_fallBackUnderAuto_insteadOfOverflowingInTheKernel(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        // Window 2 with dilation 1.08e9 and as much leading padding, on one pixel: a valid spec whose
        // second tap is the pixel, but the kernel's (-y0 + DH - 1) would pass 2^31 - 1.
        PoolSpec spec = PoolSpec.max(2, 1).dilation(1_080_000_000, 1).padding(Padding.of(1_080_000_000, 0, 0, 0)).build();
        Tensor x = Tensor.of(Shape.of(1, 1, 1, 3), 1.5f, -2f, 7f);
        try (PoolingEngine auto = PoolingEngine.builder().binding(binding).build()) {
            assertArrayEquals(new float[] {1.5f, -2f, 7f}, auto.pool(x, spec).toArray());
            assertEquals("cpu", auto.backendKind());
            assertTrue(auto.fallbackReason().orElseThrow().contains("32-bit positions"), auto.fallbackReason().get());
        }
        try (PoolingEngine opencl = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build()) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> opencl.pool(x, spec));
            assertTrue(e.getMessage().contains("32-bit positions"), e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("accumulators")
    void countIncludePadDivisorBeyond2pow31_isExactOnTheDevice(BindingChoice binding, boolean fp64) {
        PoolingEngine device = fp64 ? ENGINES.device(binding) : ENGINES.deviceWithoutDouble(binding);
        PoolSpec spec = PoolSpec.avg(50_000, 50_000).stride(50_000).padding(Padding.of(49_999)).countIncludePad(true).build();
        float got = device.pool(Tensor.of(Shape.of(1, 1, 1, 1), 1e9f), spec).toArray()[0];
        Tolerance.assertClose(new float[] {got}, new double[] {0.4}, "1e9 / 2.5e9 on " + device.backendDescription());
        assertEquals("opencl", device.backendKind());
    }

    @ParameterizedTest(name = "{0} fp64={1}")
    @MethodSource("accumulators")
    void countIncludePadDivisorBeyond2pow31_inBackward_isExactOnTheDevice(BindingChoice binding, boolean fp64) {
        // Regression: backward_nhwc.cl formed the divisor as an int product too (2.5e9 wrapped).
        PoolingEngine device = fp64 ? ENGINES.device(binding) : ENGINES.deviceWithoutDouble(binding);
        PoolSpec spec = PoolSpec.avg(50_000, 50_000).stride(50_000).padding(Padding.of(49_999)).countIncludePad(true).build();
        Tensor x = Tensor.of(Shape.of(1, 1, 1, 1), 3f);
        float got = device.backward(x, Tensor.of(Shape.of(1, 1, 1, 1), 1e9f), spec).toArray()[0];
        Tolerance.assertClose(new float[] {got}, new double[] {0.4}, "backward 1e9 / 2.5e9 on " + device.backendDescription());
        assertEquals("opencl", device.backendKind());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void largeWindowsWhollyInsideTheInput_matchCpu(BindingChoice binding) {
        // Regression: the unrolled interior path of pool2d_nhwc.cl (CPU devices) took seconds to
        // build for a 1000x1000 window and crashed the JVM from about 4000x4000; windows above
        // KernelOptions.MAX_UNROLLED_TAPS now take the general path. Both sides of the limit here.
        PoolingEngine device = ENGINES.device(binding);
        Tensor x = RandomCases.values(new SplittableRandom(9), Shape.of(1, 40, 40, 4), true);
        for (int k : new int[] {16, 17, 40}) {
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                PoolSpec spec = PoolSpec.builder(mode).window(k).stride(1).build();
                assertMatches(mode, device.pool(x, spec), ENGINES.cpu().pool(x, spec), mode + " " + k + "x" + k);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void lpAtTheEndsOfFloatRange_bothLayouts_isWithinToleranceOfFloat64(BindingChoice binding) {
        // For p <= 4 the kernels sum |x|^p unscaled in double (LP_DIRECT; LP_SQUARE for p = 2): the
        // largest floats, subnormals, both zeros, infinities and NaN must come out as in float64.
        PoolingEngine device = ENGINES.device(binding);
        float[] special = {Float.MAX_VALUE, -3e38f, 1e-40f, 0f, -0f, 1e20f, 7e-20f, Float.POSITIVE_INFINITY, Float.NaN};
        // Channels-last with 3 channels runs one channel per step; with 16, channel vectors, the
        // interior path and (stride 1) two outputs per work item.
        for (double p : new double[] {2, 3}) {
            for (int variant = 0; variant < 3; variant++) {
                TensorShape s = variant == 0 ? TensorShape.channelsLast(2, new int[] {6, 7}, 3)
                        : variant == 1 ? TensorShape.channelsLast(2, new int[] {6, 7}, 16)
                        : TensorShape.channelsFirst(2, 3, 6, 7);
                Tensor x = Tensor.allocate(s);
                SplittableRandom r = new SplittableRandom(11);
                for (int i = 0; i < s.elementCount(); i++) {
                    x.floats().put(i, r.nextInt(3) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian());
                }
                PoolSpec spec = PoolSpec.builder(PoolMode.LP).p(p).window(3, 3).stride(1, variant == 1 ? 1 : 2)
                        .padding(Padding.of(1)).build();
                double[] want = NaiveNd.pool(x.toArray(), s, spec, IndexConvention.PYTORCH).values();
                for (int i = 0; i < want.length; i++) {
                    want[i] = (float) want[i]; // beyond float's range is ∞ in float
                }
                Tolerance.assertClose(device.pool(x, spec).toArray(), want, "lp p=" + p + " " + s + " on " + binding);
            }
        }
    }

    private static void assertMatches(PoolMode mode, Tensor got, Tensor want, String what) {
        if (mode == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), what);
        } else {
            float[] w = want.toArray();
            double[] wd = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                wd[i] = w[i];
            }
            Tolerance.assertClose(got.toArray(), wd, 2 * Tolerance.REL, what);
        }
    }
}
