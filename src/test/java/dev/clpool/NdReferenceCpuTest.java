package dev.clpool;

import dev.clpool.testing.NdReference;
import dev.clpool.testing.NdReferenceRun;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the independent N-D reference data (spatial rank 1, 2 and 3; see docs/tests.md)
 * on the CPU path, in both layouts: max, indices and unpooling exact, the rest within
 * SEMANTICS.md's tolerance of the float64 reference.
 */
class NdReferenceCpuTest {
    private static final NdReference REF = NdReference.load();
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static Stream<Arguments> cases() {
        return REF.cases().stream().flatMap(c -> Stream.of(Layout.values()).map(l -> Arguments.of(c, l)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void referenceCase_onCpu(NdReference.Case c, Layout layout) {
        NdReferenceRun.check(REF, c, layout, engine, "cpu");
    }
}
