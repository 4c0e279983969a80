package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.backend.BackendLimitException;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The OpenCL backend itself: batch chunking under a small allocation limit, and native objects released. */
class OpenClBackendIT {

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void tensorLargerThanMaxAllocation_isPooledInBatchChunks(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(7, 9, 11, 5);
        Tensor x = RandomCases.values(new SplittableRandom(3), s, true);
        long twoItems = 2L * s.itemSize() * Float.BYTES; // forces chunks of 2, 2, 2 and 1 batch items
        try (OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(twoItems));
             CpuBackend cpu = new CpuBackend()) {
            for (PoolMode mode : PoolMode.values()) {
                PoolGeometry g = PoolSpec.builder(mode).window(3).stride(2).padding(Padding.of(1)).build().geometry(s);
                Tensor a = Tensor.allocate(g.output());
                Tensor b = Tensor.allocate(g.output());
                device.pool(g, x, a);
                cpu.pool(g, x, b);
                if (mode == PoolMode.MAX) {
                    Tolerance.assertBitIdentical(a.toArray(), b.toArray(), "chunked max");
                } else {
                    double[] want = new double[b.toArray().length];
                    float[] bf = b.toArray();
                    for (int i = 0; i < want.length; i++) {
                        want[i] = bf[i];
                    }
                    Tolerance.assertClose(a.toArray(), want, 2 * Tolerance.REL, "chunked " + mode);
                }
            }
            Tensor ga = Tensor.allocate(Shape.of(7, 1, 1, 5));
            Tensor gb = Tensor.allocate(Shape.of(7, 1, 1, 5));
            device.global(PoolMode.MAX, x, ga);
            cpu.global(PoolMode.MAX, x, gb);
            Tolerance.assertBitIdentical(ga.toArray(), gb.toArray(), "chunked global max");
        }
    }

    /**
     * One batch item larger than the largest allocation runs in row bands while the input rows of
     * one output row's window fit (here 2 rows of 128 bytes), and is refused with the reason below
     * that; under auto the refusal falls back to the CPU path.
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void batchItemLargerThanMaxAllocation_runsInRowBands_orIsRefusedWithReason(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(1, 8, 8, 4); // 1024 bytes, rows of 128
        Tensor x = RandomCases.values(new SplittableRandom(8), s, true);
        PoolSpec spec = PoolSpec.max(2, 2).build();
        PoolGeometry g = spec.geometry(s);
        Tensor want = Tensor.allocate(g.output());
        try (CpuBackend cpu = new CpuBackend(1)) {
            cpu.pool(g, x, want);
        }
        try (OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(256))) {
            Tensor got = Tensor.allocate(g.output());
            device.pool(g, x, got);
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), "max 2x2 in row bands of 2 input rows");
        }
        OpenClBackend.Options tooSmall = OpenClBackend.Options.DEFAULT.withMaxAlloc(255);
        try (OpenClBackend device = OpenClBackend.open(binding, -1, tooSmall)) {
            BackendLimitException e = assertThrows(BackendLimitException.class, () -> device.pool(g, x, Tensor.allocate(g.output())));
            assertTrue(e.getMessage().contains("largest allocation") && e.getMessage().contains("row band"), e.getMessage());
        }
        try (PoolingEngine auto = PoolingEngine.builder().binding(binding).smallOpsOnCpu(false).openClOptions(tooSmall).build()) {
            Tolerance.assertBitIdentical(auto.pool(x, spec).toArray(), want.toArray(), "auto after the refusal");
            // A limit, not a failure: this request ran on the CPU path, the device stays in use.
            assertEquals("opencl", auto.backendKind());
            assertTrue(auto.fallbackReason().isEmpty(), auto.fallbackReason().toString());
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void everyNativeObject_isReleasedOnClose(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT);
        Shape s = Shape.of(2, 6, 6, 3);
        for (int k = 1; k <= 3; k++) {
            PoolGeometry g = PoolSpec.avg(k, k).stride(1).build().geometry(s);
            device.pool(g, Tensor.allocate(s), Tensor.allocate(g.output()));
        }
        device.global(PoolMode.AVG, Tensor.allocate(s), Tensor.allocate(Shape.of(2, 1, 1, 3)));
        // context + queue + 4 programs with 5 kernels stay cached; per-call buffers are already gone
        // once the pool of reusable buffers is emptied
        device.releaseIdleBuffers();
        assertEquals(2 + 4 + 5, device.nativeObjects().live(), device.nativeObjects().toString());
        device.close();
        device.close(); // idempotent
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void kernelBuildFailure_underAuto_fallsBackToCpu_andUnderOpencl_throwsTyped(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding faulty = new FaultInjectingBinding(real.binding(), "buildProgram");
        ClDevice device = new ClDevice(faulty, real.platform(), real.id(), real.info(), real.index());
        Tensor x = Tensor.of(Shape.of(1, 4, 4, 1), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();

        try (PoolingEngine auto = PoolingEngine.builder().device(device).build()) {
            assertEquals("opencl", auto.backendKind());
            assertArrayEquals(new float[] {5, 7, 13, 15}, auto.pool(x, spec).toArray());
            assertEquals("cpu", auto.backendKind());
            assertTrue(auto.fallbackReason().orElseThrow().contains("kernel build failed"), auto.fallbackReason().get());
        }
        try (PoolingEngine opencl = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build()) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> opencl.pool(x, spec));
            assertEquals(DeviceUnavailableException.Reason.BUILD_FAILED, e.reason());
        }
        assertEquals(0, faulty.live(), "every native object created through the binding is released");
    }
}
