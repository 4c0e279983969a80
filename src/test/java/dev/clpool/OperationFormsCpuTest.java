package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.testing.OperationForms;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On the CPU path, every operation's into-existing form writes exactly the allocating form's bits
 * (every storage type), its device-tensor form gives them too, and outputs of the wrong shape,
 * type or convention are refused with a message naming the output.
 */
class OperationFormsCpuTest {
    private static final Shape SHAPE = Shape.of(2, 9, 11, 5);
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void intoExisting_equalsAllocating_forEveryOperation(DType dtype) {
        Tensor x = OperationForms.input(SHAPE, dtype, 1);
        OperationForms.everyOperation(engine, x);
    }

    @Test
    void deviceTensorForms_equalHostForms() {
        OperationForms.deviceForms(engine, OperationForms.input(SHAPE, DType.FLOAT32, 2));
    }

    @Test
    void wrongOutputs_areRefused_namingTheOutput() {
        Tensor x = OperationForms.input(SHAPE, DType.FLOAT32, 3);
        PoolSpec max = OperationForms.MAX;
        Shape out = max.outputShape(SHAPE);
        Tensor wrongShape = Tensor.allocate(Shape.of(2, 1, 1, 5));
        Tensor half = Tensor.allocate(out, DType.FLOAT16);
        Indices nhwc = Indices.allocate(out, IndexConvention.NHWC);

        assertMessage("values", () -> engine.poolWithIndices(x, max, IndexConvention.NHWC, wrongShape, nhwc));
        assertMessage("values dtype", () -> engine.poolWithIndices(x, max, IndexConvention.NHWC, half, nhwc));
        assertMessage("indices shape", () -> engine.poolWithIndices(x, max, IndexConvention.NHWC,
                Tensor.allocate(out), Indices.allocate(SHAPE, IndexConvention.NHWC)));
        assertMessage("indices convention", () -> engine.poolWithIndices(x, max, IndexConvention.PYTORCH,
                Tensor.allocate(out), nhwc));
        Tensor dy = Tensor.allocate(out);
        assertMessage("gradInput", () -> engine.backward(x, dy, max, wrongShape));
        assertMessage("gradInput dtype", () -> engine.backward(x, dy, max, Tensor.allocate(SHAPE, DType.BFLOAT16)));
        assertMessage("gradInput is input", () -> engine.backward(x, dy, max, x));
        assertMessage("output tensor", () -> engine.adaptive(PoolMode.AVG, x, 3, 3, wrongShape));
        assertMessage("output tensor dtype", () -> engine.adaptive(PoolMode.AVG, x, 2, 2,
                Tensor.allocate(Shape.of(2, 2, 2, 5), DType.FLOAT16)));
        assertThrows(InvalidSpecException.class,
                () -> engine.poolWithIndices(x, OperationForms.AVG, IndexConvention.NHWC, Tensor.allocate(out), nhwc));
        // An output of another layout with the same numbers is named as such, not read as 2-D channels-last.
        TensorShape first = TensorShape.channelsFirst(out.n(), out.c(), out.h(), out.w());
        assertMessage("output tensor " + first + " (2-D channels-first): expected " + out + " (2-D channels-last)",
                () -> engine.pool(x, max, Tensor.allocate(first)));
    }

    @Test
    void deviceForms_refuseWhatTheHostFormsRefuse() {
        try (DeviceTensor dx = engine.upload(OperationForms.input(SHAPE, DType.FLOAT32, 4));
             DeviceTensor wrong = engine.upload(Tensor.allocate(Shape.of(2, 1, 1, 5)))) {
            assertThrows(InvalidSpecException.class, () -> engine.poolWithIndices(dx, OperationForms.AVG));
            assertThrows(InvalidSpecException.class, () -> engine.backward(dx, wrong, OperationForms.MAX));
            assertThrows(InvalidSpecException.class, () -> engine.adaptive(PoolMode.LP, dx, 2, 2));
            try (PoolingEngine other = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
                assertThrows(IllegalArgumentException.class, () -> other.adaptiveMax(dx, 2, 2));
            }
            DevicePooledWithIndices r = engine.poolWithIndices(dx, OperationForms.MAX);
            r.close();
            assertTrue(r.indices().isClosed());
            assertThrows(IllegalStateException.class, () -> r.indices().download());
            assertThrows(IllegalArgumentException.class, () -> engine.poolWithIndices(dx, OperationForms.MAX).indices()
                    .download(Indices.allocate(OperationForms.MAX.outputShape(SHAPE), IndexConvention.PYTORCH)));
        }
    }

    @Test
    void closedResults_refuseAccess_andTheirMemoryIsReused() {
        Tensor x = OperationForms.input(SHAPE, DType.FLOAT32, 5);
        Tensor y = engine.pool(x, OperationForms.MAX);
        float first = y.get(0, 0, 0, 0);
        y.close();
        assertTrue(y.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.get(0, 0, 0, 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, y::floats);
        try (Tensor again = engine.pool(x, OperationForms.MAX)) {
            assertEquals(first, again.get(0, 0, 0, 0));
        }
        PooledWithIndices r = engine.poolWithIndices(x, OperationForms.MAX);
        r.close();
        assertThrows(IllegalStateException.class, () -> r.indices().get(0, 0, 0, 0));
        assertThrows(IllegalStateException.class, () -> r.values().toArray());
    }

    private static void assertMessage(String start, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
    }
}
