package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import dev.clpool.testing.Fuzz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The command line in-process ({@code --backend cpu}) under seeded random bad requests: bad files,
 * malformed and out-of-range numbers, windows that do not fit, flags for the wrong mode, unknown
 * and missing flags, bad output paths. Every one must exit 2 with exactly one line on stderr (and
 * nothing else printed anywhere: no stack trace, no log line, no usage text), and leave no output
 * or temporary file behind. Each case prints its seed and arguments on failure ({@link Fuzz}).
 */
// Alone, not beside another test class (the unit tests run two classes at a time): it replaces
// System.out and System.err and requires nothing printed there: another class's log line would fail
// it.
@Isolated
class CliFuzzTest {
    private static final int CASES = Fuzz.count(60);

    @TempDir
    static Path dir;

    private static Path input;
    private static Path out;
    private static final List<Path> BAD_FILES = new ArrayList<>();
    private static List<Path> BAD_DIR_BEFORE;

    private static final AtomicLong TRIED = new AtomicLong();
    private static final AtomicLong CLEAN = new AtomicLong();

    /** One kind of bad request: builds the arguments from a random source. */
    enum Kind {
        BAD_INPUT_FILE(CliFuzzTest::badInputFile),
        MALFORMED_NUMBER(CliFuzzTest::malformedNumber),
        OUT_OF_RANGE(CliFuzzTest::outOfRange),
        WINDOW_DOES_NOT_FIT(CliFuzzTest::windowDoesNotFit),
        FLAG_FOR_WRONG_MODE(CliFuzzTest::flagForWrongMode),
        UNKNOWN_OR_MISSING(CliFuzzTest::unknownOrMissing),
        BAD_CHOICE(CliFuzzTest::badChoice),
        BAD_OUTPUT(CliFuzzTest::badOutput),
        ABSURD_GEOMETRY(CliFuzzTest::absurdGeometry);

        final BiFunction<SplittableRandom, Path, List<String>> args;

        Kind(BiFunction<SplittableRandom, Path, List<String>> args) {
            this.args = args;
        }
    }

    @BeforeAll
    static void files() throws IOException {
        input = dir.resolve("x.npy");
        float[] v = new float[6 * 6 * 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 7 - 3;
        }
        Npy.writeTensor(input, Tensor.of(Shape.of(1, 6, 6, 2), v));
        out = Files.createDirectories(dir.resolve("out"));
        Path bad = Files.createDirectories(dir.resolve("bad"));
        BAD_FILES.add(Files.write(bad.resolve("empty.npy"), new byte[0]));
        BAD_FILES.add(Files.write(bad.resolve("text.npy"), "not numpy\n".getBytes(StandardCharsets.UTF_8)));
        byte[] good = Files.readAllBytes(input);
        BAD_FILES.add(Files.write(bad.resolve("truncated.npy"), Arrays.copyOf(good, good.length - 5)));
        BAD_FILES.add(Files.write(bad.resolve("header-only.npy"), Arrays.copyOf(good, 40)));
        BAD_FILES.add(Files.write(bad.resolve("f8.npy"), header("'<f8'", "False", "(1, 2, 2, 1)", 32)));
        // Ranks 3 to 5 are tensors of spatial rank 1 to 3; 2 and 6 are not.
        BAD_FILES.add(Files.write(bad.resolve("rank2.npy"), header("'<f4'", "False", "(2, 2)", 16)));
        BAD_FILES.add(Files.write(bad.resolve("rank6.npy"), header("'<f4'", "False", "(1, 1, 1, 2, 2, 1)", 16)));
        BAD_FILES.add(Files.write(bad.resolve("fortran.npy"), header("'<f4'", "True", "(1, 2, 2, 1)", 16)));
        BAD_FILES.add(Files.write(bad.resolve("huge.npy"), header("'<f4'", "False", "(1000000, 1000000, 1, 1)", 16)));
        BAD_FILES.add(Files.write(bad.resolve("zero-dim.npy"), header("'<f4'", "False", "(1, 0, 2, 1)", 0)));
        BAD_FILES.add(Files.write(bad.resolve("big-endian.npy"), header("'>f4'", "False", "(1, 2, 2, 1)", 16)));
        BAD_FILES.add(Files.createDirectories(bad.resolve("a-directory.npy")));
        BAD_FILES.add(bad.resolve("does-not-exist.npy"));
        BAD_FILES.add(bad.resolve("no-such-dir").resolve("x.npy"));
        // The one file that is valid but too small for every window the fuzz uses.
        Npy.writeTensor(bad.resolve("one-pixel.npy"), Tensor.of(Shape.of(1, 1, 1, 1), 1f));
        try (Stream<Path> s = Files.list(bad)) {
            BAD_DIR_BEFORE = s.toList();
        }
    }

    @AfterAll
    static void summary() {
        System.out.println("cli fuzz: " + TRIED + " invocations, " + CLEAN
                + " exited 2 with one line on stderr and left no file, seed " + Fuzz.baseSeed());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void badRequest_exits2_withOneLine_andLeavesNoFile(Kind kind) throws IOException {
        Path output = out.resolve("y.npy");
        for (int c = 0; c < CASES; c++) {
            long seed = Fuzz.caseSeed("cli/" + kind, c);
            SplittableRandom r = new SplittableRandom(seed);
            List<String> args = kind.args.apply(r, output);
            String where = "cli fuzz " + kind + " case " + c + " (case seed " + seed + ", " + Fuzz.replayHint()
                    + ") args " + args.stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
            TRIED.incrementAndGet();

            StringWriter stdout = new StringWriter();
            StringWriter stderr = new StringWriter();
            ByteArrayOutputStream stray = new ByteArrayOutputStream();
            PrintStream oldOut = System.out;
            PrintStream oldErr = System.err;
            int code;
            try (PrintStream capture = new PrintStream(stray, true, StandardCharsets.UTF_8)) {
                System.setOut(capture);
                System.setErr(capture);
                code = Main.commandLine(new PrintWriter(stdout, true), new PrintWriter(stderr, true))
                        .execute(args.toArray(String[]::new));
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
            String err = stderr.toString();
            assertEquals(2, code, where + ": exit code, stderr: " + err);
            assertTrue(err.startsWith("clpool: ") && err.endsWith("\n") && err.strip().lines().count() == 1,
                    where + ": expected exactly one line on stderr, got: " + err);
            assertTrue(!err.contains("\tat ") && !err.contains("Exception") && !err.contains("Error"),
                    where + ": stack trace or exception name on stderr: " + err);
            assertEquals("", stdout.toString(), where + ": nothing on stdout");
            assertEquals("", stray.toString(StandardCharsets.UTF_8), where + ": nothing printed outside the command's writers");
            try (Stream<Path> left = Files.list(out); Stream<Path> bad = Files.list(dir.resolve("bad"))) {
                List<Path> files = Stream.concat(left, bad.filter(f -> !BAD_DIR_BEFORE.contains(f))).toList();
                assertTrue(files.isEmpty(), where + ": files left behind: " + files);
            }
            CLEAN.incrementAndGet();
            if (Boolean.getBoolean("clpool.fuzz.print")) {
                System.out.print(kind + ": " + err);
            }
        }
    }

    // ---- generators: each returns arguments that must be refused ----

    private static List<String> badInputFile(SplittableRandom r, Path output) {
        Path bad = BAD_FILES.get(r.nextInt(BAD_FILES.size()));
        return r.nextBoolean() ? pool(r, bad, output) : global(r, bad, output);
    }

    private static List<String> malformedNumber(SplittableRandom r, Path output) {
        String[] junk = {"", " ", "x", "3x", "x3", "2,", ",2", "1,2,3", "1,,2", "99999999999", "-", "+", "0x3",
            "3.5", "1e2", "NaN", "3 3", "3;rm -rf /", "\u0000", "\n", "2x3x4", "1,2,3,4,5", "--", "3,", "\u096fx"};
        String flag = pick(r, "--window", "--stride", "--dilation", "--pad", "--p", "--device");
        String value = junk[r.nextInt(junk.length)];
        if (flag.equals("--p") && positiveNumber(value)) {
            value = "3,5"; // a valid exponent is not a malformed number
        }
        if (flag.equals("--device") && value.strip().matches("\\d+|0x\\d+") && value.length() < 10) {
            value = "nine"; // the CPU backend ignores a valid device number
        }
        List<String> a = new ArrayList<>(List.of("pool", "--input", input.toString(), "--output", output.toString(),
                "--backend", "cpu"));
        boolean lp = flag.equals("--p");
        a.addAll(List.of("--mode", lp ? "lp" : "max"));
        if (!flag.equals("--window")) {
            a.addAll(List.of("--window", "2"));
        }
        a.addAll(List.of(flag, value));
        return shuffleFlags(r, a);
    }

    private static List<String> outOfRange(SplittableRandom r, Path output) {
        List<String> a = base(output, "max");
        switch (r.nextInt(7)) {
            case 0 -> a.addAll(List.of("--window", pick(r, "0", "-1", "2,0", "0,2", "-2147483648", "3,-3")));
            case 1 -> a.addAll(List.of("--window", "2", "--stride", pick(r, "0", "-1", "1,0", "0,1", "-7")));
            case 2 -> a.addAll(List.of("--window", "2", "--dilation", pick(r, "0", "-1", "1,0", "-3,1")));
            case 3 -> a.addAll(List.of("--window", "2", "--pad", pick(r, "-1", "0,-1", "1,1,1,-1", "-5,0,0,0")));
            case 4 -> { // padding at or above the effective window
                int k = 1 + r.nextInt(3);
                a.addAll(List.of("--window", Integer.toString(k), "--pad", Integer.toString(k + r.nextInt(3))));
            }
            case 5 -> {
                a.set(a.indexOf("max"), "lp");
                a.addAll(List.of("--window", "2", "--p", pick(r, "0", "-1", "-0.0", "NaN", "Infinity", "-Infinity", "0.0")));
            }
            default -> a.addAll(List.of("--window", "2", "--device", pick(r, "-1", "-2147483648")));
        }
        return shuffleFlags(r, a);
    }

    private static List<String> windowDoesNotFit(SplittableRandom r, Path output) {
        // The input is 6x6 (or 1x1): the effective window must exceed the padded size on some axis.
        boolean tiny = r.nextInt(4) == 0;
        int size = tiny ? 1 : 6;
        Path in = tiny ? dir.resolve("bad").resolve("one-pixel.npy") : input;
        int k = size + 1 + r.nextInt(r.nextBoolean() ? 3 : 100_000);
        String window = r.nextBoolean() ? Integer.toString(k) : (r.nextBoolean() ? "1," + k : k + ",1");
        List<String> a = new ArrayList<>(List.of("pool", "--input", in.toString(), "--output", output.toString(),
                "--backend", "cpu", "--mode", pick(r, "max", "avg", "lp"), "--window", window));
        if (r.nextBoolean()) {
            a.add("--ceil-mode");
        }
        if (r.nextBoolean() && !tiny) {
            // dilation pushes a small window past the input
            a.set(a.indexOf(window), "2");
            a.addAll(List.of("--dilation", Integer.toString(size + r.nextInt(50))));
        }
        return shuffleFlags(r, a);
    }

    private static List<String> flagForWrongMode(SplittableRandom r, Path output) {
        switch (r.nextInt(5)) {
            case 0: {
                List<String> a = base(output, pick(r, "max", "avg"));
                a.addAll(List.of("--window", "2", "--p", pick(r, "1", "2", "3.5")));
                return shuffleFlags(r, a);
            }
            case 1: {
                List<String> a = base(output, pick(r, "max", "lp"));
                a.addAll(List.of("--window", "2", "--count-include-pad"));
                return shuffleFlags(r, a);
            }
            case 2: {
                List<String> a = base(output, pick(r, "median", "MAX", "Max", "sum", "", "l2", "avg ", "min"));
                a.addAll(List.of("--window", "2"));
                return shuffleFlags(r, a);
            }
            case 3:
                return new ArrayList<>(List.of("global", "--input", input.toString(), "--output", output.toString(),
                        "--backend", "cpu", "--mode", pick(r, "lp", "median", "")));
            default:
                // pool flags that global does not have
                return new ArrayList<>(List.of("global", "--input", input.toString(), "--output", output.toString(),
                        "--backend", "cpu", "--mode", "avg", pick(r, "--window", "--stride", "--pad"), "2"));
        }
    }

    private static List<String> unknownOrMissing(SplittableRandom r, Path output) {
        List<String> a = base(output, "max");
        a.addAll(List.of("--window", "2"));
        switch (r.nextInt(6)) {
            case 0 -> a.add(r.nextInt(a.size() + 1), pick(r, "--bogus", "-x", "--windows=2", "---window", "--", "extra"));
            case 1 -> { // drop a required option with its value
                int i = a.indexOf(pick(r, "--input", "--output", "--mode", "--window"));
                a.remove(i);
                a.remove(i);
            }
            case 2 -> { // an option without its value, last
                a.add(pick(r, "--window", "--stride", "--pad", "--input", "--output", "--mode", "--backend", "--p"));
                return a;
            }
            case 3 -> a.set(0, pick(r, "poool", "Pool", "pool2d", "", "help-me", "--pool")); // unknown command
            case 4 -> a.addAll(List.of(pick(r, "--window", "--mode", "--input"), pick(r, "3", "avg"))); // given twice
            default -> a.add(pick(r, "\u202e", "é", "--\u00a0window", "-"));
        }
        return shuffleFlags(r, a);
    }

    private static List<String> badChoice(SplittableRandom r, Path output) {
        List<String> a = base(output, "max");
        a.addAll(List.of("--window", "2"));
        int i = a.indexOf("--backend");
        if (r.nextBoolean()) {
            a.set(i + 1, pick(r, "gpu", "CPU", "cuda", "", "opencl,cpu", "auto "));
        } else {
            a.addAll(List.of("--binding", pick(r, "cuda", "JOCL", "", "lwjgl3", "jogamp")));
        }
        return shuffleFlags(r, a);
    }

    private static List<String> badOutput(SplittableRandom r, Path output) {
        Path target = switch (r.nextInt(3)) {
            case 0 -> out.resolve("missing-dir").resolve("y.npy");
            case 1 -> out.resolve("a").resolve("b").resolve("y.npy");
            default -> dir.resolve("bad").resolve("a-directory.npy"); // an existing directory
        };
        // valid requests: only the output is wrong
        return r.nextBoolean() ? pool(r, input, target) : global(r, input, target);
    }

    private static List<String> absurdGeometry(SplittableRandom r, Path output) {
        List<String> a = base(output, pick(r, "max", "avg"));
        switch (r.nextInt(4)) {
            case 0 -> a.addAll(List.of("--window", "2", "--dilation", pick(r, "2147483647", "1073741825", "2147483647,1")));
            case 1 -> a.addAll(List.of("--window", pick(r, "2147483647", "1073741824,1", "1,2147483647")));
            case 2 -> a.addAll(List.of("--window", "46341", "--pad", "46340", "--stride", "1")); // output beyond one tensor
            default -> a.addAll(List.of("--window", "2", "--stride", "2147483647", "--dilation", "1073741824"));
        }
        return shuffleFlags(r, a);
    }

    // ---- helpers ----

    private static List<String> base(Path output, String mode) {
        return new ArrayList<>(List.of("pool", "--input", input.toString(), "--output", output.toString(),
                "--backend", "cpu", "--mode", mode));
    }

    /** A valid pool request on {@code in} (so that only the file is at fault). */
    private static List<String> pool(SplittableRandom r, Path in, Path output) {
        PoolMode mode = pick(r, PoolMode.MAX, PoolMode.AVG, PoolMode.LP);
        return new ArrayList<>(List.of("pool", "--input", in.toString(), "--output", output.toString(), "--backend", "cpu",
                "--mode", mode.word(), "--window", "1", "--stride", "1"));
    }

    private static List<String> global(SplittableRandom r, Path in, Path output) {
        return new ArrayList<>(List.of("global", "--input", in.toString(), "--output", output.toString(), "--backend", "cpu",
                "--mode", pick(r, "avg", "max")));
    }

    /** Reorders the options (keeping each value after its flag): order must not matter. */
    private static List<String> shuffleFlags(SplittableRandom r, List<String> a) {
        if (a.isEmpty() || r.nextInt(3) != 0 || a.stream().skip(1).anyMatch(v -> v.equals("--") || v.startsWith("--\u00a0"))) {
            return a;
        }
        List<List<String>> groups = new ArrayList<>();
        for (int i = 1; i < a.size(); i++) {
            String s = a.get(i);
            if (s.startsWith("--") && i + 1 < a.size() && !a.get(i + 1).startsWith("--")
                    && !s.equals("--ceil-mode") && !s.equals("--count-include-pad")) {
                groups.add(List.of(s, a.get(++i)));
            } else {
                groups.add(List.of(s));
            }
        }
        for (int i = groups.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            List<String> t = groups.get(i);
            groups.set(i, groups.get(j));
            groups.set(j, t);
        }
        List<String> outArgs = new ArrayList<>(List.of(a.get(0)));
        groups.forEach(outArgs::addAll);
        return outArgs;
    }

    private static boolean positiveNumber(String s) {
        try {
            double d = Double.parseDouble(s);
            return d > 0 && d < Double.POSITIVE_INFINITY;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @SafeVarargs
    private static <T> T pick(SplittableRandom r, T... options) {
        return options[r.nextInt(options.length)];
    }

    private static byte[] header(String descr, String fortran, String shape, int dataBytes) {
        String dict = "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
        int len = dict.length() + 1;
        len += (64 - (10 + len) % 64) % 64;
        byte[] f = new byte[10 + len + dataBytes];
        System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) len, (byte) (len >> 8)}, 0, f, 0, 10);
        byte[] text = dict.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, f, 10, text.length);
        Arrays.fill(f, 10 + text.length, 10 + len - 1, (byte) ' ');
        f[10 + len - 1] = '\n';
        return f;
    }

}
