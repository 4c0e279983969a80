package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.IndexConvention;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.testing.Tolerance;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every operation with a Vector API kernel, run by a child JVM started without
 * {@code jdk.incubator.vector} (as most users start theirs) and by this test JVM, which has it:
 * the child must load no {@code Vec*} class, and the two must agree (max and indices bit for bit,
 * sums within SEMANTICS.md's tolerance). The shapes have 32 channels, so each operation takes its
 * vector kernel here and its scalar one in the child.
 */
class ScalarJvmTest {
    @TempDir
    Path tmp;

    @Test
    void aJvmWithoutTheModuleRunsTheScalarKernels_withTheSameResults() throws Exception {
        assertTrue(VectorSupport.enabled(), "this test JVM runs the vector kernels");
        Path file = tmp.resolve("scalar.bin");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                file.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish in 120 s");
        String log = Files.readString(tmp.resolve("child.txt"));
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("dev.clpool.cpu.CpuBackend "), "the class-load log names the classes the child loaded");
        java.util.regex.Matcher vec = java.util.regex.Pattern.compile("dev\\.clpool\\.cpu\\.Vec[A-Z]\\w*").matcher(log);
        assertTrue(!vec.find(), () -> "a JVM without the module loaded " + vec.group());
        Map<String, Object> scalar;
        try (ObjectInputStream in = new ObjectInputStream(Files.newInputStream(file))) {
            @SuppressWarnings("unchecked")
            Map<String, Object> read = (Map<String, Object>) in.readObject();
            scalar = read;
        }
        Map<String, Object> vector = compute();
        assertEquals(vector.keySet(), scalar.keySet());
        for (String op : vector.keySet()) {
            Object v = vector.get(op);
            Object s = scalar.get(op);
            if (v instanceof long[] lv) {
                assertArrayEquals((long[]) s, lv, op);
            } else if (op.contains("max")) {
                Tolerance.assertBitIdentical((float[]) v, (float[]) s, op + ": vector against scalar");
            } else {
                Tolerance.assertClose((float[]) v, (float[]) s, Tolerance.REL, op + ": vector against scalar");
            }
        }
    }

    /** The child: computes every operation on the CPU path and writes the results to the file in args[0]. */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            if (VectorSupport.enabled() || ModuleLayer.boot().findModule(VectorSupport.MODULE).isPresent()) {
                throw new IllegalStateException("the child must run without " + VectorSupport.MODULE);
            }
            Map<String, Object> results = compute();
            try (ObjectOutputStream out = new ObjectOutputStream(Files.newOutputStream(Path.of(args[0])))) {
                out.writeObject(results);
            }
        }
    }

    /** Each operation, named by what it is (a name with "max" compares bit for bit). */
    static Map<String, Object> compute() {
        SplittableRandom r = new SplittableRandom(20261206L);
        Shape s = Shape.of(2, 9, 11, 32);
        float[] v = new float[s.n() * s.h() * s.w() * s.c()];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(16);
            v[i] = k == 0 ? 0f : k == 1 ? -0f : k == 2 ? 1f : (float) r.nextDouble(-4, 4);
        }
        v[5] = Float.NaN;
        Map<String, Object> out = new LinkedHashMap<>();
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             Tensor x = Tensor.of(s, v)) {
            PoolSpec max3 = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
            PoolSpec avg3 = PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build();
            PoolSpec max2 = PoolSpec.max(2, 2).stride(2).build();
            PoolSpec avg2 = PoolSpec.avg(2, 2).stride(2).build();
            out.put("pool max 3x3 s2 p1", e.pool(x, max3).toArray());
            out.put("pool avg 3x3 s1 p1", e.pool(x, avg3).toArray());
            PooledWithIndices w = e.poolWithIndices(x, max2, IndexConvention.NHWC);
            out.put("indices max 2x2 s2: values", w.values().toArray());
            out.put("indices max 2x2 s2: indices", w.indices().toArray());
            out.put("backward max 3x3 s2 p1", e.backward(x, gradient(e.pool(x, max3).shape(), r), max3).toArray());
            out.put("backward avg 2x2 s2", e.backward(x, gradient(e.pool(x, avg2).shape(), r), avg2).toArray());
            out.put("global max", e.global(PoolMode.MAX, x).toArray());
            out.put("global avg", e.global(PoolMode.AVG, x).toArray());
            out.put("adaptive max 4x3", e.adaptive(PoolMode.MAX, x, 4, 3).toArray());
            out.put("adaptive avg 4x3", e.adaptive(PoolMode.AVG, x, 4, 3).toArray());
            try (Tensor cf = Tensor.of(TensorShape.channelsFirst(2, 32, 7, 7), java.util.Arrays.copyOf(v, 2 * 32 * 49))) {
                out.put("global avg, channels-first 7x7 planes", e.global(PoolMode.AVG, cf).toArray());
            }
        }
        return out;
    }

    private static Tensor gradient(Shape s, SplittableRandom r) {
        float[] g = new float[s.n() * s.h() * s.w() * s.c()];
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextDouble(-1, 1);
        }
        return Tensor.of(s, g);
    }
}
