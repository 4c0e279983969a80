package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Device tensors on the CPU path: the same API works without a device. */
class DeviceTensorCpuTest {

    @Test
    void chainOnCpuEngine_matchesHostCalls() {
        Tensor x = Tensor.of(Shape.of(1, 4, 4, 1), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        PoolSpec spec = PoolSpec.max(2, 2).build();
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             DeviceTensor dx = cpu.upload(x);
             DeviceTensor dy = cpu.pool(dx, spec);
             DeviceTensor dz = cpu.globalAvg(dy)) {
            assertEquals("cpu", dx.location());
            assertEquals(Shape.of(1, 2, 2, 1), dy.shape());
            assertArrayEquals(new float[] {5, 7, 13, 15}, dy.download().toArray());
            assertArrayEquals(new float[] {10}, dz.download().toArray());
            cpu.finish();
        }
    }

    @Test
    void uploadCopies_andClosedTensorsAreRefused() {
        Tensor x = Tensor.of(Shape.of(1, 1, 2, 1), 1, 2);
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            DeviceTensor dx = cpu.upload(x);
            x.set(0, 0, 0, 0, 9);
            assertArrayEquals(new float[] {1, 2}, dx.download().toArray());
            dx.close();
            dx.close();
            assertThrows(IllegalStateException.class, dx::download);
            assertThrows(IllegalStateException.class, () -> cpu.globalMax(dx));
        }
    }

    @Test
    void downloadIntoWrongShape_isRefused() {
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             DeviceTensor dx = cpu.upload(Tensor.allocate(Shape.of(1, 2, 2, 1)))) {
            assertThrows(IllegalArgumentException.class, () -> dx.download(Tensor.allocate(Shape.of(1, 2, 2, 2))));
        }
    }

    @Test
    void poolInto_reusesTheOutput_andChecksItsShape() {
        Tensor x = Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4);
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            Tensor out = Tensor.allocate(Shape.of(1, 1, 1, 1));
            assertEquals(out, cpu.pool(x, PoolSpec.max(2, 2).build(), out));
            assertArrayEquals(new float[] {4}, out.toArray());
            assertArrayEquals(new float[] {2.5f}, cpu.global(PoolMode.AVG, x, out).toArray());
            assertThrows(IllegalArgumentException.class,
                    () -> cpu.pool(x, PoolSpec.max(1, 1).build(), Tensor.allocate(Shape.of(1, 1, 1, 1))));
        }
    }
}
