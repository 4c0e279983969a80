package dev.clpool.opencl;

import dev.clpool.Axis;
import dev.clpool.BindingChoice;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A benchmark, not a test: the channels-first pool kernel ({@code pool_planar.cl}) against the
 * channels-last one ({@code pool2d_nhwc.cl}) on the same bytes, and against the channels-last
 * kernel on the C = 1 view (N·C batch items of one channel: what lowering channels-first onto the
 * channels-last kernels runs), all on device-resident tensors (kernel time: each run ends with
 * clFinish). Variants alternate within each round (the order rotating); medians and minima are
 * reported (the minimum is the steadier figure on a shared machine), with the ratios
 * channels-first / channels-last and C = 1 view / channels-last.
 *
 * <pre>
 * mvn -B -o verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=none   # compiles native-tests
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) dev.clpool.opencl.PlanarKernelBench \
 *     [rounds=7] [binding=lwjgl] [case=max|avg]
 * </pre>
 */
public final class PlanarKernelBench {
    private PlanarKernelBench() {
    }

    /** One case: a 2-D spec over (N, C, H, W). */
    private record Case(String name, PoolSpec spec, int n, int c, int h, int w) {
    }

    public static void main(String[] args) {
        int rounds = Integer.parseInt(arg(args, "rounds", "7"));
        BindingChoice binding = BindingChoice.valueOf(arg(args, "binding", "lwjgl").toUpperCase(Locale.ROOT));
        List<Case> cases = List.of(
                new Case("max 3x3 s2 p1", PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), 32, 64, 112, 112),
                new Case("avg 3x3 s1 p1", PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), 8, 64, 56, 56));
        String only = arg(args, "case", "");
        try (OpenClBackend backend = OpenClBackend.open(binding, -1)) {
            System.out.println(backend.description());
            for (Case k : cases) {
                if (k.name.startsWith(only)) {
                    run(backend, k, rounds);
                }
            }
        }
    }

    private static void run(OpenClBackend backend, Case k, int rounds) {
        Shape nhwc = Shape.of(k.n, k.h, k.w, k.c);
        Shape view = Shape.of(k.n * k.c, k.h, k.w, 1);
        PoolGeometry g = k.spec.geometry(nhwc);
        PoolGeometry gv = k.spec.geometry(view);
        PlanarGeometry pg = new PlanarGeometry(k.n * k.c, new Axis[] {gv.rows(), gv.cols()}, k.spec.mode(), k.spec.p(),
                k.spec.countIncludePad());
        Tensor x = random(nhwc);
        String[] names = {"channels-last kernel, NHWC", "channels-first kernel, NCHW", "channels-last kernel, C=1 view"};
        List<List<Double>> ms = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        try (ResidentTensor in = backend.upload(x); ResidentTensor inView = backend.upload(Tensor.wrap(view, x.buffer()));
             ResidentTensor out = backend.allocate(g.output()); ResidentTensor outView = backend.allocate(gv.output())) {
            Runnable[] variants = {
                () -> backend.pool(g, in, out),
                () -> backend.poolPlanar(pg, inView, outView),
                () -> backend.pool(gv, inView, outView)};
            for (Runnable v : variants) { // warm-up: builds the programs
                v.run();
                backend.finish();
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < variants.length; i++) {
                    int j = (i + r) % variants.length; // rotate the order each round
                    long t0 = System.nanoTime();
                    variants[j].run();
                    backend.finish();
                    ms.get(j).add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        double base = median(ms.get(0));
        double baseMin = ms.get(0).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        System.out.printf(Locale.ROOT, "%s, N=%d C=%d H=%d W=%d, %d rounds:%n", k.name, k.n, k.c, k.h, k.w, rounds);
        for (int i = 0; i < names.length; i++) {
            double m = median(ms.get(i));
            double min = ms.get(i).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            System.out.printf(Locale.ROOT, "  %-32s median %8.2f ms (%.2fx channels-last)  min %8.2f ms (%.2fx)  runs %s%n",
                    names[i], m, m / base, min, min / baseMin, ms.get(i).stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList());
        }
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }

    private static Tensor random(Shape s) {
        Tensor t = Tensor.allocate(s);
        FloatBuffer f = t.floats();
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0, n = f.capacity(); i < n; i++) {
            f.put(i, (float) r.nextDouble(-4, 4));
        }
        return t;
    }

    private static String arg(String[] args, String key, String def) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return def;
    }
}
