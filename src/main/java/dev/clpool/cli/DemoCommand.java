package dev.clpool.cli;

import dev.clpool.BackendChoice;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code clpool demo}: the classic pooling examples, computed on the CPU path and on the OpenCL
 * device when there is one, printed as small grids with a check that they agree with each other
 * and with the expected values. Works with or without a device.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Show the classic pooling examples on the CPU and on the OpenCL device (if any).")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    /** One example: a title, the input, the operation, and the expected result. */
    private record Example(String title, Tensor input, Function<PoolingEngine, Tensor> op, float[] expected) { }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Example> examples = examples();
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             PoolingEngine device = backend.backend == BackendChoice.CPU ? null
                     : PoolingEngine.builder().backend(backend.backend).binding(backend.binding).build()) {
            PoolingEngine dev = device != null && device.backendKind().equals("opencl") ? device : null;
            out.println("clpool demo: classic 2-D pooling examples (NHWC; grids show channel 0 unless noted)");
            out.println("  cpu:    " + cpu.backendDescription());
            if (dev != null) {
                out.println("  device: " + dev.backendDescription());
            } else {
                String why = device == null ? "--backend cpu was given"
                        : device.fallbackReason().orElse("no OpenCL device");
                out.println("  device: none (" + why + "); showing the CPU path only");
            }
            int failures = 0;
            for (int i = 0; i < examples.size(); i++) {
                Example e = examples.get(i);
                Tensor onCpu = e.op().apply(cpu);
                Tensor onDev = dev == null ? null : e.op().apply(dev);
                boolean cpuRight = Arrays.equals(onCpu.toArray(), e.expected());
                boolean agree = onDev == null || Arrays.equals(onDev.toArray(), onCpu.toArray());
                out.println();
                out.println((i + 1) + ". " + e.title());
                List<String[]> columns = new ArrayList<>();
                columns.add(grid("input", e.input()));
                columns.add(grid("expected", Tensor.of(onCpu.shape(), e.expected())));
                columns.add(grid("cpu", onCpu));
                if (onDev != null) {
                    columns.add(grid("opencl", onDev));
                }
                printSideBySide(out, columns);
                String verdict = cpuRight && agree
                        ? "\u2713 " + (onDev == null ? "cpu matches the expected values" : "cpu and opencl agree with the expected values")
                        : "\u2717 MISMATCH: " + (cpuRight ? "" : "cpu differs from the expected values; ")
                                + (agree ? "" : "opencl differs from cpu");
                out.println("   " + verdict);
                if (!(cpuRight && agree)) {
                    failures++;
                }
            }
            out.println();
            out.println(failures == 0 ? "All " + examples.size() + " examples agree." : failures + " example(s) disagree.");
            out.flush();
            return failures == 0 ? ExitCodes.OK : ExitCodes.UNEXPECTED;
        }
    }

    private static List<Example> examples() {
        Tensor x3 = ramp(Shape.of(1, 3, 3, 1), 0);
        Tensor x4 = ramp(Shape.of(1, 4, 4, 1), 0);
        Tensor twoChannels = Tensor.allocate(Shape.of(1, 4, 4, 2));
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                twoChannels.set(0, y, x, 0, y * 4 + x);
                twoChannels.set(0, y, x, 1, y * 4 + x + 1);
            }
        }
        PoolSpec max2s1 = PoolSpec.max(2, 2).stride(1).build();
        PoolSpec avg2s1 = PoolSpec.avg(2, 2).stride(1).build();
        PoolSpec max3 = PoolSpec.max(3, 3).build();
        PoolSpec max3s2p1 = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec max2x3 = PoolSpec.max(2, 3).stride(2, 3).padding(Padding.of(0, 0, 1, 1)).build();
        return List.of(
                new Example("max, 2x2 window, stride 1, on a 3x3 input 0..8", x3,
                        e -> e.pool(x3, max2s1), new float[] {4, 5, 7, 8}),
                new Example("avg, 2x2 window, stride 1, on a 3x3 input 0..8", x3,
                        e -> e.pool(x3, avg2s1), new float[] {2, 3, 5, 6}),
                new Example("max, 3x3 window (stride 3), on a 4x4 input 0..15", x4,
                        e -> e.pool(x4, max3), new float[] {10}),
                new Example("max, 3x3 window, stride 2, padding 1", x4,
                        e -> e.pool(x4, max3s2p1), new float[] {5, 7, 13, 15}),
                new Example("max, 2x3 window, stride 2x3, left/right padding 1", x4,
                        e -> e.pool(x4, max2x3), new float[] {5, 7, 13, 15}),
                new Example("max per channel, two channels (X, X+1), 3x3 window, stride 2, padding 1: channel 0",
                        channel(twoChannels, 0),
                        e -> channel(e.pool(twoChannels, max3s2p1), 0), new float[] {5, 7, 13, 15}),
                new Example("... and channel 1 of the same result",
                        channel(twoChannels, 1),
                        e -> channel(e.pool(twoChannels, max3s2p1), 1), new float[] {6, 8, 14, 16}),
                new Example("global average of the 4x4 input 0..15", x4,
                        e -> e.globalAvg(x4), new float[] {7.5f}));
    }

    private static Tensor ramp(Shape s, float first) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = first + i;
        }
        return Tensor.of(s, v);
    }

    /** One channel of a batch-1 tensor as its own single-channel tensor. */
    private static Tensor channel(Tensor t, int c) {
        Shape s = t.shape();
        Tensor out = Tensor.allocate(Shape.of(1, s.h(), s.w(), 1));
        for (int y = 0; y < s.h(); y++) {
            for (int x = 0; x < s.w(); x++) {
                out.set(0, y, x, 0, t.get(0, y, x, c));
            }
        }
        return out;
    }

    private static String[] grid(String title, Tensor t) {
        Shape s = t.shape();
        String[] lines = new String[s.h() + 1];
        lines[0] = title;
        for (int y = 0; y < s.h(); y++) {
            StringBuilder b = new StringBuilder();
            for (int x = 0; x < s.w(); x++) {
                float v = t.get(0, y, x, 0);
                String txt = v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
                b.append(String.format(Locale.ROOT, "%4s", txt));
            }
            lines[y + 1] = b.toString();
        }
        return lines;
    }

    private static void printSideBySide(PrintWriter out, List<String[]> columns) {
        int rows = columns.stream().mapToInt(c -> c.length).max().orElse(0);
        for (int r = 0; r < rows; r++) {
            StringBuilder line = new StringBuilder("   ");
            for (String[] col : columns) {
                int width = Arrays.stream(col).mapToInt(String::length).max().orElse(0) + 4;
                String cell = r < col.length ? col[r] : "";
                line.append(String.format(Locale.ROOT, "%-" + width + "s", cell));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
