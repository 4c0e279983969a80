package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.testing.AdaptiveCases;
import dev.clpool.testing.IndexCases;
import dev.clpool.testing.NaiveAdaptive;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Adaptive pooling and max pooling with indices on the device, through every binding: adaptive
 * max, values and indices bit-identical to the CPU path; adaptive avg within SEMANTICS.md's
 * tolerance of the float64 reference (also with the float accumulator of devices without fp64);
 * the bindings bit-identical to each other; and both ops across batch chunks.
 */
class AdaptiveAndIndicesDeviceIT {
    /** The seeds of the CPU sweeps (CpuAdaptiveTest, CpuMaxIndicesTest), so both run the same cases. */
    static final long ADAPTIVE_SEED = 20261204L;
    static final long INDEX_SEED = 20261205L;
    static final List<AdaptiveCases.Case> ADAPTIVE = AdaptiveCases.generate(ADAPTIVE_SEED, 150);
    /**
     * Each index case is a kernel build (window, stride and padding are build options), about half a
     * second on PoCL: the first 80 of the CPU's 300 cases, 20 per convention.
     */
    static final List<IndexCases.Case> INDEX = IndexCases.generate(INDEX_SEED, 80);
    private static final DeviceEngines ENGINES = new DeviceEngines();
    private static final Map<String, Object> FIRST_BINDING = new ConcurrentHashMap<>();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> adaptive() {
        return DeviceAvailability.bindings().stream().flatMap(b -> ADAPTIVE.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("adaptive")
    void randomAdaptive_onDevice_matchesCpuAndReference(BindingChoice binding, AdaptiveCases.Case c) {
        float[] got = ENGINES.device(binding).adaptive(c.mode(), c.input(), c.oh(), c.ow()).toArray();
        if (c.mode() == PoolMode.MAX) {
            float[] cpu = ENGINES.cpu().adaptive(c.mode(), c.input(), c.oh(), c.ow()).toArray();
            Tolerance.assertBitIdentical(got, cpu, binding + " vs cpu: " + c.name());
        } else {
            double[] want = NaiveAdaptive.pool(c.input().toArray(), c.input().shape(), c.mode(), c.oh(), c.ow());
            Tolerance.assertClose(got, want, binding + " vs reference: " + c.name());
        }
        Object other = FIRST_BINDING.putIfAbsent(c.name(), got);
        if (other != null) {
            Tolerance.assertBitIdentical(got, (float[]) other, "bindings disagree: " + c.name());
        }
    }

    static Stream<Arguments> adaptiveAvg() {
        return ADAPTIVE.stream().filter(c -> c.mode() == PoolMode.AVG).limit(30)
                .map(c -> Arguments.of(DeviceAvailability.bindings().get(0), c));
    }

    /**
     * The path for devices without fp64 (compensated float sums), exercised on this device in the
     * channel-lanes layout that GPUs run (the sweep above runs this device's layout).
     */
    @ParameterizedTest(name = "float accumulation, lanes {0} {1}")
    @MethodSource("adaptiveAvg")
    void randomAdaptiveAvg_withFloatAccumulationInLanes_withinTolerance(BindingChoice binding, AdaptiveCases.Case c) {
        float[] got = ENGINES.lanes(binding, true).adaptive(c.mode(), c.input(), c.oh(), c.ow()).toArray();
        double[] want = NaiveAdaptive.pool(c.input().toArray(), c.input().shape(), c.mode(), c.oh(), c.ow());
        Tolerance.assertClose(got, want, "float accumulation " + c.name());
    }

    static Stream<Arguments> indices() {
        return DeviceAvailability.bindings().stream().flatMap(b -> INDEX.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("indices")
    void randomSpec_indicesOnDevice_bitIdenticalToCpu(BindingChoice binding, IndexCases.Case c) {
        PooledWithIndices got = ENGINES.device(binding).poolWithIndices(c.input(), c.spec(), c.convention());
        PooledWithIndices cpu = ENGINES.cpu().poolWithIndices(c.input(), c.spec(), c.convention());
        Tolerance.assertBitIdentical(got.values().toArray(), cpu.values().toArray(), binding + " values vs cpu: " + c.name());
        assertArrayEquals(cpu.indices().toArray(), got.indices().toArray(), binding + " indices vs cpu: " + c.name());
        NaiveArgmax.Result want = NaiveArgmax.pool(c.input().toArray(), c.input().shape(), c.spec(), c.convention());
        assertArrayEquals(want.indices(), got.indices().toArray(), binding + " indices vs reference: " + c.name());
        Object other = FIRST_BINDING.putIfAbsent("indices " + c.name(), got.indices().toArray());
        if (other != null) {
            assertArrayEquals((long[]) other, got.indices().toArray(), "bindings disagree: " + c.name());
        }
    }

    static Stream<Arguments> bindingsAndConventions() {
        return DeviceAvailability.bindings().stream()
                .flatMap(b -> Stream.of(IndexConvention.values()).map(c -> Arguments.of(b, c)));
    }

    /**
     * Every convention with 8-wide lanes, a batch and channel counts where lanes and batch items
     * matter, in the channel-lanes layout that GPUs run (two work items a pixel here; the random
     * cases above run this device's layout).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("bindingsAndConventions")
    void everyConvention_withVectorLanesAndBatches_matchesReference(BindingChoice binding, IndexConvention conv) {
        Shape s = Shape.of(3, 9, 7, 16);
        Tensor x = RandomCases.values(new SplittableRandom(5), s, true);
        PoolSpec spec = PoolSpec.max(3, 2).stride(2, 1).padding(Padding.of(1, 1, 0, 1)).build();
        PooledWithIndices got = ENGINES.lanes(binding, false).poolWithIndices(x, spec, conv);
        NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, conv);
        Tolerance.assertBitIdentical(got.values().toArray(), want.values(), binding + " " + conv);
        assertArrayEquals(want.indices(), got.indices().toArray(), binding + " " + conv);
    }

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    /** ONNX indices count batch items from the start of the tensor, also when the batch runs in chunks. */
    @ParameterizedTest
    @MethodSource("bindings")
    void batchChunks_keepGlobalBatchIndices_andAdaptiveResults(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(7, 9, 11, 5);
        Tensor x = RandomCases.values(new SplittableRandom(9), s, true);
        PoolGeometry g = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build().geometry(s);
        long twoItems = 2L * g.output().itemSize() * Long.BYTES; // several launches: ONNX indices need each launch's batch offset
        long inTwo = 2L * s.itemSize() * Float.BYTES; // the input limits adaptive chunks to 2 items
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(twoItems));
        OpenClBackend small = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(inTwo));
        try (CpuBackend cpu = new CpuBackend()) {
            IndexCases.assertEveryConventionMatches(device, cpu, g, x, "chunked");
            for (PoolMode mode : List.of(PoolMode.MAX, PoolMode.AVG)) {
                AdaptiveGeometry ag = AdaptiveGeometry.of(mode, s, 4, 13);
                Tensor a = Tensor.allocate(ag.output());
                small.adaptive(ag, x, a);
                double[] want = NaiveAdaptive.pool(x.toArray(), s, mode, 4, 13);
                if (mode == PoolMode.MAX) {
                    Tolerance.assertExact(a.toArray(), want, "chunked adaptive max");
                } else {
                    Tolerance.assertClose(a.toArray(), want, "chunked adaptive avg");
                }
            }
        } finally {
            device.close();
            small.close();
        }
        assertEquals(0, device.nativeObjects().live(), "native objects after close: " + device.nativeObjects());
        assertEquals(0, small.nativeObjects().live(), "native objects after close: " + small.nativeObjects());
    }
}
