package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Spatial rank 1 and 3 and channels-first tensors on the device, through every binding, in host and
 * device-tensor forms: max and indices equal the CPU path's bit for bit, sums agree within
 * SEMANTICS.md's tolerance. A few specs only (every spec is a kernel build on PoCL); the CPU path is
 * checked against a float64 reference in NdOperationsCpuTest.
 */
class NdDeviceIT {
    private static final DeviceEngines ENGINES = new DeviceEngines();

    private record Case(String name, TensorShape shape, PoolSpec spec) { }

    private static final List<Case> CASES = List.of(
            new Case("1-D channels-last max", TensorShape.channelsLast(2, new int[] {17}, 5),
                    PoolSpec.max(new int[] {3}).stride(2).padding(Padding.of(1)).build()),
            new Case("1-D channels-first avg", TensorShape.channelsFirst(2, 3, 19),
                    PoolSpec.avg(new int[] {4}).stride(1).padding(Padding.SAME).countIncludePad(true).build()),
            new Case("2-D channels-first max", TensorShape.channelsFirst(2, 3, 11, 9),
                    PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).ceilMode(true).build()),
            new Case("3-D channels-last max", TensorShape.channelsLast(1, new int[] {5, 7, 6}, 4),
                    PoolSpec.max(2, 3, 3).stride(1, 2, 2).padding(Padding.perAxis(new int[] {0, 1, 1}, new int[] {1, 1, 0}))
                            .build()),
            new Case("3-D channels-first avg", TensorShape.channelsFirst(2, 3, 5, 6, 7),
                    PoolSpec.avg(3, 3, 3).stride(2).padding(Padding.of(1)).ceilMode(true).build()));

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> cases() {
        return DeviceAvailability.bindings().stream().flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c.name())));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyOperation_agreesWithTheCpuPath(BindingChoice binding, String name) {
        Case c = CASES.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        PoolingEngine dev = ENGINES.device(binding);
        PoolingEngine cpu = ENGINES.cpu();
        SplittableRandom r = new SplittableRandom(name.hashCode());
        Tensor x = data(r, c.shape());
        PoolSpec spec = c.spec();
        boolean max = spec.mode() == PoolMode.MAX;
        check(cpu.pool(x, spec).toArray(), dev.pool(x, spec).toArray(), max, name + " pool");
        Tensor dy = data(r, spec.outputShape(c.shape()));
        check(cpu.backward(x, dy, spec).toArray(), dev.backward(x, dy, spec).toArray(), false, name + " backward");
        int[] size = c.shape().spatial();
        size[size.length - 1] = Math.max(1, size[size.length - 1] / 2);
        PoolMode mode = spec.mode();
        check(cpu.adaptive(mode, x, size).toArray(), dev.adaptive(mode, x, size).toArray(), max, name + " adaptive");
        check(cpu.global(mode, x).toArray(), dev.global(mode, x).toArray(), max, name + " global");
        check(cpu.globalLp(x, 3).toArray(), dev.globalLp(x, 3).toArray(), false, name + " global lp");
        if (max) {
            for (IndexConvention conv : IndexConvention.values()) {
                try (PooledWithIndices want = cpu.poolWithIndices(x, spec, conv);
                     PooledWithIndices got = dev.poolWithIndices(x, spec, conv)) {
                    assertArrayEquals(want.indices().toArray(), got.indices().toArray(), name + " indices " + conv.word());
                    check(want.values().toArray(), got.values().toArray(), true, name + " indices' values");
                }
            }
        }
        try (DeviceTensor dx = dev.upload(x); DeviceTensor ddy = dev.upload(dy); DeviceTensor p = dev.pool(dx, spec);
             DeviceTensor b = dev.backward(dx, ddy, spec); DeviceTensor a = dev.adaptive(mode, dx, size)) {
            assertEquals(c.shape(), dx.tensorShape());
            check(cpu.pool(x, spec).toArray(), p.download().toArray(), max, name + " device pool");
            check(cpu.backward(x, dy, spec).toArray(), b.download().toArray(), false, name + " device backward");
            check(cpu.adaptive(mode, x, size).toArray(), a.download().toArray(), max, name + " device adaptive");
        }
    }

    private static Tensor data(SplittableRandom r, TensorShape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(5) == 0 ? 0f : r.nextInt(7) == 0 ? r.nextInt(-2, 3) : (float) r.nextGaussian();
        }
        return Tensor.of(s, DType.FLOAT32, v);
    }

    private static void check(float[] want, float[] got, boolean exact, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            boolean ok = exact ? Float.floatToRawIntBits(want[i]) == Float.floatToRawIntBits(got[i])
                    : Tolerance.close(got[i], want[i], 2 * Tolerance.REL);
            if (!ok) {
                fail(what + ": element " + i + " is " + got[i] + ", the CPU path has " + want[i]);
            }
        }
    }
}
