package dev.clpool;

import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.testing.BackwardCases;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.StorageCases;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backward pooling on the device, through every binding: grouped cases covering every feature
 * pair of the CPU sweep's cases (the same seed), each within SEMANTICS.md's tolerance of the CPU
 * path and of the float64 reference (backends may add overlapping windows' gradients in different
 * orders, so even max is compared within tolerance); the compensated-float path of devices without
 * fp64; and batch chunking.
 */
class BackwardDeviceIT {
    /** The CPU sweep's cases (CpuBackwardTest runs these 300), one kernel build each on PoCL. */
    private static final List<BackwardCases.Case> CPU_SWEEP = BackwardCases.generate(BackwardCases.SEED, 300);
    /**
     * Cases in groups that share a spec and a channel vector class, so one kernel build serves a
     * group, covering every pair of features (the gradient's NaN and infinities included) that the
     * CPU sweep's 300 cases cover; BackwardCasesTest checks it.
     */
    static final List<BackwardCases.Case> CASES = BackwardCases.covering(BackwardCases.SEED, CPU_SWEEP, 6);
    /** The same for the float accumulation path: the pairs of the first 40 cases of the CPU sweep. */
    static final List<BackwardCases.Case> FLOAT_CASES = BackwardCases.covering(BackwardCases.SEED + 1,
            CPU_SWEEP.subList(0, 40), 3);
    private static final DeviceEngines ENGINES = new DeviceEngines();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> sweep() {
        return DeviceAvailability.bindings().stream().flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("sweep")
    void randomSpec_backwardOnDevice_matchesCpuAndReference(BindingChoice binding, BackwardCases.Case c) {
        float[] got = ENGINES.device(binding).backward(c.input(), c.gradOutput(), c.spec()).toArray();
        float[] cpu = ENGINES.cpu().backward(c.input(), c.gradOutput(), c.spec()).toArray();
        Tolerance.assertClose(got, widen(cpu), binding + " vs cpu: " + c.name());
        Tolerance.assertClose(got, c.reference(), binding + " vs reference: " + c.name());
    }

    static Stream<Arguments> floatAccumulation() {
        return FLOAT_CASES.stream().map(c -> Arguments.of(DeviceAvailability.bindings().get(0), c));
    }

    /**
     * The path for devices without fp64 (compensated float sums), exercised on this device in the
     * channel-lanes layout that GPUs run (the sweep above runs the layout of this device, on PoCL
     * the channel loop; the per-lane code is shared, so these cases cover the other layout too).
     */
    @ParameterizedTest(name = "float accumulation, lanes {0} {1}")
    @MethodSource("floatAccumulation")
    void randomSpec_backwardWithFloatAccumulationInLanes_withinTolerance(BindingChoice binding, BackwardCases.Case c) {
        float[] got = ENGINES.lanes(binding, true).backward(c.input(), c.gradOutput(), c.spec()).toArray();
        Tolerance.assertClose(got, c.reference(), "float accumulation " + c.name());
    }

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void windowsThatTileTheInput_sameBitsAsTheCpuPath(BindingChoice binding) {
        // On CPU devices windows with KH == SH, KW == SW and no leading padding take
        // backward_nhwc.cl's tiled path: one candidate output per element, avg's quotient in float.
        // Ceil mode's partial windows, trailing padding counted in the divisor or not, rows and
        // columns that no window reaches (floor mode), divisors that leave a remainder, ties,
        // signed zeros, NaN, infinities and subnormal gradients: the CPU path's bits.
        PoolingEngine device = ENGINES.device(binding);
        Shape s = Shape.of(2, 7, 9, 16);
        Tensor x = RandomCases.values(new SplittableRandom(21), s, true);
        PoolSpec[] specs = {
            PoolSpec.builder(PoolMode.AVG).window(2, 3).stride(2, 3).padding(Padding.of(0, 1, 0, 1)).ceilMode(true)
                    .countIncludePad(true).build(),
            PoolSpec.builder(PoolMode.AVG).window(3, 2).stride(3, 2).ceilMode(true).countIncludePad(false).build(),
            PoolSpec.builder(PoolMode.MAX).window(2, 2).stride(2, 2).build(),
        };
        for (PoolSpec spec : specs) {
            Tensor dy = RandomCases.values(new SplittableRandom(22), spec.geometry(s).output(), true);
            for (int i = 0; i < dy.floats().capacity(); i += 13) {
                dy.floats().put(i, Float.MIN_VALUE * (i % 7 - 3));
            }
            Tolerance.assertBitIdentical(device.backward(x, dy, spec).toArray(),
                    ENGINES.cpu().backward(x, dy, spec).toArray(), "tiled " + spec + " on " + binding);
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void channelsFirstWindowsThatTile_onePassInEveryRank_sameBitsAsTheCpuPath(BindingChoice binding) {
        // Channels-first windows of stride = window, 2 on W, no padding run backward_tiles.cl in
        // one pass: on CPU devices 8 outputs a step (rows of 20 and 17 outputs: the last vector
        // overlaps), and in the lanes layout GPUs run, forced here (one output a work item), with
        // compensated float sums (the float accumulation case's engine; max: the same bits).
        // Windows full of ties, signed zeros, NaN and -inf (some all -inf); gradients with NaN,
        // infinities and signed zeros. Max, and avg in 1-D and 2-D: the CPU path's bits (the
        // lowering's). 3-D avg divides once where the lowering divides twice: within tolerance.
        // Device tensors: the host tensors' bits. Seven kernel builds (two for 16-bit storage).
        TensorShape[] shapes = {
            TensorShape.channelsFirst(2, 3, 40),
            TensorShape.channelsFirst(2, 5, 6, 36),
            TensorShape.channelsFirst(1, 3, 4, 6, 34),
            TensorShape.channelsFirst(2, 2, 6, 3, 20),
        };
        PoolSpec[] specs = {
            PoolSpec.max(2).stride(2).build(),
            PoolSpec.avg(2, 2).stride(2).build(),
            PoolSpec.max(2, 2, 2).stride(2, 2, 2).build(),
            PoolSpec.avg(3, 3, 2).stride(3, 3, 2).build(), // 18: the lowering's 3 then 6 round twice
        };
        SplittableRandom r = new SplittableRandom(0x711E);
        for (int i = 0; i < specs.length; i++) {
            Tensor x = tiesAndSpecials(r, shapes[i]);
            Tensor dy = Tensor.of(specs[i].outputShape(shapes[i]),
                    RandomCases.values(r, Shape.of(1, 1, (int) specs[i].outputShape(shapes[i]).elementCount(), 1), true).toArray());
            float[] want = ENGINES.cpu().backward(x, dy, specs[i]).toArray();
            for (int lanes = 0; lanes < (i % 2 == 0 ? 2 : 1); lanes++) {
                PoolingEngine e = lanes == 0 ? ENGINES.device(binding) : ENGINES.lanes(binding, true);
                float[] got = e.backward(x, dy, specs[i]).toArray();
                String what = "tiled " + specs[i] + " on " + shapes[i] + (lanes == 0 ? "" : ", lanes layout") + " via " + binding;
                if (i == 3) {
                    Tolerance.assertClose(got, widen(want), what);
                } else {
                    Tolerance.assertBitIdentical(got, want, what);
                }
                try (DeviceTensor dx = e.upload(x); DeviceTensor ddy = e.upload(dy); DeviceTensor dgx = e.backward(dx, ddy, specs[i])) {
                    Tolerance.assertBitIdentical(dgx.download().toArray(), got, what + ", device tensors");
                }
            }
            if (i == 1 || i == 2) {
                // 16-bit tensors run the same kernel, widened in it and each gradient rounded once
                // (not lowered with float32 copies): the CPU path's bits, which widens, runs
                // float32 and rounds once. Two kernel builds.
                DType t = i == 1 ? DType.BFLOAT16 : DType.FLOAT16;
                Tensor x16 = x.convert(t);
                Tensor dy16 = dy.convert(t);
                StorageCases.assertSameBits(ENGINES.device(binding).backward(x16, dy16, specs[i]),
                        ENGINES.cpu().backward(x16, dy16, specs[i]), "tiled " + t + " " + specs[i] + " via " + binding);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void channelsFirstAvgThatTiles_streamedLines_sameBitsAsThePlainStores(BindingChoice binding) {
        // backward_tiles' TILES_STREAM (an output row's input rows built in private memory and
        // stored as whole lines, non-temporal) forced on shapes below its size threshold: rows of
        // 20 outputs (the last vector overlapping), of exactly 8, and 1-D rows of 24; gradients
        // with NaN payloads, infinities, signed zeros, subnormals and +-3e38. The CPU path's bits
        // and the plain stores' bits (forced off), host and device tensors. Six kernel builds.
        TensorShape[] shapes = {
            TensorShape.channelsFirst(2, 3, 6, 40),
            TensorShape.channelsFirst(1, 5, 4, 16),
            TensorShape.channelsFirst(2, 3, 48),
        };
        PoolSpec[] specs = {PoolSpec.avg(2, 2).stride(2).build(), PoolSpec.avg(2, 2).stride(2).build(), PoolSpec.avg(2).stride(2).build()};
        float[] specials = {Float.NaN, Float.intBitsToFloat(0xffc01234), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            -0.0f, 0.0f, Float.MIN_VALUE, -3 * Float.MIN_VALUE, Float.MIN_NORMAL, 3e38f, -3e38f};
        SplittableRandom r = new SplittableRandom(0x57E4);
        PoolingEngine device = ENGINES.device(binding);
        for (int i = 0; i < specs.length; i++) {
            Tensor x = Tensor.of(shapes[i], new float[Math.toIntExact(shapes[i].elementCount())]);
            TensorShape os = specs[i].outputShape(shapes[i]);
            float[] g = RandomCases.values(r, Shape.of(1, 1, (int) os.elementCount(), 1), true).toArray();
            for (int k = 0; k < g.length; k += 3) {
                g[k] = specials[(k / 3) % specials.length];
            }
            Tensor dy = Tensor.of(os, g);
            String what = "streamed " + specs[i] + " on " + shapes[i] + " via " + binding;
            try {
                System.setProperty("clpool.opencl.tilesStream", "never");
                float[] plain = device.backward(x, dy, specs[i]).toArray();
                // the CPU path's bits, NaN payloads aside (the CPU path's NaN is the canonical one)
                Tolerance.assertBitIdentical(canonicalNaN(plain), canonicalNaN(ENGINES.cpu().backward(x, dy, specs[i]).toArray()), what);
                System.setProperty("clpool.opencl.tilesStream", "always");
                Tolerance.assertBitIdentical(device.backward(x, dy, specs[i]).toArray(), plain, what);
                try (DeviceTensor dx = device.upload(x); DeviceTensor ddy = device.upload(dy);
                     DeviceTensor dgx = device.backward(dx, ddy, specs[i])) {
                    Tolerance.assertBitIdentical(dgx.download().toArray(), plain, what + ", device tensors");
                }
            } finally {
                System.clearProperty("clpool.opencl.tilesStream");
            }
        }
    }

    private static float[] canonicalNaN(float[] v) {
        float[] c = v.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = Float.isNaN(c[i]) ? Float.NaN : c[i];
        }
        return c;
    }

    /** Values from a few: ties, zeros of both signs, NaN with payloads, -inf; a fifth arbitrary. */
    private static Tensor tiesAndSpecials(SplittableRandom r, TensorShape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(10);
            v[i] = k < 2 ? -0.0f : k < 4 ? 0.0f : k == 4 ? 1.0f : k == 5 ? Float.NEGATIVE_INFINITY
                    : k == 6 ? Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 20)) : k == 7 ? -1.0f : (float) r.nextDouble();
        }
        return Tensor.of(s, v);
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void tensorLargerThanMaxAllocation_backwardRunsInBatchChunks(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(7, 9, 11, 5);
        Tensor x = RandomCases.values(new SplittableRandom(5), s, true);
        long twoItems = 2L * s.itemSize() * Float.BYTES; // chunks of 2, 2, 2 and 1 batch items
        try (OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(twoItems));
             CpuBackend cpu = new CpuBackend()) {
            for (PoolMode mode : List.of(PoolMode.MAX, PoolMode.AVG)) {
                PoolGeometry g = PoolSpec.builder(mode).window(3).stride(2).padding(Padding.of(1)).build().geometry(s);
                Tensor dy = RandomCases.values(new SplittableRandom(6), g.output(), false);
                Tensor a = Tensor.allocate(s);
                Tensor b = Tensor.allocate(s);
                device.backward(g, x, dy, a);
                cpu.backward(g, x, dy, b);
                Tolerance.assertClose(a.toArray(), widen(b.toArray()), "chunked backward " + mode);
            }
        }
    }

    private static double[] widen(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
