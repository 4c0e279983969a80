package dev.clpool;

import dev.clpool.testing.OperationForms;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * On the device, through every binding, the three forms of every operation agree bit for bit:
 * into-existing outputs get what the allocating form returns (float32 and float16 storage), and
 * the device-tensor forms of max with indices, backward and adaptive give the host forms' bits.
 * The same checks run on the CPU path in OperationFormsCpuTest.
 */
class OperationFormsDeviceIT {
    private static final Shape SHAPE = Shape.of(2, 9, 11, 5);
    private static final DeviceEngines ENGINES = new DeviceEngines();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> bindingsAndTypes() {
        return DeviceAvailability.bindings().stream()
                .flatMap(b -> Stream.of(DType.FLOAT32, DType.FLOAT16).map(t -> Arguments.of(b, t)));
    }

    static Stream<BindingChoice> bindings() {
        return DeviceAvailability.bindings().stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("bindingsAndTypes")
    void intoExisting_equalsAllocating_forEveryOperation(BindingChoice binding, DType dtype) {
        PoolingEngine e = ENGINES.device(binding);
        Tensor x = OperationForms.input(SHAPE, dtype, 1);
        OperationForms.pool(e, x, OperationForms.MAX);
        OperationForms.pool(e, x, OperationForms.AVG);
        OperationForms.global(e, x, PoolMode.MAX);
        OperationForms.global(e, x, PoolMode.AVG);
        OperationForms.poolWithIndices(e, x, OperationForms.MAX);
        OperationForms.backward(e, x, OperationForms.MAX);
        OperationForms.backward(e, x, OperationForms.AVG);
        OperationForms.adaptive(e, x, PoolMode.MAX, 4, 3);
        OperationForms.adaptive(e, x, PoolMode.AVG, 12, 2);
    }

    /** Needs the OpenCL resident forms of indices, backward and adaptive (branch routines). */
    @ParameterizedTest
    @MethodSource("bindings")
    void deviceTensorForms_equalHostForms(BindingChoice binding) {
        OperationForms.deviceForms(ENGINES.device(binding), OperationForms.input(SHAPE, DType.FLOAT32, 2));
    }
}
