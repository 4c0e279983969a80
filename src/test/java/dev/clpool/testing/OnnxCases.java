package dev.clpool.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.IndexConvention;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The official ONNX pooling node tests (../shared/conformance/onnx, NCHW JSON), read in place and
 * transposed to NHWC. Used by the CPU conformance test and by the device conformance test.
 */
public final class OnnxCases {

    /** Cases (or parts of cases) clpool cannot run yet, by name, with the reason. */
    public static final Map<String, String> NOT_RUN = notRun();

    private static Map<String, String> notRun() {
        String rank1 = "spatial rank 1 (NCW): clpool pools 2-D tensors only so far (issue 13: ranks 1-3, channels-first)";
        String rank3 = "spatial rank 3 (NCDHW): clpool pools 2-D tensors only so far (issue 13: ranks 1-3, channels-first)";
        String unpool = "MaxUnpool is not a clpool operation yet (issue 13: unpooling)";
        String roi = "RoiAlign is not a pooling operation of clpool (region-of-interest resampling)";
        Map<String, String> m = new java.util.TreeMap<>();
        for (String name : List.of("test_averagepool_1d_default", "test_lppool_1d_default", "test_maxpool_1d_default")) {
            m.put(name, rank1);
        }
        for (String name : List.of("test_averagepool_3d_default",
                "test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False",
                "test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True",
                "test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False",
                "test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True",
                "test_averagepool_3d_dilations_small", "test_lppool_3d_default", "test_maxpool_3d_default",
                "test_maxpool_3d_dilations", "test_maxpool_3d_dilations_use_ref_impl",
                "test_maxpool_3d_dilations_use_ref_impl_large")) {
            m.put(name, rank3);
        }
        m.put("test_maxunpool_export_with_output_shape", unpool);
        m.put("test_maxunpool_export_without_output_shape", unpool);
        for (String name : List.of("test_roialign_aligned_false", "test_roialign_aligned_true", "test_roialign_mode_max")) {
            m.put(name, roi);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * One case: its name, NHWC input and expected output, and how to run it. MaxPool cases with an
     * {@code Indices} output also carry the expected indices (in NHWC order, like the values; each
     * in ONNX's numbering) and the matching convention (storage_order 0 or 1); otherwise null.
     */
    public record Case(String name, String op, Tensor input, Tensor expected, PoolSpec spec, double rtol, double atol,
                       long[] expectedIndices, IndexConvention indexConvention) {
        @Override
        public String toString() {
            return name;
        }

        /** Runs the case's operation on {@code engine}. */
        public Tensor run(PoolingEngine engine) {
            switch (op) {
                case "GlobalAveragePool": return engine.globalAvg(input);
                case "GlobalMaxPool": return engine.globalMax(input);
                default: return engine.pool(input, spec);
            }
        }

        public boolean exact() {
            return op.contains("Max");
        }

        /** Max exact; everything else with the case's own ONNX tolerance (atol + rtol*|want|). */
        public void check(Tensor got, String where) {
            Assertions.assertEquals(expected.shape(), got.shape(), name + " on " + where + ": shape");
            float[] g = got.toArray();
            float[] w = expected.toArray();
            for (int i = 0; i < g.length; i++) {
                boolean ok = exact() ? Float.compare(g[i], w[i]) == 0
                        : Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]) || (Float.isNaN(g[i]) && Float.isNaN(w[i]));
                if (!ok) {
                    Assertions.fail(name + " on " + where + ": element " + i + " is " + g[i] + ", expected " + w[i]);
                }
            }
        }
    }

    private OnnxCases() {
    }

    /**
     * For cases with an {@code Indices} output: runs max pooling with indices on {@code engine}
     * in the case's ONNX convention and checks values and indices exactly. Does nothing otherwise.
     */
    public static void checkIndices(Case c, PoolingEngine engine, String where) {
        if (c.expectedIndices() == null) {
            return;
        }
        PooledWithIndices r = engine.poolWithIndices(c.input(), c.spec(), c.indexConvention());
        c.check(r.values(), where + " (with indices)");
        Assertions.assertEquals(c.indexConvention(), r.indices().convention());
        Assertions.assertArrayEquals(c.expectedIndices(), r.indices().toArray(),
                c.name() + " on " + where + ": Indices (" + c.indexConvention().word() + ")");
    }

    /** The conformance directory, or null when ../shared is absent. */
    public static Path directory() {
        String prop = System.getProperty("clpool.shared.dir");
        Path shared = prop != null ? Paths.get(prop) : Paths.get("..", "shared");
        Path dir = shared.resolve("conformance").resolve("onnx");
        return Files.isDirectory(dir) ? dir.normalize() : null;
    }

    /**
     * Every runnable case. Outside CI, when the data is absent, the calling test is skipped with a
     * printed reason; on CI (CI=true) the data must be there.
     */
    public static Stream<Case> runnable() {
        Path dir = directory();
        if (dir == null) {
            String reason = "ONNX conformance data not found (../shared/conformance/onnx; set -Dclpool.shared.dir)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(reason + " - on CI it must be present");
            }
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        List<Case> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                String name = f.getFileName().toString().replace(".json", "");
                if (NOT_RUN.containsKey(name)) {
                    System.out.println("NOT RUN " + name + ": " + NOT_RUN.get(name));
                    continue;
                }
                out.add(parse(f, name));
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read " + dir + ": " + e, e);
        }
        NOT_RUN.forEach((k, why) -> {
            if (k.contains("#")) {
                System.out.println("NOT RUN " + k + ": " + why);
            }
        });
        return out.stream();
    }

    private static Case parse(Path file, String name) throws IOException {
        JsonObject root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = JsonParser.parseReader(r).getAsJsonObject();
        }
        String op = root.get("op").getAsString();
        if (!"NCHW".equals(root.get("layout").getAsString())) {
            // New data must not be skipped silently: a case clpool cannot run is listed in NOT_RUN.
            throw new AssertionError(name + ": layout " + root.get("layout").getAsString()
                    + " is not 2-D NCHW and the case is not listed in OnnxCases.NOT_RUN");
        }
        JsonObject a = root.getAsJsonObject("attributes_with_defaults");
        JsonObject tol = root.getAsJsonObject("tolerance");
        Tensor x = nhwc(root.getAsJsonArray("inputs").get(0).getAsJsonObject());
        Tensor y = nhwc(root.getAsJsonArray("outputs").get(0).getAsJsonObject());
        PoolSpec spec = null;
        if (!op.startsWith("Global")) {
            PoolMode mode = op.equals("MaxPool") ? PoolMode.MAX : op.equals("AveragePool") ? PoolMode.AVG : PoolMode.LP;
            int[] k = ints(a.getAsJsonArray("kernel_shape"));
            int[] s = ints(a.getAsJsonArray("strides"));
            int[] d = ints(a.getAsJsonArray("dilations"));
            PoolSpec.Builder b = PoolSpec.builder(mode).window(k[0], k[1]).stride(s[0], s[1]).dilation(d[0], d[1]);
            switch (a.get("auto_pad").getAsString()) {
                case "SAME_UPPER": b.padding(Padding.SAME); break;
                case "SAME_LOWER": b.padding(Padding.SAME_LOWER); break;
                case "VALID": b.padding(Padding.VALID); break;
                default: {
                    int[] p = ints(a.getAsJsonArray("pads")); // ONNX order: top, left, bottom, right
                    b.padding(Padding.of(p[0], p[2], p[1], p[3]));
                }
            }
            b.ceilMode(a.has("ceil_mode") && a.get("ceil_mode").getAsInt() == 1);
            b.countIncludePad(a.has("count_include_pad") && a.get("count_include_pad").getAsInt() == 1);
            if (a.has("p")) {
                b.p(a.get("p").getAsDouble());
            }
            spec = b.build();
        }
        long[] indices = null;
        IndexConvention convention = null;
        JsonArray outputs = root.getAsJsonArray("outputs");
        if (outputs.size() > 1 && "Indices".equals(outputs.get(1).getAsJsonObject().get("param").getAsString())) {
            indices = nhwcLongs(outputs.get(1).getAsJsonObject());
            boolean columnMajor = a.has("storage_order") && a.get("storage_order").getAsInt() == 1;
            convention = columnMajor ? IndexConvention.ONNX_COLUMN_MAJOR : IndexConvention.ONNX;
        }
        return new Case(name, op, x, y, spec, tol.get("rtol").getAsDouble(), tol.get("atol").getAsDouble(),
                indices, convention);
    }

    /** An NCHW JSON tensor as an NHWC tensor (uint8 and float32 data both become float32 exactly). */
    private static Tensor nhwc(JsonObject t) {
        int[] s = ints(t.getAsJsonArray("shape"));
        int n = s[0], c = s[1], h = s[2], w = s[3];
        JsonArray data = t.getAsJsonArray("data");
        Tensor out = Tensor.allocate(Shape.of(n, h, w, c));
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out.set(b, y, x, ch, number(data.get(i++)));
                    }
                }
            }
        }
        return out;
    }

    /** An NCHW JSON int64 tensor's values in NHWC order (the values are kept as they are). */
    private static long[] nhwcLongs(JsonObject t) {
        int[] s = ints(t.getAsJsonArray("shape"));
        int n = s[0], c = s[1], h = s[2], w = s[3];
        JsonArray data = t.getAsJsonArray("data");
        long[] out = new long[n * h * w * c];
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out[((b * h + y) * w + x) * c + ch] = data.get(i++).getAsLong();
                    }
                }
            }
        }
        return out;
    }

    private static float number(JsonElement e) {
        if (e.getAsJsonPrimitive().isString()) {
            switch (e.getAsString()) {
                case "NaN": return Float.NaN;
                case "Infinity": return Float.POSITIVE_INFINITY;
                case "-Infinity": return Float.NEGATIVE_INFINITY;
                default: throw new IllegalArgumentException("unexpected number " + e);
            }
        }
        return Float.parseFloat(e.getAsString());
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
