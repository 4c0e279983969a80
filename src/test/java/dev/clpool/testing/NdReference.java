package dev.clpool.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.Layout;
import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The independent N-D reference data (src/test/resources/reference/nd): its manifest and the
 * {@code .npy} files it names, written by {@code tools/reference/make_nd_reference.py} (float64
 * NumPy reference of SEMANTICS.md, cross-checked against PyTorch 1.13; docs/tests.md).
 *
 * <p>Each case holds the same arrays in both layouts: inputs {@code <f4}, float outputs {@code <f8}
 * (the float64 reference), indices {@code <i8}. This class only reads what the files say; running
 * the cases is the tests' business.
 */
public final class NdReference {

    /** Classpath directory of the manifest and its files. */
    public static final String RESOURCE = "/reference/nd";

    /** The operations the manifest uses. */
    public static final List<String> OPS = List.of("pool", "pool_with_indices", "backward", "adaptive", "global",
            "unpool");

    private static volatile NdReference loaded;

    private final Path dir;
    private final double tolerance;
    private final List<Case> cases;

    private NdReference(Path dir, double tolerance, List<Case> cases) {
        this.dir = dir;
        this.tolerance = tolerance;
        this.cases = cases;
    }

    /**
     * One case as the manifest gives it. Spec fields a case does not use are null (for example
     * {@code window} of a global case); {@code padding} is a word ({@code valid}, {@code same},
     * {@code same-lower}) or null, and then {@code padBegin}/{@code padEnd} hold explicit padding
     * per axis (null too when the case has no padding at all).
     */
    public record Case(String name, String op, int rank, String mode, int[] window, int[] stride, int[] dilation,
                       String padding, int[] padBegin, int[] padEnd, boolean ceilMode, boolean countIncludePad,
                       Double p, String indexConvention, int[] outputSize, Map<String, Map<Layout, String>> inputs,
                       Map<String, Map<Layout, String>> outputs, List<String> torch, String torchSkip) {
        @Override
        public String toString() {
            return name;
        }

        /** The file of input or output {@code array} in {@code layout}. */
        public String file(String array, Layout layout) {
            Map<Layout, String> files = inputs.containsKey(array) ? inputs.get(array) : outputs.get(array);
            if (files == null) {
                throw new IllegalArgumentException(name + " has no array " + array);
            }
            return files.get(layout);
        }
    }

    /** The manifest, read once. */
    public static NdReference load() {
        NdReference r = loaded;
        if (r == null) {
            synchronized (NdReference.class) {
                if (loaded == null) {
                    loaded = read(resourceDir());
                }
                r = loaded;
            }
        }
        return r;
    }

    /** Reads the manifest in {@code dir}. */
    public static NdReference read(Path dir) {
        JsonObject root;
        try (Reader r = Files.newBufferedReader(dir.resolve("manifest.json"))) {
            root = JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException e) {
            throw new AssertionError("cannot read " + dir.resolve("manifest.json") + ": " + e, e);
        }
        List<Case> cases = new ArrayList<>();
        for (JsonElement e : root.getAsJsonArray("cases")) {
            cases.add(parse(e.getAsJsonObject()));
        }
        return new NdReference(dir, root.get("tolerance").getAsDouble(), Collections.unmodifiableList(cases));
    }

    private static Path resourceDir() {
        URL url = NdReference.class.getResource(RESOURCE + "/manifest.json");
        if (url == null) {
            throw new AssertionError("reference data " + RESOURCE + "/manifest.json is not on the test classpath");
        }
        try {
            return Paths.get(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    public List<Case> cases() {
        return cases;
    }

    /** The relative tolerance the manifest states (SEMANTICS.md's 4e-6). */
    public double tolerance() {
        return tolerance;
    }

    /** Reads array {@code array} of case {@code c} in {@code layout}. */
    public NpyArray array(Case c, String array, Layout layout) {
        String file = c.file(array, layout);
        try {
            return NpyArray.read(dir.resolve(file));
        } catch (IOException e) {
            throw new AssertionError(c.name() + ": cannot read " + file + ": " + e, e);
        }
    }

    /** The directory of the manifest. */
    public Path directory() {
        return dir;
    }

    private static Case parse(JsonObject o) {
        int[] begin = null;
        int[] end = null;
        String word = null;
        JsonElement pad = o.get("padding");
        if (pad != null && pad.isJsonPrimitive()) {
            word = pad.getAsString();
        } else if (pad != null) {
            JsonArray axes = pad.getAsJsonArray();
            begin = new int[axes.size()];
            end = new int[axes.size()];
            for (int a = 0; a < axes.size(); a++) {
                begin[a] = axes.get(a).getAsJsonArray().get(0).getAsInt();
                end[a] = axes.get(a).getAsJsonArray().get(1).getAsInt();
            }
        }
        return new Case(o.get("name").getAsString(), o.get("op").getAsString(), o.get("rank").getAsInt(),
                string(o, "mode"), ints(o, "window"), ints(o, "stride"), ints(o, "dilation"), word, begin, end,
                o.has("ceil_mode") && o.get("ceil_mode").getAsBoolean(),
                o.has("count_include_pad") && o.get("count_include_pad").getAsBoolean(),
                o.has("p") ? o.get("p").getAsDouble() : null, string(o, "index_convention"), ints(o, "output_size"),
                files(o.getAsJsonObject("inputs")), files(o.getAsJsonObject("outputs")), strings(o, "torch"),
                string(o, "torch_skip"));
    }

    private static Map<String, Map<Layout, String>> files(JsonObject o) {
        Map<String, Map<Layout, String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            Map<Layout, String> byLayout = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> f : e.getValue().getAsJsonObject().entrySet()) {
                byLayout.put(Layout.parse(f.getKey()), f.getValue().getAsString());
            }
            out.put(e.getKey(), Collections.unmodifiableMap(byLayout));
        }
        return Collections.unmodifiableMap(out);
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }

    private static List<String> strings(JsonObject o, String key) {
        if (!o.has(key)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        o.getAsJsonArray(key).forEach(e -> out.add(e.getAsString()));
        return List.copyOf(out);
    }

    private static int[] ints(JsonObject o, String key) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            return null;
        }
        JsonArray a = o.getAsJsonArray(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
