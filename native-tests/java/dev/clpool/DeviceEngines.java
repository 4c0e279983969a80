package dev.clpool;

import dev.clpool.opencl.OpenClBackend;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * One OpenCL engine per binding (and accumulation mode, and layout) for a test class, so each kernel variant
 * is built once per class; {@link #close()} releases them all.
 */
public final class DeviceEngines implements AutoCloseable {
    private final Map<BindingChoice, PoolingEngine> engines = new EnumMap<>(BindingChoice.class);
    private final Map<BindingChoice, PoolingEngine> floatEngines = new EnumMap<>(BindingChoice.class);
    private final Map<String, PoolingEngine> lanesEngines = new HashMap<>();
    private final Map<BindingChoice, PoolingEngine> portableHalfEngines = new EnumMap<>(BindingChoice.class);
    private PoolingEngine cpu;

    /** The device engine through {@code binding} (skips, or fails on CI, without a device). */
    public synchronized PoolingEngine device(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        return engines.computeIfAbsent(binding, b -> PoolingEngine.builder()
                .backend(BackendChoice.OPENCL).binding(b).build());
    }

    /** As {@link #device}, but accumulating in compensated float even where the device has fp64. */
    public synchronized PoolingEngine deviceWithoutDouble(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        return floatEngines.computeIfAbsent(binding, b -> PoolingEngine.builder()
                .backend(BackendChoice.OPENCL).binding(b).openClOptions(OpenClBackend.Options.DEFAULT.withoutDouble()).build());
    }

    /**
     * An engine in the channel-lanes layout (what GPUs run: one work item per channel vector),
     * forced on this device, accumulating in double or ({@code withoutDouble}) in compensated float.
     */
    public synchronized PoolingEngine lanes(BindingChoice binding, boolean withoutDouble) {
        DeviceAvailability.requireDevice(binding);
        return lanesEngines.computeIfAbsent(binding + " " + withoutDouble, k -> PoolingEngine.builder()
                .backend(BackendChoice.OPENCL).binding(binding)
                .openClOptions(withoutDouble ? OpenClBackend.Options.DEFAULT.withoutDouble() : OpenClBackend.Options.DEFAULT)
                .openClTuning(OpenClBackend.Tuning.fromSystem().withLayout(OpenClBackend.Layout.CHANNEL_LANES)).build());
    }

    /**
     * As {@link #device}, but converting float16 with the kernels' integer lane arithmetic (what
     * GPUs run) even where the compiler targets a processor with F16C instructions (PoCL).
     */
    public synchronized PoolingEngine devicePortableHalf(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        return portableHalfEngines.computeIfAbsent(binding, b -> PoolingEngine.builder()
                .backend(BackendChoice.OPENCL).binding(b)
                .openClTuning(OpenClBackend.Tuning.fromSystem().withPortableHalf(true)).build());
    }

    public synchronized PoolingEngine cpu() {
        if (cpu == null) {
            cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
        }
        return cpu;
    }

    @Override
    public synchronized void close() {
        engines.values().forEach(PoolingEngine::close);
        floatEngines.values().forEach(PoolingEngine::close);
        lanesEngines.values().forEach(PoolingEngine::close);
        portableHalfEngines.values().forEach(PoolingEngine::close);
        if (cpu != null) {
            cpu.close();
        }
    }
}
