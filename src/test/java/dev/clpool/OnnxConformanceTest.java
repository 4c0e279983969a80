package dev.clpool;

import dev.clpool.testing.OnnxCases;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The official ONNX pooling node tests on the CPU path (independent reference data). */
class OnnxConformanceTest {
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static Stream<OnnxCases.Case> cases() {
        return OnnxCases.runnable();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void onnxCase_matchesOnCpu(OnnxCases.Case c) {
        c.check(c.run(engine), "cpu");
        OnnxCases.checkIndices(c, engine, "cpu");
    }
}
