package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BackendChoice;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where auto runs small host operations: measured on both sides, then the faster one. */
class SmallOpsTest {

    /** A backend of the given kind that does nothing (a proxy: new interface methods need no change here). */
    private static PoolingBackend fake(String kind) {
        return (PoolingBackend) Proxy.newProxyInstance(PoolingBackend.class.getClassLoader(),
                new Class<?>[] {PoolingBackend.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "kind", "description", "toString" -> kind;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
    }

    private static final PoolingBackend DEVICE = fake("opencl");
    private static final PoolingBackend CPU = fake("cpu");
    private static final SmallOps.Kind KIND = new SmallOps.Kind("pool", "max k=2x2", Shape.of(1, 8, 8, 16));

    /** Runs {@code calls} operations; the one on {@code slow} sleeps; returns where each ran. */
    private static List<PoolingBackend> run(SmallOps ops, long bytes, int calls, PoolingBackend slow) {
        List<PoolingBackend> where = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            ops.run(DEVICE, KIND, bytes, b -> {
                where.add(b);
                if (b == slow) {
                    try {
                        Thread.sleep(3);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
        }
        return where;
    }

    @Test
    void slowDevice_smallOpsMoveToTheCpu_afterMeasuringBoth() {
        List<PoolingBackend> where = run(new SmallOps(() -> CPU), 5120, 10, DEVICE);
        assertEquals(List.of(DEVICE, CPU, DEVICE, CPU, DEVICE, CPU, CPU, CPU, CPU, CPU), where);
    }

    @Test
    void slowCpu_smallOpsStayOnTheDevice() {
        List<PoolingBackend> where = run(new SmallOps(() -> CPU), 5120, 10, CPU);
        assertEquals(List.of(DEVICE, CPU, DEVICE, CPU, DEVICE, CPU, DEVICE, DEVICE, DEVICE, DEVICE), where);
    }

    @Test
    void largeOps_alwaysRunOnTheDevice() {
        List<PoolingBackend> where = run(new SmallOps(() -> CPU), SmallOps.SMALL_BYTES + 1, 8, DEVICE);
        assertEquals(8, where.stream().filter(b -> b == DEVICE).count());
    }

    @Test
    void onTheCpuBackend_nothingToChoose() {
        SmallOps ops = new SmallOps(() -> CPU);
        List<PoolingBackend> where = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ops.run(CPU, KIND, 64, where::add);
        }
        assertEquals(List.of(CPU, CPU, CPU, CPU), where);
    }

    @Test
    void autoEngine_withoutDevice_stillWorks() {
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            Tensor x = Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4);
            assertEquals(4f, e.pool(x, PoolSpec.max(2, 2).build()).toArray()[0]);
        }
    }
}
