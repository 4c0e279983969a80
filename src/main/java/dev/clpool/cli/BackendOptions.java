package dev.clpool.cli;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.PoolingEngine;
import java.util.Arrays;
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

    @Option(names = "--device", paramLabel = "N[,N...]",
            description = "OpenCL device number as listed by `clpool probe` (default: the first suitable GPU,"
                    + " else any suitable device). Several numbers split each batch across those devices in"
                    + " proportion to their measured speed.")
    String devices;

    PoolingEngine open() {
        PoolingEngine.Builder b = PoolingEngine.builder().backend(backend).binding(binding);
        if (devices != null) {
            int[] d = deviceNumbers(devices);
            if (d.length == 1) {
                b.device(d[0]);
            } else {
                b.devices(d);
            }
        }
        return b.build();
    }

    /** {@code N} or {@code N,N,...}: distinct device numbers, each >= 0. */
    static int[] deviceNumbers(String text) {
        if (!text.matches("[0-9]+(,[0-9]+)*")) {
            throw CliException.badInput("--device " + text + ": expected a device number N >= 0, or several as N,N,...");
        }
        int[] d;
        try {
            d = Arrays.stream(text.split(",")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw CliException.badInput("--device " + text + ": a device number is out of range");
        }
        if (Arrays.stream(d).distinct().count() != d.length) {
            throw CliException.badInput("--device " + text + ": a device is named twice");
        }
        return d;
    }
}
