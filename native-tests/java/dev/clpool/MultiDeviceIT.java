package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.MixedOps;
import dev.clpool.testing.RandomCases;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A batch split across two devices ({@link PoolingEngine.Builder#devices(List)}): here the one
 * device opened twice (two contexts), the most a one-device machine can do. Every result is the
 * single-device result bit for bit (the same kernels run on each part), for pool, global,
 * adaptive and backward, batches of 1 to 7; device tensors work; no native object is left.
 */
class MultiDeviceIT {

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void batchSplitAcrossTwoDevices_equalsOneDevice_bitForBit(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding counting = new FaultInjectingBinding(real.binding()); // counts, fails nothing
        ClDevice device = new ClDevice(counting, real.platform(), real.id(), real.info(), real.index());
        SplittableRandom r = new SplittableRandom(20261128L);
        int ops = 0;
        try (PoolingEngine one = PoolingEngine.builder().backend(BackendChoice.OPENCL).binding(binding).build();
             PoolingEngine two = PoolingEngine.builder().backend(BackendChoice.OPENCL).devices(List.of(device, device)).build()) {
            assertTrue(two.backendDescription().startsWith("2 devices: "), two.backendDescription());
            for (int n = 1; n <= 7; n++) {
                for (Shape s : DeviceConcurrencyIT.SHAPES) {
                    Tensor x = RandomCases.values(r, Shape.of(n, s.h(), s.w(), s.c()), r.nextBoolean());
                    for (PoolSpec spec : DeviceConcurrencyIT.PALETTE) {
                        if (spec.check(x.shape()).isPresent()) {
                            continue;
                        }
                        same(one.pool(x, spec), two.pool(x, spec), spec + " on " + x.shape());
                        if (spec.mode() != PoolMode.LP) {
                            Tensor grad = RandomCases.values(r, spec.outputShape(x.shape()), false);
                            same(one.backward(x, grad, spec), two.backward(x, grad, spec), "backward " + spec + " on " + x.shape());
                        }
                        ops += 2;
                    }
                    same(one.globalAvg(x), two.globalAvg(x), "global avg on " + x.shape());
                    same(one.adaptiveMax(x, 3, 2), two.adaptiveMax(x, 3, 2), "adaptive max on " + x.shape());
                    same(one.poolWithIndices(x, PoolSpec.max(2, 2).build()).values(),
                            two.poolWithIndices(x, PoolSpec.max(2, 2).build()).values(), "indices on " + x.shape());
                    ops += 3;
                }
            }
            Tensor x = RandomCases.values(r, Shape.of(3, 9, 9, 4), false);
            try (DeviceTensor d = two.upload(x); DeviceTensor p = two.pool(d, DeviceConcurrencyIT.PALETTE.get(0))) {
                same(one.pool(x, DeviceConcurrencyIT.PALETTE.get(0)), p.download(), "device tensor");
            }
            assertEquals("opencl", two.backendKind(), "no fallback: " + two.fallbackReason());
        }
        assertEquals(0, counting.live(), "native objects live after close");
        System.out.println("multi-device: " + ops + " ops split across two contexts on " + real.info().summary() + " via "
                + binding.name().toLowerCase() + ", bit-identical to one device, 0 native objects live");
    }

    private static void same(Tensor want, Tensor got, String what) {
        assertArrayEquals(MixedOps.bits(want), MixedOps.bits(got), what);
    }
}
