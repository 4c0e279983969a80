package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fallback policy and the one mapping of device errors, on fake backends. */
class FallbackTest {

    /** A backend that records where pool ran and throws {@link #failure} while it is set. */
    private static final class Fake implements PoolingBackend {
        final String kind;
        RuntimeException failure;
        int pools;
        int closes;

        Fake(String kind) {
            this.kind = kind;
        }

        @Override
        public String kind() {
            return kind;
        }

        @Override
        public String description() {
            return kind + " fake";
        }

        @Override
        public void pool(PoolGeometry g, Tensor in, Tensor out) {
            if (failure != null) {
                throw failure;
            }
            pools++;
        }

        @Override
        public void global(PoolMode mode, Tensor in, Tensor out) {
        }

        @Override
        public void close() {
            closes++;
        }
    }

    private final Fake device = new Fake("opencl");
    private final List<Fake> cpus = new ArrayList<>();

    private Fallback fallback(boolean auto) {
        return new Fallback(new BackendSelector.Selection(device, "test", false), auto, false, () -> {
            Fake cpu = new Fake("cpu");
            cpus.add(cpu);
            return cpu;
        });
    }

    @Test
    void mapping_buildFailure_isBuildFailed_everythingElse_deviceError() {
        DeviceUnavailableException build = Fallback.unavailable("dev", new ClBuildException(-11, "-DK=3", "log"));
        assertEquals(Reason.BUILD_FAILED, build.reason());
        assertTrue(build.getMessage().startsWith("dev: kernel build failed"), build.getMessage());
        assertEquals(Reason.DEVICE_ERROR, Fallback.unavailable("dev", new ClException("clEnqueueNDRangeKernel", -5)).reason());
        DeviceUnavailableException limit = Fallback.unavailable("dev", new BackendLimitException("too big"));
        assertEquals(Reason.DEVICE_ERROR, limit.reason());
        assertEquals("dev: too big", limit.getMessage());
    }

    @Test
    void auto_deviceFailure_movesToTheCpuForGood() {
        try (Fallback f = fallback(true)) {
            device.failure = new ClException("clFinish", -5);
            f.run(b -> b.pool(null, (Tensor) null, null));
            assertEquals(1, cpus.size());
            assertSame(cpus.get(0), f.current());
            assertEquals(1, cpus.get(0).pools);
            assertTrue(f.fallbackReason().orElseThrow().contains("opencl fake failed"), f.fallbackReason().toString());
            f.run(b -> b.pool(null, (Tensor) null, null));
            assertEquals(2, cpus.get(0).pools);
            assertEquals(0, device.pools);
        }
        assertEquals(1, device.closes, "the failed device is released once, at close");
        assertEquals(1, cpus.get(0).closes);
    }

    @Test
    void opencl_deviceFailure_throws_andStaysOnTheDevice() {
        try (Fallback f = fallback(false)) {
            device.failure = new ClBuildException(-11, "", "error");
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                    () -> f.run(b -> b.pool(null, (Tensor) null, null)));
            assertEquals(Reason.BUILD_FAILED, e.reason());
            device.failure = new ClException("clFinish", -5);
            e = assertThrows(DeviceUnavailableException.class, () -> f.run(b -> b.pool(null, (Tensor) null, null)));
            assertEquals(Reason.DEVICE_ERROR, e.reason());
            assertSame(device, f.current());
            assertTrue(cpus.isEmpty());
        }
    }

    @Test
    void limit_underAuto_runsThatRequestOnTheCpu_andKeepsTheDevice() {
        try (Fallback f = fallback(true)) {
            device.failure = new BackendLimitException("2 GiB buffer");
            f.run(b -> b.pool(null, (Tensor) null, null));
            assertEquals(1, cpus.get(0).pools);
            assertSame(device, f.current());
            assertFalse(f.fallbackReason().isPresent());
            device.failure = null;
            f.run(b -> b.pool(null, (Tensor) null, null));
            assertEquals(1, device.pools);
        }
    }

    @Test
    void limit_underOpencl_throws() {
        try (Fallback f = fallback(false)) {
            device.failure = new BackendLimitException("2 GiB buffer");
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                    () -> f.run(b -> b.pool(null, (Tensor) null, null)));
            assertEquals(Reason.DEVICE_ERROR, e.reason());
        }
    }

    @Test
    void resident_underAuto_runsAgainOnTheCpu_butALimitThrows() {
        try (Fallback f = fallback(true)) {
            List<String> ran = new ArrayList<>();
            String where = f.resident(b -> {
                ran.add(b.kind());
                if (b == device) {
                    throw new ClException("clEnqueueReadBuffer", -5);
                }
                return b.kind();
            });
            assertEquals("cpu", where);
            assertEquals(List.of("opencl", "cpu"), ran);
        }
        try (Fallback f = new Fallback(new BackendSelector.Selection(new Fake("opencl"), "t", false), true, false,
                () -> new Fake("cpu"))) {
            assertThrows(DeviceUnavailableException.class, () -> f.resident(b -> {
                throw new BackendLimitException("too big");
            }));
        }
    }

    @Test
    void afterClose_operationsAreRefused() {
        Fallback f = fallback(true);
        f.close();
        f.close();
        assertEquals(1, device.closes);
        assertThrows(IllegalStateException.class, () -> f.run(b -> b.pool(null, (Tensor) null, null)));
        assertThrows(IllegalStateException.class, () -> f.onDevice(device, () -> { }));
    }
}
