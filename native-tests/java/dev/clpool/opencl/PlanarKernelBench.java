package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import dev.clpool.Axis;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
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
 * channels-last one ({@code pool2d_nhwc.cl}) on the same bytes (for 3-D, against its two passes), and against the channels-last
 * kernel on the C = 1 view (N·C batch items of one channel: what lowering channels-first onto the
 * channels-last kernels runs), all on device-resident tensors (kernel time: each run ends with
 * clFinish). Variants alternate within each round (the order rotating); medians and minima are
 * reported (the minimum is the steadier figure on a shared machine), with the ratios
 * channels-first / channels-last and C = 1 view / channels-last.
 *
 * <pre>
 * mvn -B -o test-compile    # native-tests compile with the test sources
 * mvn -B -o dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) dev.clpool.opencl.PlanarKernelBench \
 *     [rounds=7] [binding=lwjgl] [case=max|avg|3d]
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
            if ("3d".startsWith(only)) {
                run3d(backend, rounds);
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
        try (ResidentTensor in = backend.upload(x); ResidentTensor inView = backend.upload(Tensor.wrap(view, x.buffer()));
             ResidentTensor out = backend.allocate(g.output()); ResidentTensor outView = backend.allocate(gv.output())) {
            List<List<Double>> ms = measure(backend, rounds,
                    () -> backend.pool(g, in, out),
                    () -> backend.poolPlanar(pg, inView, outView),
                    () -> backend.pool(gv, inView, outView));
            report(String.format(Locale.ROOT, "%s, N=%d C=%d H=%d W=%d, %d rounds:", k.name, k.n, k.c, k.h, k.w, rounds),
                    new String[] {"channels-last kernel, NHWC", "channels-first kernel, NCHW", "channels-last kernel, C=1 view"}, ms);
        }
    }

    /**
     * 3-D max 3x3x3 s2 p1 over (N, C, D, H, W) = (4, 64, 16, 56, 56): the channels-first kernel in
     * one pass; the 2-D channels-last kernel in two (rows and columns of every depth slice, then
     * depth: how the engine lowers 3-D, exact for max) on the same bytes; the channels-first kernel
     * in the same two passes; and the two passes of the channels-last kernel on the C = 1 view.
     */
    private static void run3d(OpenClBackend backend, int rounds) {
        int n = 4;
        int c = 64;
        int d = 16;
        int h = 56;
        int w = 56;
        PoolSpec plane = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec depth = PoolSpec.max(3, 1).stride(2, 1).padding(Padding.of(1, 1, 0, 0)).build();
        PoolGeometry g1 = plane.geometry(Shape.of(n * d, h, w, c));
        int oh = g1.output().h();
        int ow = g1.output().w();
        PoolGeometry g2 = depth.geometry(Shape.of(n, d, oh * ow, c));
        PoolGeometry v1 = plane.geometry(Shape.of(n * c * d, h, w, 1));
        PoolGeometry v2 = depth.geometry(Shape.of(n * c, d, oh * ow, 1));
        PlanarGeometry direct = new PlanarGeometry(n * c, new Axis[] {v2.rows(), v1.rows(), v1.cols()}, PoolMode.MAX, 0, false);
        PlanarGeometry p1 = new PlanarGeometry(n * c * d, new Axis[] {v1.rows(), v1.cols()}, PoolMode.MAX, 0, false);
        PlanarGeometry p2 = new PlanarGeometry(n * c, new Axis[] {v2.rows(), v2.cols()}, PoolMode.MAX, 0, false);
        Tensor x = random(g1.input());
        try (ResidentTensor in = backend.upload(x); ResidentTensor inView = backend.upload(Tensor.wrap(v1.input(), x.buffer()));
             ResidentTensor mid = backend.allocate(g1.output()); ResidentTensor out = backend.allocate(g2.output());
             ResidentTensor midView = backend.allocate(v1.output()); ResidentTensor outView = backend.allocate(v2.output())) {
            // The second pass reads the first's output as another shape: through the routine, on the buffers.
            PoolRoutine pool = backend.poolRoutine();
            List<List<Double>> ms = measure(backend, rounds,
                    () -> {
                        pool.enqueue(g1, DType.FLOAT32, buffer(in), buffer(mid), n * d);
                        pool.enqueue(g2, DType.FLOAT32, buffer(mid), buffer(out), n);
                    },
                    () -> backend.poolPlanar(direct, inView, outView),
                    () -> {
                        backend.poolPlanar(p1, inView, midView);
                        backend.poolPlanar(p2, midView, outView);
                    },
                    () -> {
                        pool.enqueue(v1, DType.FLOAT32, buffer(inView), buffer(midView), n * c * d);
                        pool.enqueue(v2, DType.FLOAT32, buffer(midView), buffer(outView), n * c);
                    });
            report(String.format(Locale.ROOT, "3-D max 3x3x3 s2 p1, N=%d C=%d D=%d H=%d W=%d, %d rounds:", n, c, d, h, w, rounds),
                    new String[] {"channels-last, 2 passes, NDHWC", "channels-first kernel, NCDHW", "channels-first, 2 passes",
                        "2 passes, C=1 view"}, ms);
        }
    }

    private static ClBuffer buffer(ResidentTensor t) {
        return ((ResidentBuffer) t).buffer();
    }

    /** One untimed run of each variant (it builds the programs), then rounds of all, the order rotating. */
    private static List<List<Double>> measure(OpenClBackend backend, int rounds, Runnable... variants) {
        List<List<Double>> ms = new ArrayList<>();
        for (Runnable v : variants) {
            v.run();
            backend.finish();
            ms.add(new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < variants.length; i++) {
                int j = (i + r) % variants.length;
                long t0 = System.nanoTime();
                variants[j].run();
                backend.finish();
                ms.get(j).add((System.nanoTime() - t0) / 1e6);
            }
        }
        return ms;
    }

    /** Medians and minima, each as a ratio to the first variant's. */
    private static void report(String title, String[] names, List<List<Double>> ms) {
        double base = median(ms.get(0));
        double baseMin = min(ms.get(0));
        System.out.println(title);
        for (int i = 0; i < names.length; i++) {
            double m = median(ms.get(i));
            double least = min(ms.get(i));
            System.out.printf(Locale.ROOT, "  %-32s median %8.2f ms (%.2fx)  min %8.2f ms (%.2fx)  runs %s%n",
                    names[i], m, m / base, least, least / baseMin,
                    ms.get(i).stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList());
        }
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
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
