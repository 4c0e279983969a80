package dev.clpool.cli;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.PoolingEngine;
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

    @Option(names = "--device", paramLabel = "N",
            description = "OpenCL device number as listed by `clpool probe` (default: the first suitable GPU,"
                    + " else any suitable device).")
    Integer device;

    PoolingEngine open() {
        PoolingEngine.Builder b = PoolingEngine.builder().backend(backend).binding(binding);
        if (device != null) {
            if (device < 0) {
                throw CliException.badInput("--device " + device + ": must be >= 0");
            }
            b.device(device);
        }
        return b.build();
    }
}
