package dev.clpool.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import java.util.List;
import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/** Spark's GPU addresses (a fake resource map, as TaskContext.resourcesJMap() gives) to OpenCL devices. */
class GpuDevicesTest {
    /** A machine's OpenCL devices in `clpool probe` order: PoCL's CPU device first, then two GPUs, then an FPGA. */
    private record Dev(String name, boolean gpu) {
    }

    private static final List<Dev> DEVICES = List.of(new Dev("pocl cpu", false), new Dev("gpu A", true),
            new Dev("gpu B", true), new Dev("fpga", false));

    private static List<Dev> select(Map<String, ResourceInformation> resources) {
        return GpuDevices.select(GpuDevices.addresses(resources), DEVICES, Dev::gpu);
    }

    @Test
    void addressK_isTheKthGpu_notTheKthDevice() {
        assertEquals(List.of(DEVICES.get(1)), select(gpus("0")));
        assertEquals(List.of(DEVICES.get(2)), select(gpus("1")));
        assertEquals(List.of(DEVICES.get(2), DEVICES.get(1)), select(gpus("1", "0")));
    }

    @Test
    void noGpuResource_selectsNothing_soTheEngineChooses() {
        assertEquals(List.of(), select(Map.of()));
        assertEquals(List.of(), select(null));
        assertEquals(List.of(), select(Map.of("fpga", new ResourceInformation("fpga", new String[] {"0"}))));
        assertEquals(new ExecutorEngines.Key(BackendChoice.AUTO, List.of()), GpuDevices.key(BackendChoice.AUTO, Map.of()));
    }

    @Test
    void cpuBackend_ignoresTheAssignedGpu() {
        assertEquals(new ExecutorEngines.Key(BackendChoice.CPU, List.of()), GpuDevices.key(BackendChoice.CPU, gpus("0")));
    }

    @Test
    void addressesNoGpuMatches_areRefusedWithTheReason() {
        IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class, () -> select(gpus("2")));
        assertTrue(beyond.getMessage().contains("Spark assigned GPU 2, but OpenCL lists 2 GPU(s)"), beyond.getMessage());
        IllegalArgumentException uuid = assertThrows(IllegalArgumentException.class, () -> select(gpus("GPU-1f2e")));
        assertTrue(uuid.getMessage().contains("not a GPU ordinal"), uuid.getMessage());
    }

    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of(GpuDevices.RESOURCE, new ResourceInformation("gpu", addresses));
    }
}
