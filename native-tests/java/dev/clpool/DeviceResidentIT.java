package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.opencl.OpenClBackend;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Device-resident tensors and the scheduler's paths on the device, through every binding: chains
 * of operations on device tensors, zero-copy against copied host tensors, batch chunks, and every
 * tuning knob, all giving the CPU path's results (max bit for bit).
 */
class DeviceResidentIT {

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static PoolingEngine engine(BindingChoice binding, OpenClBackend.Tuning tuning) {
        DeviceAvailability.requireDevice(binding);
        return PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).openClTuning(tuning).build();
    }

    private static void assertSame(PoolMode mode, Tensor got, Tensor want, String what) {
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

    @ParameterizedTest
    @MethodSource("bindings")
    void chainOnDevice_downloadsOnce_andMatchesHostPath(BindingChoice binding) {
        Shape s = Shape.of(3, 37, 29, 48);
        Tensor x = RandomCases.values(new SplittableRandom(11), s, true);
        PoolSpec first = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec second = PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build();
        try (PoolingEngine device = engine(binding, OpenClBackend.Tuning.fromSystem());
             PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             DeviceTensor dx = device.upload(x);
             DeviceTensor d1 = device.pool(dx, first);
             DeviceTensor d2 = device.pool(d1, second);
             DeviceTensor d3 = device.globalMax(d1);
             DeviceTensor d4 = device.globalAvg(d2)) {
            assertEquals("opencl", dx.location());
            Tensor h1 = cpu.pool(x, first);
            Tensor h2 = cpu.pool(h1, second);
            Tolerance.assertBitIdentical(d1.download().toArray(), h1.toArray(), "max on device tensors");
            assertSame(PoolMode.AVG, d2.download(), h2, "avg after max on device tensors");
            Tolerance.assertBitIdentical(d3.download().toArray(), cpu.globalMax(h1).toArray(), "global max");
            Tolerance.assertClose(d4.download().toArray(), NaiveReference.global(h2.toArray(), h2.shape(), PoolMode.AVG),
                    2 * Tolerance.REL, "global avg");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void uploadIsASnapshot(BindingChoice binding) {
        Shape s = Shape.of(1, 4, 4, 3);
        Tensor x = RandomCases.values(new SplittableRandom(5), s, false);
        float[] before = x.toArray();
        try (PoolingEngine device = engine(binding, OpenClBackend.Tuning.fromSystem());
             DeviceTensor dx = device.upload(x)) {
            x.set(0, 1, 1, 1, 42f);
            Tolerance.assertBitIdentical(dx.download().toArray(), before, "device copy after the host changed");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void closingTheEngine_releasesOpenDeviceTensors(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        OpenClBackend backend = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT);
        PoolingEngine engine;
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build()) {
            engine = e;
            DeviceTensor a = e.upload(Tensor.allocate(Shape.of(2, 8, 8, 4)));
            DeviceTensor b = e.pool(a, PoolSpec.max(2, 2).build());
            a.close();
            assertTrue(a.isClosed());
            assertThrows(IllegalStateException.class, () -> e.pool(a, PoolSpec.max(2, 2).build()));
            assertFalse(b.isClosed());
        }
        assertThrows(IllegalStateException.class, () -> engine.upload(Tensor.allocate(Shape.of(1, 1, 1, 1))));
        backend.close();
        assertEquals(0, backend.nativeObjects().live());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void residentObjects_areReleasedOnClose(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        OpenClBackend backend = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT);
        Shape s = Shape.of(2, 8, 8, 4);
        PoolGeometry g = PoolSpec.max(2, 2).build().geometry(s);
        var in = backend.upload(Tensor.allocate(s));
        var out = backend.allocate(g.output());
        backend.pool(g, in, out);
        out.close(); // back to the pool; `in` stays open until the backend closes
        backend.close();
        in.close(); // after the backend: a no-op
        assertEquals(0, backend.nativeObjects().live(), backend.nativeObjects().toString());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void deviceTensorOfAnotherEngine_isRefused(BindingChoice binding) {
        try (PoolingEngine a = engine(binding, OpenClBackend.Tuning.fromSystem());
             PoolingEngine b = engine(binding, OpenClBackend.Tuning.fromSystem());
             DeviceTensor t = a.upload(Tensor.allocate(Shape.of(1, 4, 4, 1)))) {
            assertThrows(IllegalArgumentException.class, () -> b.pool(t, PoolSpec.max(2, 2).build()));
            assertThrows(IllegalArgumentException.class, () -> t.download(Tensor.allocate(Shape.of(1, 2, 2, 1))));
        }
    }

    /**
     * Zero-copy host tensors, copied host tensors, and both split into several batch chunks;
     * zero-copy completes with clFinish on PoCL's CPU devices and with a map of each output
     * elsewhere, which {@code finishSync=never} forces here (with indices: two outputs).
     */
    static Stream<Arguments> hostPaths() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(
                Arguments.of(b, true, 0L, "auto"), Arguments.of(b, false, 0L, "auto"), Arguments.of(b, true, 3L, "auto"),
                Arguments.of(b, false, 3L, "auto"), Arguments.of(b, true, 3L, "never")));
    }

    @ParameterizedTest(name = "{0} zeroCopy={1} chunkItems={2} finishSync={3}")
    @MethodSource("hostPaths")
    void hostPaths_matchCpu(BindingChoice binding, boolean zeroCopy, long chunkItems, String finishSync) {
        DeviceAvailability.requireDevice(binding);
        System.setProperty("clpool.opencl.finishSync", finishSync);
        try {
            hostPathsMatchCpu(binding, zeroCopy, chunkItems);
        } finally {
            System.clearProperty("clpool.opencl.finishSync");
        }
    }

    private static void hostPathsMatchCpu(BindingChoice binding, boolean zeroCopy, long chunkItems) {
        Shape s = Shape.of(7, 23, 19, 32);
        Tensor x = RandomCases.values(new SplittableRandom(17), s, true);
        OpenClBackend.Options options = chunkItems > 0
                ? OpenClBackend.Options.DEFAULT.withMaxAlloc(chunkItems * s.itemSize() * Float.BYTES)
                : OpenClBackend.Options.DEFAULT;
        try (PoolingEngine device = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding)
                .openClOptions(options).openClTuning(OpenClBackend.Tuning.fromSystem().withZeroCopy(zeroCopy)).build();
             PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (PoolSpec spec : List.of(PoolSpec.max(2, 2).stride(2).build(),
                    PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                    PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build())) {
                Tensor want = cpu.pool(x, spec);
                Tensor into = Tensor.allocate(want.shape());
                assertTrue(into == device.pool(x, spec, into));
                assertSame(spec.mode(), into, want, spec + " zeroCopy=" + zeroCopy);
            }
            // Two outputs (values and indices); 3 channels and pytorch indices: DeviceUnpoolIT's program.
            PoolSpec max3 = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
            Tensor x3 = RandomCases.values(new SplittableRandom(19), Shape.of(7, 23, 19, 3), true);
            PooledWithIndices want = cpu.poolWithIndices(x3, max3, IndexConvention.PYTORCH);
            Tensor values = Tensor.allocate(want.values().shape());
            Indices indices = Indices.allocate(want.indices().shape(), IndexConvention.PYTORCH);
            device.poolWithIndices(x3, max3, IndexConvention.PYTORCH, values, indices);
            Tolerance.assertBitIdentical(values.toArray(), want.values().toArray(), "values with indices");
            assertEquals(want.indices().buffer(), indices.buffer(), "indices");
            Tolerance.assertBitIdentical(device.globalMax(x).toArray(), cpu.globalMax(x).toArray(), "global max");
            Tolerance.assertClose(device.globalAvg(x).toArray(), NaiveReference.global(x.toArray(), s, PoolMode.AVG),
                    "global avg");
        }
    }

    /**
     * Every work-group size and pixels-per-item setting, in both layouts (the channel-lanes layout
     * is what GPUs run; forced here so that a CPU device tests it too): ragged row ends, borders,
     * the interior path.
     */
    static Stream<Arguments> tunings() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(OpenClBackend.Layout.CHANNEL_LOOP,
                OpenClBackend.Layout.CHANNEL_LANES).flatMap(l -> Stream.of(
                Arguments.of(b, l, 1, 1), Arguments.of(b, l, 8, 3), Arguments.of(b, l, 16, 5), Arguments.of(b, l, 64, 2),
                Arguments.of(b, l, 32, 16))));
    }

    @ParameterizedTest(name = "{0} {1} workGroup={2} pixelsPerItem={3}")
    @MethodSource("tunings")
    void everyTuning_givesTheSameResults(BindingChoice binding, OpenClBackend.Layout layout, int workGroup, int pixels) {
        Shape s = Shape.of(2, 19, 27, 80);
        Tensor x = RandomCases.values(new SplittableRandom(workGroup * 31L + pixels), s, true);
        OpenClBackend.Tuning tuning = OpenClBackend.Tuning.fromSystem().withWorkGroupSize(workGroup)
                .withPixelsPerItem(pixels).withLayout(layout);
        try (PoolingEngine device = engine(binding, tuning);
             PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (PoolSpec spec : List.of(PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build(),
                    PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                    PoolSpec.max(2, 3).stride(1, 2).dilation(2).build(),
                    PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build(),
                    PoolSpec.avg(2, 2).stride(2).build())) {
                assertSame(spec.mode(), device.pool(x, spec), cpu.pool(x, spec), spec + " " + tuning);
            }
            Tolerance.assertBitIdentical(device.globalMax(x).toArray(), cpu.globalMax(x).toArray(), "global max " + tuning);
            Tolerance.assertClose(device.globalAvg(x).toArray(), NaiveReference.global(x.toArray(), s, PoolMode.AVG),
                    "global avg " + tuning);
        }
    }

    /** The random sweep's first cases in the channel-lanes layout (what GPUs run), on this device. */
    static Stream<Arguments> lanesSweep() {
        return DeviceAvailability.bindings().stream().flatMap(b -> DeviceSweepIT.CASES.stream().limit(80)
                .map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "lanes {0} {1}")
    @MethodSource("lanesSweep")
    void randomSpec_inLanesLayout_matchesCpuAndReference(BindingChoice binding, RandomCases.Case c) {
        if (LANES.isEmpty()) {
            DeviceAvailability.requireDevice(binding);
        }
        PoolingEngine device = LANES.computeIfAbsent(binding, b -> engine(b,
                OpenClBackend.Tuning.fromSystem().withLayout(OpenClBackend.Layout.CHANNEL_LANES)));
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            float[] got = device.pool(c.input(), c.spec()).toArray();
            if (c.spec().mode() == PoolMode.MAX) {
                Tolerance.assertBitIdentical(got, cpu.pool(c.input(), c.spec()).toArray(), "lanes " + c.name());
            } else {
                Tolerance.assertClose(got, NaiveReference.pool(c.input().toArray(), c.input().shape(), c.spec()),
                        "lanes " + c.name());
            }
        }
    }

    private static final java.util.Map<BindingChoice, PoolingEngine> LANES = new java.util.concurrent.ConcurrentHashMap<>();

    @org.junit.jupiter.api.AfterAll
    static void closeLanes() {
        LANES.values().forEach(PoolingEngine::close);
    }
}
