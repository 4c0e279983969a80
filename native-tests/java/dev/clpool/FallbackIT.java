package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.npy.Npy;
import dev.clpool.opencl.SignalChaining;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar as a user runs it: on the device, and with no OpenCL platform at all
 * ({@code OCL_ICD_VENDORS} pointing at an empty directory), where auto falls back to the CPU
 * path and {@code --backend opencl} exits 3 with one line. Started without this JVM's
 * {@code LD_PRELOAD}, so the CLI's own re-run with signal chaining is part of what runs.
 */
class FallbackIT {
    @TempDir
    Path dir;
    private Path input;
    private Path output;

    record Result(int code, String out, String err) { }

    @BeforeEach
    void input() throws IOException {
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = i;
        }
        input = dir.resolve("x.npy");
        output = dir.resolve("y.npy");
        Npy.writeTensor(input, Tensor.of(Shape.of(1, 4, 4, 1), v));
    }

    private Result jar(boolean noPlatform, String... args) throws Exception {
        String jar = System.getProperty("clpool.jar", "target/clpool.jar");
        assertTrue(Files.exists(Path.of(jar)), "the jar must be built before the device tests: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // As a user starts it: without the libjsig preload this test JVM has (the CLI adds it itself).
        pb.environment().remove("LD_PRELOAD");
        if (noPlatform) {
            Path empty = Files.createDirectories(dir.resolve("no-icds"));
            pb.environment().put("OCL_ICD_VENDORS", empty.toString());
        }
        pb.redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the jar did not finish: " + cmd);
        return new Result(p.exitValue(), Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    private String[] pool(String backend) {
        return new String[] {"pool", "--input", input.toString(), "--output", output.toString(), "--mode", "max",
            "--window", "3", "--stride", "2", "--pad", "1", "--backend", backend};
    }

    @Test
    void poolOnOpencl_worksOnTheDevice() throws Exception {
        DeviceAvailability.requireDevice();
        Result r = jar(false, pool("opencl"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("OpenCL"), r.err());
        assertArrayEquals(new float[] {5, 7, 13, 15}, Npy.readTensor(output).toArray());
    }

    @Test
    void cli_onLinux_rerunsItselfWithSignalChaining() throws Exception {
        DeviceAvailability.requireDevice();
        Assumptions.assumeTrue(SignalChaining.library().isPresent(), "this JDK has no libjsig.so (not Linux)");
        List<String> args = new ArrayList<>(List.of("-v"));
        args.addAll(List.of(pool("opencl")));
        Result r = jar(false, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("signal chaining (libjsig preloaded)"), r.err());
        assertArrayEquals(new float[] {5, 7, 13, 15}, Npy.readTensor(output).toArray());
    }

    /** The pom's profile jvm-signal-chaining: without it a device-test JVM can die (docs/pocl-signals.md). */
    @Test
    void deviceTestJvm_onLinux_hasSignalChaining() {
        Assumptions.assumeTrue(SignalChaining.library().isPresent(), "this JDK has no libjsig.so (not Linux)");
        assertEquals(Optional.of(true), SignalChaining.loaded(), "libjsig is not preloaded into the device-test JVM");
    }

    @Test
    void demo_withDevice_showsBothBackendsAgreeing() throws Exception {
        DeviceAvailability.requireDevice();
        Result r = jar(false, "demo");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("device: OpenCL"), r.out());
        assertTrue(r.out().contains("All 8 examples agree."), r.out());
    }

    @Test
    void noPlatform_demoRunsOnCpu() throws Exception {
        Result r = jar(true, "demo");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("device: none"), r.out());
        assertTrue(r.out().contains("All 8 examples agree."), r.out());
    }

    @Test
    void noPlatform_autoPoolFallsBackToCpu_andSaysWhy() throws Exception {
        Result r = jar(true, pool("auto"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("CPU path"), r.err());
        assertArrayEquals(new float[] {5, 7, 13, 15}, Npy.readTensor(output).toArray());
    }

    @Test
    void noPlatform_openclPoolExits3_withOneLine_andNoOutput() throws Exception {
        Result r = jar(true, pool("opencl"));
        assertEquals(3, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().toLowerCase().contains("platform") || r.err().contains("libOpenCL"), r.err());
        assertFalse(Files.exists(output));
    }
}
