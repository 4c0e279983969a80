package dev.clpool.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel sources, read from this jar only ({@code opencl/*.cl} in the repository, packaged
 * under {@code dev/clpool/opencl/kernels/}). Each program is {@code common.cl} followed by one
 * op file, with the op file it builds on, if any ({@link #BASES}), in between.
 */
public final class KernelSources {
    private static final String ROOT = "/dev/clpool/opencl/kernels/";
    private static final Map<String, String> PROGRAMS = new ConcurrentHashMap<>();
    /**
     * Op files that use another file's definitions, and that file: the channels-first pooling and
     * indices kernels share {@code planar_taps.cl}'s row loop, tap loads and masks; the 16-bit max
     * windows fall back on {@code pool2d_nhwc.cl}'s float path.
     */
    private static final Map<String, String> BASES = Map.of("pool_planar.cl", "planar_taps.cl",
            "pool_planar_indices.cl", "planar_taps.cl", "pool2d_stored.cl", "pool2d_nhwc.cl");

    private KernelSources() {
    }

    /** The full program text for an op file such as {@code pool2d_nhwc.cl}. */
    public static String program(String file) {
        return PROGRAMS.computeIfAbsent(file, f -> read("common.cl") + "\n"
                + (BASES.containsKey(f) ? read(BASES.get(f)) + "\n" : "") + read(f));
    }

    private static String read(String file) {
        try (InputStream in = KernelSources.class.getResourceAsStream(ROOT + file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + file + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + file, e);
        }
    }
}
