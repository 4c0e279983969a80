package dev.clpool;

import dev.clpool.testing.NdReference;
import dev.clpool.testing.NdReferenceRun;
import dev.clpool.testing.Tolerance;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A third of the independent N-D reference data (spatial rank 1, 2 and 3, both layouts; see
 * docs/tests.md) — the first of every three cases of each operation and rank, so that every
 * operation, rank and layout is here while PoCL builds a third of the kernels (seconds each, cold)
 * — on the device through each binding: against the reference as on the CPU path
 * (max, indices and unpooling exact, the rest within tolerance), and the two bindings bit-identical
 * to each other. NdReferenceCpuTest runs every case on the CPU path.
 */
class NdReferenceDeviceIT {
    private static final NdReference REF = NdReference.load();
    private static final DeviceEngines ENGINES = new DeviceEngines();
    private static final Map<String, Map<String, NdReferenceRun.Output>> FIRST_BINDING = new ConcurrentHashMap<>();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> cases() {
        Map<String, Integer> seen = new java.util.HashMap<>();
        java.util.List<NdReference.Case> third = REF.cases().stream()
                .filter(c -> seen.merge(c.op() + " " + c.rank(), 1, Integer::sum) % 3 == 1).toList();
        return DeviceAvailability.bindings().stream().flatMap(b -> third.stream()
                .flatMap(c -> Stream.of(Layout.values()).map(l -> Arguments.of(b, c, l))));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void referenceCase_onDevice(BindingChoice binding, NdReference.Case c, Layout layout) {
        Map<String, NdReferenceRun.Output> got = NdReferenceRun.check(REF, c, layout, ENGINES.device(binding),
                binding.toString());
        Map<String, NdReferenceRun.Output> other = FIRST_BINDING.putIfAbsent(c.name() + " " + layout.word(), got);
        if (other == null) {
            return;
        }
        for (Map.Entry<String, NdReferenceRun.Output> e : got.entrySet()) {
            String what = "bindings disagree: " + c.name() + " " + layout.word() + " " + e.getKey();
            NdReferenceRun.Output o = other.get(e.getKey());
            if (e.getValue().indices() != null) {
                Assertions.assertArrayEquals(o.indices(), e.getValue().indices(), what);
            } else {
                Tolerance.assertBitIdentical(e.getValue().values(), o.values(), what);
            }
        }
    }
}
