package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.Fuzz;
import dev.clpool.testing.MixedOps;
import dev.clpool.testing.MixedOps.Op;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One device engine per binding shared by 8 threads x 200 mixed operations (max, avg, lp, global
 * avg and max) on random shapes: every result bit-identical to a serial run on the same engine.
 * Specs come from a fixed palette so that the number of kernel builds stays small (sizes are
 * kernel arguments and never rebuild). Then closing a device engine while operations run: close()
 * waits for them, later ones throw IllegalStateException, and no native object is left.
 */
class DeviceConcurrencyIT {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 200;

    static final List<PoolSpec> PALETTE = List.of(
            PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(2, 2).build(),
            PoolSpec.avg(3, 3).stride(1).padding(Padding.SAME).build(),
            PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).ceilMode(true).build(),
            PoolSpec.builder(PoolMode.LP).window(3, 2).stride(1).p(3).padding(Padding.SAME_LOWER).build());

    /** Batches above 1, odd and vector-friendly channel counts, odd sizes. */
    static final List<Shape> SHAPES = List.of(Shape.of(1, 9, 9, 4), Shape.of(2, 7, 11, 3), Shape.of(3, 12, 8, 8),
            Shape.of(1, 16, 5, 1));

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void sharedDeviceEngine_8threads_x200mixedOps_bitIdenticalToSerial(BindingChoice binding) throws InterruptedException {
        DeviceAvailability.requireDevice(binding);
        long seed = Fuzz.caseSeed("concurrency/device", 0);
        List<Op> ops = MixedOps.fromPalette(seed, THREADS * PER_THREAD, PALETTE, SHAPES);
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build()) {
            long t0 = System.nanoTime();
            List<int[]> expected = MixedOps.serial(engine, ops);
            long serialMs = (System.nanoTime() - t0) / 1_000_000;
            long ms = MixedOps.assertConcurrentMatches(engine, ops, expected, THREADS, seed, binding + " device engine");
            assertEquals("opencl", engine.backendKind(), "no fallback happened: " + engine.fallbackReason());
            System.out.println("concurrency: " + engine.backendDescription() + ", " + THREADS + " threads x " + PER_THREAD
                    + " mixed ops, bit-identical to serial; serial " + serialMs + " ms (kernel builds included), concurrent "
                    + ms + " ms (seed " + seed + ")");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void asyncOps_matchSerial_inOrder_closeWaits_andReleasesEverything(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        List<Op> ops = MixedOps.fromPalette(Fuzz.caseSeed("concurrency/device-async", 0), 60, PALETTE, SHAPES);
        List<int[]> expected;
        try (PoolingEngine serial = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            expected = MixedOps.serial(serial, ops);
        }
        FaultInjectingBinding counting = new FaultInjectingBinding(real.binding()); // counts, fails nothing
        ClDevice device = new ClDevice(counting, real.platform(), real.id(), real.info(), real.index());
        // Max and global max must equal the CPU's bits; averages are compared on the device itself.
        List<Op> exact = ops.stream().filter(o -> o.spec() != null ? o.spec().mode() == PoolMode.MAX
                : o.globalMode() == PoolMode.MAX).toList();
        List<int[]> exactWant = exact.stream().map(o -> expected.get(ops.indexOf(o))).toList();
        PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build();
        MixedOps.assertAsyncMatchesAndCloseWaits(engine, exact, exactWant, binding + " async");
        assertEquals(0, counting.live(), "native objects live after close");
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build()) {
            List<int[]> onDevice = MixedOps.serial(e, ops);
            MixedOps.assertAsyncMatchesAndCloseWaits(
                    PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build(), ops, onDevice,
                    binding + " async, every op");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void closingADeviceEngine_whileOperationsRun_waitsOrRefusesCleanly_andReleasesEverything(BindingChoice binding)
            throws InterruptedException {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        List<Op> ops = MixedOps.fromPalette(Fuzz.caseSeed("concurrency/device-close", 0), 40, PALETTE, SHAPES);
        List<int[]> expected;
        try (PoolingEngine serial = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build()) {
            expected = MixedOps.serial(serial, ops);
        }
        for (int round = 0; round < 3; round++) {
            FaultInjectingBinding counting = new FaultInjectingBinding(real.binding()); // counts, fails nothing
            ClDevice device = new ClDevice(counting, real.platform(), real.id(), real.info(), real.index());
            PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build();
            MixedOps.CloseOutcome o = MixedOps.closeWhileInFlight(engine, ops, expected, THREADS, binding + " close round " + round);
            assertEquals(0, counting.live(), "native objects live after closing under load");
            if (round == 0) {
                System.out.println("concurrency: closed a " + binding.name().toLowerCase() + " device engine under " + THREADS
                        + " threads: " + o.completed() + " ops completed, " + o.refused()
                        + " refused with IllegalStateException, 0 native objects live");
            }
        }
    }
}
