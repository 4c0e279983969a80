package dev.clpool;

import static dev.clpool.testing.UnpoolCases.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max unpooling of device tensors (device values and device indices, allocating and into an
 * existing device tensor), on the CPU path's device forms and through every binding: the bits of
 * the host form's result, for ranks 2 and 3 (1-D lowers as 2-D), both layouts and every index convention (the device
 * max with indices giving the host form's values and indices, channels-first {@code nhwc} and
 * rank 3 included); an index outside the output is refused as on the host (the same message,
 * naming the same first index) and leaves an existing output untouched. Small tensors with many
 * ties (zeros) and four specs: each spec is a kernel build on PoCL.
 */
class DeviceUnpoolIT {
    private static final DeviceEngines ENGINES = new DeviceEngines();

    private record Case(String name, TensorShape shape, PoolSpec spec, PoolSpec smaller) { }

    private static final List<Case> CASES = List.of(
            new Case("2-D channels-last", TensorShape.channelsLast(2, new int[] {9, 8}, 3),
                    PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                    PoolSpec.max(2, 2).stride(1).build()),
            new Case("2-D channels-first", TensorShape.channelsFirst(1, 4, 7, 6),
                    PoolSpec.max(2, 2).stride(2).ceilMode(true).build(),
                    PoolSpec.max(1, 1).stride(1).build()),
            new Case("3-D channels-last", TensorShape.channelsLast(1, new int[] {4, 5, 6}, 2),
                    PoolSpec.max(2, 2, 2).stride(2).build(),
                    PoolSpec.max(1, 1, 1).stride(1).build()),
            new Case("3-D channels-first", TensorShape.channelsFirst(2, 2, 5, 4, 3),
                    PoolSpec.max(3, 2, 2).stride(2, 1, 2).padding(Padding.of(1)).build(),
                    PoolSpec.max(1, 1, 1).stride(1).build()));

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    /** The CPU path's device forms (null binding) and every binding's device. */
    static Stream<Arguments> cases() {
        List<BindingChoice> bindings = new ArrayList<>();
        bindings.add(null);
        bindings.addAll(DeviceAvailability.bindings());
        return bindings.stream().flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c.name())));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void deviceUnpool_givesTheHostFormsBits_andRefusesBadIndicesAlike(BindingChoice binding, String name) {
        Case c = CASES.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        PoolingEngine cpu = ENGINES.cpu();
        PoolingEngine dev = binding == null ? cpu : ENGINES.device(binding);
        Tensor x = data(new SplittableRandom(name.hashCode()), c.shape());
        for (IndexConvention conv : IndexConvention.values()) {
            String what = binding + " " + name + " " + conv.word();
            try (PooledWithIndices host = cpu.poolWithIndices(x, c.spec(), conv);
                 DeviceTensor dx = dev.upload(x);
                 DevicePooledWithIndices p = dev.poolWithIndices(dx, c.spec(), conv)) {
                assertArrayEquals(host.indices().toArray(), p.indices().download().toArray(), what + " indices");
                assertArrayEquals(bits(host.values()), bits(p.values().download()), what + " values");
                // The default size may be smaller than the input (padding, floor mode): then both refuse alike.
                sameResult(() -> cpu.unpool(host.values(), host.indices(), c.spec()),
                        () -> dev.unpool(p.values(), p.indices(), c.spec()), what + " default size");
                int[] larger = c.spec().outputShape(c.shape()).spatial();
                int r = larger.length;
                Padding pad = c.spec().padding();
                int pr = pad.rank() == 0 ? r : pad.rank();
                for (int a = 0; a < r; a++) {
                    int s = c.spec().stride(r)[a];
                    larger[a] = (larger[a] - 1) * s + c.spec().window(r)[a] - pad.begin(a, pr) - pad.end(a, pr) + s - 1;
                }
                Tensor want = cpu.unpool(host.values(), host.indices(), c.spec(), larger);
                try (DeviceTensor u = dev.unpool(p.values(), p.indices(), c.spec(), larger)) {
                    assertEquals(want.tensorShape(), u.tensorShape(), what);
                    assertArrayEquals(bits(want), bits(u.download()), what + " output size " + Arrays.toString(larger));
                }
                Tensor garbage = data(new SplittableRandom(7), want.tensorShape());
                try (DeviceTensor out = dev.upload(garbage)) {
                    assertSame(out, dev.unpool(p.values(), p.indices(), c.spec(), out), what);
                    assertArrayEquals(bits(want), bits(out.download()), what + " into an existing device tensor");
                }

                // The smaller spec's output is too small for these indices: refused, as on the host.
                InvalidInputException onHost = assertThrows(InvalidInputException.class,
                        () -> cpu.unpool(host.values(), host.indices(), c.smaller()), what);
                InvalidInputException onDevice = assertThrows(InvalidInputException.class,
                        () -> dev.unpool(p.values(), p.indices(), c.smaller()), what);
                assertEquals(onHost.getMessage(), onDevice.getMessage(), what);
                Tensor before = data(new SplittableRandom(11), c.spec().outputShape(c.shape()).withSpatial(smallerSize(c)));
                try (DeviceTensor out = dev.upload(before)) {
                    assertThrows(InvalidInputException.class, () -> dev.unpool(p.values(), p.indices(), c.smaller(), out), what);
                    assertArrayEquals(bits(before), bits(out.download()), what + ": a refused unpooling left the output");
                }
            }
        }
    }

    /** The host form's and the device form's unpooling give the same bits, or both refuse with the same message. */
    private static void sameResult(java.util.function.Supplier<Tensor> host, java.util.function.Supplier<DeviceTensor> device,
                                   String what) {
        Tensor want;
        try {
            want = host.get();
        } catch (InvalidInputException e) {
            InvalidInputException got = assertThrows(InvalidInputException.class, device::get, what);
            assertEquals(e.getMessage(), got.getMessage(), what);
            return;
        }
        try (DeviceTensor u = device.get()) {
            assertEquals(want.tensorShape(), u.tensorShape(), what);
            assertArrayEquals(bits(want), bits(u.download()), what);
        }
    }

    /** The smaller spec's default unpooling output size: (in - 1) * s + k, no padding. */
    private static int[] smallerSize(Case c) {
        TensorShape v = c.spec().outputShape(c.shape());
        int r = v.rank();
        int[] k = c.smaller().window(r);
        int[] s = c.smaller().stride(r);
        int[] size = new int[r];
        for (int a = 0; a < r; a++) {
            size[a] = (v.spatial(a) - 1) * s[a] + k[a];
        }
        return size;
    }

    private static Tensor data(SplittableRandom r, TensorShape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(3) == 0 ? 0f : (float) r.nextGaussian();
        }
        return Tensor.of(s, DType.FLOAT32, v);
    }
}
