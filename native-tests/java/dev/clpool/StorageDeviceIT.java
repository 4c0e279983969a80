package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.DeviceInfo;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.AdaptiveCases;
import dev.clpool.testing.BackwardCases;
import dev.clpool.testing.IndexCases;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.StorageCases;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * float16 and bfloat16 storage on the device, through every binding, against the CPU path: max,
 * adaptive max and indices bit-identical, NaN payloads included; avg, LP, adaptive avg, global avg
 * and backward within one step of the storage type (the float32 results may differ within
 * SEMANTICS.md's tolerance before the one rounding; {@link StorageCases#assertWithinOneStep} also
 * allows that tolerance itself, for sums that cancel), NaN exactly where the CPU has NaN. Inputs carry each type's subnormals, values
 * near its largest, ±0, ±infinity and NaNs with payloads.
 *
 * <p>The conversions themselves are checked exactly: every one of the 65536 patterns of each type
 * through a 1x1 pooling (load and store; vector widths 1 to 16; max also on the stored patterns,
 * as CPU devices run it, and through the float path forced), and the rounding of arbitrary
 * float32 results: averages of two to four 16-bit values on a device that accumulates in double
 * against the float64 reference rounded by the host's conversion, one element at a time and in
 * vector stores. The kernels convert 16-bit storage themselves, with integer operations on the raw
 * bits (common.cl), on every device with or without {@code cl_khr_fp16}; where the compiler targets
 * an x86 processor with F16C (PoCL) float16 uses its conversion instructions instead, so these
 * conversion tests run both forms there: the default engine and one with the tuning's
 * {@code portableHalf} (the GPUs' form).
 */
class StorageDeviceIT {
    static final long SEED = 20261210L;
    /**
     * Each case is a kernel build per type: of 36 random cases, the 18 that exercise every feature
     * value and every pair of the mode with another feature that the 36 exercise
     * ({@link RandomCases#spanning}; RandomCasesTest checks it). The 16-bit path is the kernels'
     * loads and stores, which differ by mode and channel vector class; DeviceSweepIT covers the
     * pairs of window features in float32.
     */
    static final List<RandomCases.Case> CASES = RandomCases.spanning(RandomCases.generate(SEED, 36));
    private static final DeviceEngines ENGINES = new DeviceEngines();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    private static Stream<Arguments> bindingsAndTypes() {
        return DeviceAvailability.bindings().stream()
                .flatMap(b -> Arrays.stream(StorageCases.SIXTEEN_BIT).map(t -> Arguments.of(b, t)));
    }

    private static Stream<Arguments> with(List<?> cases) {
        return bindingsAndTypes().flatMap(a -> cases.stream().map(c -> Arguments.of(a.get()[0], a.get()[1], c)));
    }

    private static DeviceInfo info(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        return OpenClDevices.choose(Bindings.require(binding), -1).info();
    }

    private static Tensor input(Tensor x, DType t, String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode() ^ t.ordinal());
        return StorageCases.input(x, t, r, r.nextInt(3) != 0);
    }

    // ---- the conversions, exactly ----

    static Stream<Arguments> patterns() {
        return conversions().flatMap(a -> Stream.of(1, 2, 4, 8, 16).map(c -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], c)));
    }

    /** Each binding and 16-bit type, float16 also with the portable conversion forced. */
    static Stream<Arguments> conversions() {
        return bindingsAndTypes().flatMap(a -> (a.get()[1] == DType.FLOAT16 ? Stream.of(false, true) : Stream.of(false))
                .map(portable -> Arguments.of(a.get()[0], a.get()[1], portable)));
    }

    private static PoolingEngine engine(BindingChoice binding, boolean portableHalf) {
        return portableHalf ? ENGINES.devicePortableHalf(binding) : ENGINES.device(binding);
    }

    @ParameterizedTest(name = "{0} {1} portable={2} C={3}")
    @MethodSource("patterns")
    void everyPattern_loadsAndStoresLikeTheHost(BindingChoice binding, DType t, boolean portableHalf, int channels) {
        DeviceInfo info = info(binding);
        System.out.println("storage on " + info.summary() + " via " + binding.name().toLowerCase(Locale.ROOT)
                + ": cl_khr_fp16 " + (info.fp16() ? "present" : "absent") + " (not used: the kernels convert the bits)");
        Tensor x = Tensor.allocate(Shape.of(1, 65536 / (256 * channels), 256, channels), t);
        ShortBuffer s = x.shorts();
        for (int b = 0; b < 65536; b++) {
            s.put(b, (short) b);
        }
        Tensor want = Tensor.allocate(x.shape(), t);
        ShortBuffer w = want.shorts();
        for (int b = 0; b < 65536; b++) {
            short bits = (short) b;
            w.put(b, t == DType.FLOAT16 ? Float16.fromFloat(Float16.toFloat(bits)) : BFloat16.fromFloat(BFloat16.toFloat(bits)));
        }
        PoolingEngine device = engine(binding, portableHalf);
        StorageCases.assertSameBits(device.pool(x, PoolSpec.max(1, 1).build()), want, "max 1x1 " + t);
        // On CPU devices that max runs on the patterns (pool2d_stored.cl), converting only NaNs:
        // the float path forced, so that the pool kernel's loads and stores see every pattern.
        try {
            System.setProperty("clpool.opencl.maxStored", "never");
            StorageCases.assertSameBits(device.pool(x, PoolSpec.max(1, 1).build()), want, "max 1x1, float path, " + t);
        } finally {
            System.clearProperty("clpool.opencl.maxStored");
        }
        // avg of one element is the element, except that 0 + -0 is +0 (on both paths).
        StorageCases.assertSameValues(device.pool(x, PoolSpec.avg(1, 1).build()),
                ENGINES.cpu().pool(x, PoolSpec.avg(1, 1).build()), "avg 1x1 " + t);
        StorageCases.assertSameBits(ENGINES.cpu().pool(x, PoolSpec.max(1, 1).build()), want, "cpu max 1x1 " + t);
        // Global max of 1x1 planes: the same patterns through vectors of C channels, 16 included
        // (the pool kernels' vectors stop at 8), each conversion width of common.cl loaded and stored.
        Tensor planes = Tensor.allocate(Shape.of(65536 / channels, 1, 1, channels), t);
        Tensor wantPlanes = Tensor.allocate(planes.shape(), t);
        for (int b = 0; b < 65536; b++) {
            planes.shorts().put(b, s.get(b));
            wantPlanes.shorts().put(b, w.get(b));
        }
        StorageCases.assertSameBits(device.global(PoolMode.MAX, planes), wantPlanes, "global max of 1x1 " + t);
    }

    @ParameterizedTest(name = "{0} {1} portable={2}")
    @MethodSource("conversions")
    void rounding_ofFloat32Results_isTheHostsBitForBit(BindingChoice binding, DType t, boolean portableHalf) {
        Assumptions.assumeTrue(info(binding).fp64(),
                "needs a device with fp64: only then are the float32 averages the reference's bits");
        // Random finite patterns of every exponent (NaN and infinity excluded), ties included: the
        // average of two 16-bit values often lies exactly between two of them.
        SplittableRandom r = new SplittableRandom(SEED + t.ordinal());
        Tensor x = randomFinite(Shape.of(4, 64, 64, 3), t, r);
        for (PoolSpec spec : List.of(PoolSpec.avg(1, 2).stride(1).build(), PoolSpec.avg(1, 3).stride(1).build(),
                PoolSpec.avg(2, 2).stride(1).build())) {
            StorageCases.assertSameBits(engine(binding, portableHalf).pool(x, spec), roundedReference(x, spec, t),
                    spec + " " + t);
        }
        // Eight channels: the kernels' vector stores (three channels above: one element at a time).
        Tensor x8 = randomFinite(Shape.of(2, 32, 32, 8), t, r);
        PoolSpec pairs = PoolSpec.avg(1, 2).stride(1).build();
        StorageCases.assertSameBits(engine(binding, portableHalf).pool(x8, pairs), roundedReference(x8, pairs, t),
                pairs + " " + t + ", vector stores");
    }

    /** Random finite 16-bit patterns of every exponent (NaN and infinity excluded). */
    private static Tensor randomFinite(Shape shape, DType t, SplittableRandom r) {
        Tensor x = Tensor.allocate(shape, t);
        ShortBuffer s = x.shorts();
        int expAll = t == DType.FLOAT16 ? 0x7c00 : 0x7f80;
        for (int i = 0; i < s.capacity(); i++) {
            int b;
            do {
                b = r.nextInt(0x10000);
            } while ((b & expAll) == expAll || (t == DType.BFLOAT16 && (b & 0x7f80) > 0x7e80));
            s.put(i, (short) b);
        }
        return x;
    }

    /**
     * The float64 reference (sums in scan order, one division) rounded to float32, then once to
     * {@code t} by the host's conversion: what an fp64 device must store, bit for bit. (The CPU
     * path is not the reference here: its compensated float sums may differ from a double sum
     * in the last float32 bit, within SEMANTICS.md's tolerance.)
     */
    private static Tensor roundedReference(Tensor x, PoolSpec spec, DType t) {
        double[] want = NaiveReference.pool(x.toArray(), x.shape(), spec);
        float[] f = new float[want.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) want[i];
        }
        return Tensor.of(spec.outputShape(x.shape()), f).convert(t);
    }

    // ---- every op against the CPU path ----

    static Stream<Arguments> sweep() {
        return with(CASES);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("sweep")
    void randomSpec_matchesCpu(BindingChoice binding, DType t, RandomCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor got = ENGINES.device(binding).pool(x, c.spec());
        Tensor cpu = ENGINES.cpu().pool(x, c.spec());
        if (c.spec().mode() == PoolMode.MAX) {
            StorageCases.assertSameBits(got, cpu, binding + " vs cpu: " + c.name());
        } else {
            StorageCases.assertWithinOneStep(got, cpu, binding + " vs cpu: " + c.name());
        }
    }

    static Stream<Arguments> floatAccumulation() {
        return Arrays.stream(StorageCases.SIXTEEN_BIT).flatMap(t -> CASES.stream()
                .filter(c -> c.spec().mode() != PoolMode.MAX).limit(6)
                .map(c -> Arguments.of(DeviceAvailability.bindings().get(0), t, c)));
    }

    /** The path for devices without fp64 (compensated float sums) with 16-bit storage. */
    @ParameterizedTest(name = "float accumulation {0} {1} {2}")
    @MethodSource("floatAccumulation")
    void randomSpec_withFloatAccumulation_matchesCpu(BindingChoice binding, DType t, RandomCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        StorageCases.assertWithinOneStep(ENGINES.deviceWithoutDouble(binding).pool(x, c.spec()),
                ENGINES.cpu().pool(x, c.spec()), "float accumulation " + c.name());
    }

    static Stream<Arguments> indices() {
        return with(IndexCases.generate(SEED + 1, 8));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("indices")
    void indices_matchCpu(BindingChoice binding, DType t, IndexCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        PooledWithIndices got = ENGINES.device(binding).poolWithIndices(x, c.spec(), c.convention());
        PooledWithIndices cpu = ENGINES.cpu().poolWithIndices(x, c.spec(), c.convention());
        StorageCases.assertSameBits(got.values(), cpu.values(), c.name());
        assertArrayEquals(cpu.indices().toArray(), got.indices().toArray(), c.name());
    }

    static Stream<Arguments> adaptive() {
        return with(AdaptiveCases.generate(SEED + 2, 10));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("adaptive")
    void adaptive_matchesCpu(BindingChoice binding, DType t, AdaptiveCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor got = ENGINES.device(binding).adaptive(c.mode(), x, c.oh(), c.ow());
        Tensor cpu = ENGINES.cpu().adaptive(c.mode(), x, c.oh(), c.ow());
        if (c.mode() == PoolMode.MAX) {
            StorageCases.assertSameBits(got, cpu, c.name());
        } else {
            StorageCases.assertWithinOneStep(got, cpu, c.name());
        }
    }

    static Stream<Arguments> global() {
        return with(List.of(Shape.of(1, 64, 64, 8), Shape.of(3, 7, 5, 5), Shape.of(2, 31, 17, 130), Shape.of(1, 1, 1, 3)));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("global")
    void global_matchesCpu(BindingChoice binding, DType t, Shape s) {
        SplittableRandom r = new SplittableRandom(s.hashCode());
        Tensor x = StorageCases.input(RandomCases.values(r, s, false), t, r, s.c() == 5);
        PoolingEngine device = ENGINES.device(binding);
        StorageCases.assertSameBits(device.globalMax(x), ENGINES.cpu().globalMax(x), "global max " + s);
        Tensor avg = device.globalAvg(x);
        assertEquals(t, avg.dtype());
        StorageCases.assertWithinOneStep(avg, ENGINES.cpu().globalAvg(x), "global avg " + s);
    }

    static Stream<Arguments> backward() {
        return with(BackwardCases.generate(SEED + 3, 10));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("backward")
    void backward_matchesCpu(BindingChoice binding, DType t, BackwardCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor dy = c.gradOutput().convert(t);
        Tensor got = ENGINES.device(binding).backward(x, dy, c.spec());
        assertEquals(t, got.dtype());
        StorageCases.assertWithinOneStep(got, ENGINES.cpu().backward(x, dy, c.spec()), c.name());
    }
}
