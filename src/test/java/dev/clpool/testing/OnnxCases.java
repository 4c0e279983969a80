package dev.clpool.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The official ONNX pooling node tests (../shared/conformance/onnx: NCW, NCHW and NCDHW JSON), read
 * in place, each run in its native channels-first layout and transposed to channels-last. Used by
 * the CPU conformance test and by the device conformance test.
 */
public final class OnnxCases {

    /** Cases (or parts of cases) clpool cannot run yet, by name, with the reason. */
    public static final Map<String, String> NOT_RUN = notRun();

    private static Map<String, String> notRun() {
        String roi = "RoiAlign is not a pooling operation of clpool (region-of-interest resampling)";
        Map<String, String> m = new java.util.TreeMap<>();
        // SEMANTICS.md "Unpooling": indices are decoded in the output's shape (PyTorch's rule, which
        // brings an odd-sized input's indices back to their place); this case's expected output
        // decodes them in the default 4x4 shape and places them in the given 5x5 output.
        m.put("test_maxunpool_export_with_output_shape", "its expected output decodes the indices in the default"
                + " shape, not the output shape (SEMANTICS.md, Unpooling)");
        for (String name : List.of("test_roialign_aligned_false", "test_roialign_aligned_true", "test_roialign_mode_max")) {
            m.put(name, roi);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * One case in one layout: its name, input and expected output in {@code layout} (channels-first
     * is the data as ONNX stores it, channels-last the same data transposed), and how to run it.
     * MaxPool cases with an {@code Indices} output also carry the expected indices (in the values'
     * layout; each in ONNX's numbering) and the matching convention (storage_order 0 or 1);
     * MaxUnpool cases carry their indices input ({@code unpoolIndices}, ONNX numbering) and the
     * {@code output_shape} input's spatial sizes, if any; otherwise these are null.
     */
    public record Case(String name, String op, Layout layout, Tensor input, Tensor expected, PoolSpec spec, double rtol,
                       double atol, long[] expectedIndices, IndexConvention indexConvention, long[] unpoolIndices,
                       int[] outputSize) {
        @Override
        public String toString() {
            return name + " " + layout.word();
        }

        /** Runs the case's operation on {@code engine}. */
        public Tensor run(PoolingEngine engine) {
            switch (op) {
                case "GlobalAveragePool": return engine.globalAvg(input);
                case "GlobalMaxPool": return engine.globalMax(input);
                case "MaxUnpool": {
                    Indices i = Indices.allocate(input.tensorShape(), IndexConvention.ONNX);
                    i.longs().put(unpoolIndices);
                    return outputSize == null ? engine.unpool(input, i, spec) : engine.unpool(input, i, spec, outputSize);
                }
                default: return engine.pool(input, spec);
            }
        }

        public boolean exact() {
            return op.contains("Max");
        }

        /** Max exact; everything else with the case's own ONNX tolerance (atol + rtol*|want|). */
        public void check(Tensor got, String where) {
            Assertions.assertEquals(expected.tensorShape(), got.tensorShape(), this + " on " + where + ": shape");
            float[] g = got.toArray();
            float[] w = expected.toArray();
            for (int i = 0; i < g.length; i++) {
                boolean ok = exact() ? Float.compare(g[i], w[i]) == 0
                        : Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]) || (Float.isNaN(g[i]) && Float.isNaN(w[i]));
                if (!ok) {
                    Assertions.fail(this + " on " + where + ": element " + i + " is " + g[i] + ", expected " + w[i]);
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
                c + " on " + where + ": Indices (" + c.indexConvention().word() + ")");
    }

    /** The conformance directory, or null when ../shared is absent. */
    public static Path directory() {
        String prop = System.getProperty("clpool.shared.dir");
        Path shared = prop != null ? Paths.get(prop) : Paths.get("..", "shared");
        Path dir = shared.resolve("conformance").resolve("onnx");
        return Files.isDirectory(dir) ? dir.normalize() : null;
    }

    /**
     * Every runnable case, each in its native layout (channels-first) and transposed to
     * channels-last. Outside CI, when the data is absent, the calling test is skipped with a
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
                for (Layout layout : List.of(Layout.CHANNELS_FIRST, Layout.CHANNELS_LAST)) {
                    out.add(parse(f, name, layout));
                }
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

    private static Case parse(Path file, String name, Layout layout) throws IOException {
        JsonObject root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = JsonParser.parseReader(r).getAsJsonObject();
        }
        String op = root.get("op").getAsString();
        if (!List.of("NCW", "NCHW", "NCDHW").contains(root.get("layout").getAsString())) {
            // New data must not be skipped silently: a case clpool cannot run is listed in NOT_RUN.
            throw new AssertionError(name + ": layout " + root.get("layout").getAsString()
                    + " is not NCW, NCHW or NCDHW and the case is not listed in OnnxCases.NOT_RUN");
        }
        JsonObject a = root.getAsJsonObject("attributes_with_defaults");
        JsonObject tol = root.getAsJsonObject("tolerance");
        JsonArray inputs = root.getAsJsonArray("inputs");
        Tensor x = tensor(inputs.get(0).getAsJsonObject(), layout);
        Tensor y = tensor(root.getAsJsonArray("outputs").get(0).getAsJsonObject(), layout);
        int rank = x.tensorShape().rank();
        PoolSpec spec = op.startsWith("Global") ? null : spec(op, a, rank);
        long[] indices = null;
        IndexConvention convention = null;
        JsonArray outputs = root.getAsJsonArray("outputs");
        if (outputs.size() > 1 && "Indices".equals(outputs.get(1).getAsJsonObject().get("param").getAsString())) {
            indices = longs(outputs.get(1).getAsJsonObject(), layout);
            boolean columnMajor = a.has("storage_order") && a.get("storage_order").getAsInt() == 1;
            convention = columnMajor ? IndexConvention.ONNX_COLUMN_MAJOR : IndexConvention.ONNX;
        }
        long[] unpoolIndices = null;
        int[] outputSize = null;
        if (op.equals("MaxUnpool")) {
            unpoolIndices = longs(inputs.get(1).getAsJsonObject(), layout);
            if (inputs.size() > 2) {
                long[] shape = longs(inputs.get(2).getAsJsonObject(), Layout.CHANNELS_FIRST);
                outputSize = new int[rank];
                for (int i = 0; i < rank; i++) {
                    outputSize[i] = Math.toIntExact(shape[2 + i]);
                }
            }
        }
        return new Case(name, op, layout, x, y, spec, tol.get("rtol").getAsDouble(), tol.get("atol").getAsDouble(),
                indices, convention, unpoolIndices, outputSize);
    }

    /** The pooling spec of a MaxPool, AveragePool, LpPool or MaxUnpool node, every setting per axis. */
    private static PoolSpec spec(String op, JsonObject a, int rank) {
        PoolMode mode = op.equals("AveragePool") ? PoolMode.AVG : op.equals("LpPool") ? PoolMode.LP : PoolMode.MAX;
        PoolSpec.Builder b = PoolSpec.builder(mode).window(ints(a.getAsJsonArray("kernel_shape")))
                .stride(ints(a.getAsJsonArray("strides")));
        if (a.has("dilations")) {
            b.dilation(ints(a.getAsJsonArray("dilations")));
        }
        switch (a.has("auto_pad") ? a.get("auto_pad").getAsString() : "NOTSET") {
            case "SAME_UPPER": b.padding(Padding.SAME); break;
            case "SAME_LOWER": b.padding(Padding.SAME_LOWER); break;
            case "VALID": b.padding(Padding.VALID); break;
            default: {
                int[] p = ints(a.getAsJsonArray("pads")); // ONNX order: every axis' begin, then every end
                b.padding(Padding.perAxis(Arrays.copyOfRange(p, 0, rank), Arrays.copyOfRange(p, rank, 2 * rank)));
            }
        }
        b.ceilMode(a.has("ceil_mode") && a.get("ceil_mode").getAsInt() == 1);
        b.countIncludePad(a.has("count_include_pad") && a.get("count_include_pad").getAsInt() == 1);
        if (a.has("p")) {
            b.p(a.get("p").getAsDouble());
        }
        return b.build();
    }

    /** A channels-first JSON tensor in {@code layout} (uint8 and float32 data both become float32 exactly). */
    private static Tensor tensor(JsonObject t, Layout layout) {
        int[] s = ints(t.getAsJsonArray("shape"));
        JsonArray data = t.getAsJsonArray("data");
        float[] v = new float[data.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = number(data.get(i));
        }
        TensorShape cf = TensorShape.fromDims(s, Layout.CHANNELS_FIRST);
        TensorShape shape = TensorShape.of(cf.n(), cf.c(), cf.spatial(), layout);
        int[] order = storageOrder(cf, layout);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[order[i]] = v[i];
        }
        return Tensor.of(shape, DType.FLOAT32, out);
    }

    /** A channels-first JSON int64 tensor's values in {@code layout}'s order (the values are kept as they are). */
    private static long[] longs(JsonObject t, Layout layout) {
        int[] s = ints(t.getAsJsonArray("shape"));
        JsonArray data = t.getAsJsonArray("data");
        int[] order = s.length < 3 ? null : storageOrder(TensorShape.fromDims(s, Layout.CHANNELS_FIRST), layout);
        long[] out = new long[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[order == null ? i : order[i]] = data.get(i).getAsLong();
        }
        return out;
    }

    /** For each element in channels-first order, its position in {@code layout}'s storage order. */
    private static int[] storageOrder(TensorShape cf, Layout layout) {
        int n = cf.n(), c = cf.c(), plane = Math.toIntExact(cf.spatialSize());
        int[] order = new int[n * c * plane];
        int i = 0;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int q = 0; q < plane; q++, i++) {
                    order[i] = layout == Layout.CHANNELS_FIRST ? i : (b * plane + q) * c + ch;
                }
            }
        }
        return order;
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
