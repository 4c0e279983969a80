package dev.clpool;

import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.OnnxCases;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU path's random sweep on the device, through every binding: max bit-identical to the
 * CPU, avg and lp within SEMANTICS.md's tolerance of the float64 reference; every binding gives
 * bit-identical results to every other; and the ONNX conformance cases on the device.
 */
class DeviceSweepIT {
    /** The same seed as the CPU sweep (CpuBackendTest). */
    static final long SEED = 20261128L;
    /**
     * Cases in groups that share a spec and a channel vector class, so one kernel build serves a
     * group, covering every pair of features that the CPU sweep's 300 cases cover (one kernel
     * each); RandomCasesTest checks it.
     */
    static final List<RandomCases.Case> CASES = RandomCases.covering(SEED, RandomCases.generate(SEED, 300), 6);
    /** The same for the float accumulation path: the pairs of the first 60 avg and lp cases of the CPU sweep. */
    static final List<RandomCases.Case> FLOAT_CASES = RandomCases.covering(SEED + 1, RandomCases.generate(SEED, 300)
            .stream().filter(c -> c.spec().mode() != PoolMode.MAX).limit(60).toList(), 3, s -> s.mode() != PoolMode.MAX);
    private static final DeviceEngines ENGINES = new DeviceEngines();
    /** First binding's output per case, to compare the bindings bit for bit. */
    private static final Map<String, float[]> FIRST_BINDING = new ConcurrentHashMap<>();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> sweep() {
        return DeviceAvailability.bindings().stream()
                .flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("sweep")
    void randomSpec_onDevice_matchesCpuAndReference(BindingChoice binding, RandomCases.Case c) {
        PoolingEngine device = ENGINES.device(binding);
        float[] got = device.pool(c.input(), c.spec()).toArray();
        float[] first = FIRST_BINDING.get(c.name());
        if (first != null) {
            // The first binding's bits passed the checks below: the same bits pass them too.
            Tolerance.assertBitIdentical(got, first, "bindings disagree: " + c.name());
            return;
        }
        if (c.spec().mode() == PoolMode.MAX) {
            float[] cpu = ENGINES.cpu().pool(c.input(), c.spec()).toArray();
            Tolerance.assertBitIdentical(got, cpu, binding + " vs cpu: " + c.name());
        } else {
            double[] want = NaiveReference.pool(c.input().toArray(), c.input().shape(), c.spec());
            Tolerance.assertClose(got, want, binding + " vs reference: " + c.name());
        }
        FIRST_BINDING.put(c.name(), got);
    }

    static Stream<Arguments> floatAccumulation() {
        return FLOAT_CASES.stream().map(c -> Arguments.of(DeviceAvailability.bindings().get(0), c));
    }

    /** The path for devices without fp64 (compensated float sums), exercised on this device. */
    @ParameterizedTest(name = "float accumulation {0} {1}")
    @MethodSource("floatAccumulation")
    void randomSpec_withFloatAccumulation_withinTolerance(BindingChoice binding, RandomCases.Case c) {
        float[] got = ENGINES.deviceWithoutDouble(binding).pool(c.input(), c.spec()).toArray();
        double[] want = NaiveReference.pool(c.input().toArray(), c.input().shape(), c.spec());
        Tolerance.assertClose(got, want, "float accumulation " + c.name());
    }

    static Stream<Arguments> onnx() {
        List<OnnxCases.Case> cases = OnnxCases.runnable().toList();
        return DeviceAvailability.bindings().stream().flatMap(b -> cases.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("onnx")
    void onnxCase_onDevice(BindingChoice binding, OnnxCases.Case c) {
        c.check(c.run(ENGINES.device(binding)), binding.name().toLowerCase());
        OnnxCases.checkIndices(c, ENGINES.device(binding), binding.name().toLowerCase());
    }
}
