package dev.clpool.spark;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link PoolJob}'s command line: {@code --flag value} or {@code --flag=value}. The pooling flags
 * are the {@code pool} command's ({@code --mode}, {@code --window}, {@code --stride}, {@code --pad},
 * {@code --dilation}, {@code --ceil-mode}, {@code --count-include-pad}, {@code --p}, {@code --backend})
 * and take the same text; they become the {@link Pooling} stage's params, and the stage checks them
 * with the same rules ({@link StageConfig#spec()}). The {@code cli} package's picocli mixins cannot
 * be used here: the command line library stays in the CLI, which never depends on Spark.
 */
record JobOptions(String master, String input, String inputFormat, String output, String outputFormat,
                  String column, Map<String, String> pool) {

    static final String USAGE = "usage: PoolJob [--master URL] --input PATH --input-format image|parquet|json"
            + " --output PATH [--output-format parquet|json] [--column NAME] --mode max|avg|lp --window KH[,KW]"
            + " [--stride SH[,SW]] [--pad P|PH,PW|T,B,L,R|same|same-lower|valid] [--dilation DH[,DW]] [--ceil-mode]"
            + " [--count-include-pad] [--p P] [--backend auto|cpu|opencl]";

    private static final Set<String> VALUED = Set.of("--master", "--input", "--input-format", "--output",
            "--output-format", "--column", "--mode", "--window", "--stride", "--pad", "--dilation", "--p", "--backend");
    private static final Set<String> SWITCHES = Set.of("--ceil-mode", "--count-include-pad");

    /**
     * Parses {@code args}.
     *
     * @throws IllegalArgumentException a flag unknown, repeated, missing its value, or required and absent
     */
    static JobOptions parse(List<String> args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            int eq = a.indexOf('=');
            String name = a.startsWith("--") && eq > 0 ? a.substring(0, eq) : a;
            String value;
            if (SWITCHES.contains(name) && eq < 0) {
                value = "true";
            } else if (VALUED.contains(name)) {
                if (eq > 0) {
                    value = a.substring(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new IllegalArgumentException(name + ": missing its value");
                }
            } else {
                throw new IllegalArgumentException("unknown option " + a);
            }
            if (flags.put(name, value) != null) {
                throw new IllegalArgumentException(name + ": given twice");
            }
        }
        String inputFormat = oneOf(flags, "--input-format", null, "image", "parquet", "json");
        String outputFormat = oneOf(flags, "--output-format", "parquet", "parquet", "json");
        Map<String, String> pool = new LinkedHashMap<>();
        for (String f : List.of("--mode", "--window", "--stride", "--pad", "--dilation", "--ceil-mode",
                "--count-include-pad", "--p", "--backend")) {
            if (flags.containsKey(f)) {
                pool.put(f, flags.get(f));
            }
        }
        require(flags, "--mode");
        require(flags, "--window");
        return new JobOptions(flags.get("--master"), require(flags, "--input"), inputFormat,
                require(flags, "--output"), outputFormat,
                flags.getOrDefault("--column", inputFormat.equals("image") ? "image" : "tensor"), pool);
    }

    /** A {@link Pooling} stage reading {@link #column()} into {@code pooled}, with the pooling flags as params. */
    Pooling stage() {
        Pooling stage = new Pooling().setInputCol(column).setOutputCol("pooled");
        pool.forEach((flag, value) -> {
            switch (flag) {
                case "--mode" -> stage.setMode(value);
                case "--window" -> stage.setWindow(value);
                case "--stride" -> stage.setStride(value);
                case "--pad" -> stage.setPadding(value);
                case "--dilation" -> stage.setDilation(value);
                case "--ceil-mode" -> stage.setCeilMode(true);
                case "--count-include-pad" -> stage.setCountIncludePad(true);
                case "--p" -> stage.setP(number(flag, value));
                case "--backend" -> stage.setBackend(value);
                default -> throw new IllegalStateException(flag);
            }
        });
        return stage;
    }

    private static double number(String flag, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " " + value + ": not a number");
        }
    }

    private static String require(Map<String, String> flags, String name) {
        String v = flags.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + ": required");
        }
        return v;
    }

    private static String oneOf(Map<String, String> flags, String name, String dflt, String... allowed) {
        String v = flags.getOrDefault(name, dflt);
        if (v == null) {
            throw new IllegalArgumentException(name + ": required (" + String.join("|", allowed) + ")");
        }
        if (!List.of(allowed).contains(v)) {
            throw new IllegalArgumentException(name + " " + v + ": must be one of " + String.join(", ", allowed));
        }
        return v;
    }
}
