package dev.clpool.cli;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.PoolingEngine;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --backend}, {@code --binding}, {@code --device}: shared by every command that pools. */
final class BackendOptions {
    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            converter = Converters.Backend.class,
            description = "Where to run: auto (an OpenCL device if usable, else the CPU; default), cpu,"
                    + " or opencl (never falls back: exit code 3 without a usable device).")
    BackendChoice backend;

    @Option(names = "--binding", paramLabel = "auto|jocl|lwjgl", defaultValue = "auto",
            converter = Converters.Binding.class,
            description = "The Java OpenCL binding: auto (default: the first that loads), jocl or lwjgl.")
    BindingChoice binding;

    @Option(names = "--device", paramLabel = "N[,N...]", split = ",",
            description = "OpenCL device number as listed by `clpool probe` (default: the first suitable GPU,"
                    + " else any suitable device). Several numbers split each batch across those devices in"
                    + " proportion to their measured speed.")
    List<Integer> devices;

    PoolingEngine open() {
        PoolingEngine.Builder b = PoolingEngine.builder().backend(backend).binding(binding);
        if (devices != null) {
            for (int d : devices) {
                if (d < 0) {
                    throw CliException.badInput("--device " + d + ": must be >= 0");
                }
            }
            if (devices.stream().distinct().count() != devices.size()) {
                throw CliException.badInput("--device " + devices.stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(",")) + ": a device is named twice");
            }
            if (devices.size() == 1) {
                b.device(devices.get(0));
            } else {
                b.devices(devices.stream().mapToInt(Integer::intValue).toArray());
            }
        }
        return b.build();
    }
}
