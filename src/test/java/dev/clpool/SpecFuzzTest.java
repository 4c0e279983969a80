package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.testing.Fuzz;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random invalid pooling specs through the API (builder, {@link Padding}, {@link PoolSpec#parse},
 * {@link PoolSpec#geometry}, global pooling): each is refused with an {@link InvalidSpecException}
 * whose {@link InvalidSpecException#field()} is one of the known fields and whose message starts
 * with it, never with another exception. Then random specs over edge values, valid or not: never
 * anything but a valid geometry or an {@link InvalidSpecException}, and {@link PoolSpec#check}
 * agrees. Seeds as in {@link Fuzz}.
 */
class SpecFuzzTest {
    static final Set<String> FIELDS = Set.of("mode", "window", "stride", "dilation", "padding", "p", "setting");

    private static final int CASES = Fuzz.count(400);
    private static final Map<String, Long> REFUSED_BY_FIELD = new TreeMap<>();
    private static final AtomicLong INVALID_TRIED = new AtomicLong();
    private static final AtomicLong RANDOM_TRIED = new AtomicLong();
    private static final AtomicLong RANDOM_VALID = new AtomicLong();

    private static final int[] EDGE = {Integer.MIN_VALUE, -1000, -2, -1, 0, 1, 2, 3, 5, 7, 64, 1 << 16, 46341,
        1 << 30, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};

    /** One kind of invalid request; the generator returns the field it must be refused for. */
    enum Kind {
        WINDOW_NOT_POSITIVE(SpecFuzzTest::windowNotPositive),
        STRIDE_NOT_POSITIVE(SpecFuzzTest::strideNotPositive),
        DILATION_NOT_POSITIVE(SpecFuzzTest::dilationNotPositive),
        EFFECTIVE_WINDOW_OVERFLOW(SpecFuzzTest::effectiveWindowOverflow),
        NEGATIVE_PADDING(SpecFuzzTest::negativePadding),
        PADDING_NOT_BELOW_WINDOW(SpecFuzzTest::paddingNotBelowWindow),
        BAD_P(SpecFuzzTest::badP),
        WINDOW_LARGER_THAN_INPUT(SpecFuzzTest::windowLargerThanInput),
        WINDOW_COVERS_NO_INPUT(SpecFuzzTest::windowCoversNoInput),
        PADDED_SIZE_OVERFLOW(SpecFuzzTest::paddedSizeOverflow),
        PARSE_GARBAGE(SpecFuzzTest::parseGarbage),
        GLOBAL_LP(SpecFuzzTest::globalLp);

        final Function<SplittableRandom, String> attempt;

        Kind(Function<SplittableRandom, String> attempt) {
            this.attempt = attempt;
        }
    }

    @AfterAll
    static void summary() {
        long refused = REFUSED_BY_FIELD.values().stream().mapToLong(Long::longValue).sum();
        System.out.println("spec fuzz: " + INVALID_TRIED + " invalid specs, " + refused
                + " refused with InvalidSpecException naming the field " + REFUSED_BY_FIELD + "; "
                + RANDOM_TRIED + " random edge-value specs, " + RANDOM_VALID + " valid, the rest refused the same way; seed "
                + Fuzz.baseSeed());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void invalidSpec_isRefused_namingItsField(Kind kind) {
        for (int c = 0; c < CASES; c++) {
            long seed = Fuzz.caseSeed("spec/" + kind, c);
            String where = "spec fuzz " + kind + " case " + c + " (case seed " + seed + ", " + Fuzz.replayHint() + ")";
            INVALID_TRIED.incrementAndGet();
            String expected;
            try {
                expected = kind.attempt.apply(new SplittableRandom(seed));
            } catch (InvalidSpecException e) {
                fail(where + ": refused while building the case itself: " + e.getMessage(), e);
                return;
            } catch (Refused r) {
                InvalidSpecException e = r.cause;
                assertTrue(FIELDS.contains(e.field()), where + ": unknown field " + e.field() + ": " + e.getMessage());
                assertEquals(r.expectedField, e.field(), where + ": " + e.getMessage());
                assertTrue(e.getMessage().startsWith(e.field() + " "), where + ": message must start with the field: " + e.getMessage());
                assertTrue(e.getMessage().lines().count() == 1, where + ": one line: " + e.getMessage());
                synchronized (REFUSED_BY_FIELD) {
                    REFUSED_BY_FIELD.merge(e.field(), 1L, Long::sum);
                }
                continue;
            } catch (RuntimeException | Error e) {
                fail(where + ": " + e, e);
                return;
            }
            fail(where + ": accepted, expected a refusal naming " + expected);
        }
    }

    @Test
    void randomEdgeValueSpecs_areValidOrRefusedCleanly_andCheckAgrees() {
        for (int c = 0; c < Fuzz.count(4000); c++) {
            long seed = Fuzz.caseSeed("spec/random", c);
            SplittableRandom r = new SplittableRandom(seed);
            String where = "spec fuzz random case " + c + " (case seed " + seed + ", " + Fuzz.replayHint() + ")";
            RANDOM_TRIED.incrementAndGet();
            int h = edgeDim(r);
            int w = edgeDim(r);
            boolean huge = Math.max(h, w) > 100_000;
            Shape shape = huge ? Shape.of(1, h, w, 1) : Shape.of(1 + r.nextInt(3), h, w, 1 + r.nextInt(4));
            PoolSpec spec;
            try {
                PoolSpec.Builder b = PoolSpec.builder(pick(r, PoolMode.values())).window(edge(r), edge(r));
                if (r.nextBoolean()) {
                    b.stride(edge(r), edge(r));
                }
                if (r.nextBoolean()) {
                    b.dilation(edge(r), edge(r));
                }
                b.padding(switch (r.nextInt(5)) {
                    case 0 -> Padding.SAME;
                    case 1 -> Padding.SAME_LOWER;
                    case 2 -> Padding.VALID;
                    default -> Padding.of(pad(r), pad(r), pad(r), pad(r));
                });
                b.ceilMode(r.nextBoolean()).countIncludePad(r.nextBoolean());
                if (r.nextBoolean()) {
                    b.p(pick(r, 0.0, -1.0, 0.5, 2.0, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE, 1e308));
                }
                spec = b.build();
                if (spec.mode() == PoolMode.LP || spec.p() == 2.0) {
                    // (toString() leaves out p unless the mode is lp, while equals() compares it)
                    assertEquals(spec, PoolSpec.parse(spec.toString()), where + ": toString must parse back");
                }
            } catch (InvalidSpecException e) {
                assertTrue(FIELDS.contains(e.field()), where + ": unknown field " + e.field());
                continue;
            } catch (RuntimeException | Error e) {
                fail(where + ": " + e, e);
                return;
            }
            if ((shape.h() > 100_000 && spec.strideH() < 1000) || (shape.w() > 100_000 && spec.strideW() < 1000)) {
                continue; // geometry() visits every output position: keep the run fast
            }
            Optional<String> why = spec.check(shape);
            try {
                PoolGeometry g = spec.geometry(shape);
                assertTrue(why.isEmpty(), where + ": check() refused what geometry() accepts: " + why);
                assertTrue(g.output().h() >= 1 && g.output().w() >= 1, where);
                assertTrue(g.rows().count(0) >= 1 && g.cols().count(g.cols().out() - 1) >= 1, where);
                assertTrue(g.divisor(0, 0) >= 1, where + ": divisor " + g.divisor(0, 0));
                RANDOM_VALID.incrementAndGet();
            } catch (InvalidSpecException e) {
                assertTrue(FIELDS.contains(e.field()), where + ": unknown field " + e.field());
                assertEquals(Optional.of(e.getMessage()), why, where + ": check() must give geometry()'s reason");
            } catch (RuntimeException | Error e) {
                fail(where + ": " + e, e);
            }
        }
    }

    // Regressions found by this fuzz: PoolSpec.parse took "ceil=0" as ceil mode on, and named a
    // missing pad value's field "pad" instead of "padding".

    @Test
    void parse_bareWordWithAValue_isRefused_notTakenAsOn() {
        for (String t : new String[] {"max k=3 ceil=0", "max k=3 ceil=1", "avg k=3 include-pad=false"}) {
            InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> PoolSpec.parse(t), t);
            assertEquals("setting", e.field(), e.getMessage());
        }
        assertTrue(PoolSpec.parse("max k=3 ceil").ceilMode());
    }

    @Test
    void parse_padWithoutValue_namesThePaddingField() {
        InvalidSpecException e = assertThrows(InvalidSpecException.class,
                () -> PoolSpec.parse("max k=3 pad"));
        assertEquals("padding", e.field(), e.getMessage());
    }

    // ---- invalid cases: each throws Refused (the field expected and the exception) ----

    /** Carries the refusal out of a generator together with the field the case targets. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String expectedField;
        final transient InvalidSpecException cause;

        Refused(String expectedField, InvalidSpecException cause) {
            super(cause);
            this.expectedField = expectedField;
            this.cause = cause;
        }
    }

    /** Runs {@code body}, which must refuse the request for {@code field}. */
    private static String expect(String field, Runnable body) {
        try {
            body.run();
        } catch (InvalidSpecException e) {
            throw new Refused(field, e);
        }
        return field;
    }

    private static String windowNotPositive(SplittableRandom r) {
        int bad = nonPositive(r);
        int other = r.nextBoolean() ? 1 + r.nextInt(5) : nonPositive(r);
        PoolSpec.Builder b = PoolSpec.builder(pick(r, PoolMode.values()));
        return expect("window", () -> (r.nextBoolean() ? b.window(bad, other) : b.window(other, bad)).build());
    }

    private static String strideNotPositive(SplittableRandom r) {
        int bad = nonPositive(r);
        int other = r.nextBoolean() ? 1 + r.nextInt(5) : nonPositive(r);
        boolean first = r.nextBoolean();
        return expect("stride", () -> PoolSpec.max(2, 2).stride(first ? bad : other, first ? other : bad).build());
    }

    private static String dilationNotPositive(SplittableRandom r) {
        int bad = nonPositive(r);
        return expect("dilation", () -> PoolSpec.avg(2, 3).dilation(r.nextBoolean() ? bad : 1, bad).build());
    }

    private static String effectiveWindowOverflow(SplittableRandom r) {
        // (k - 1) * d + 1 > 2^31 - 1 with every factor valid
        int k = 2 + r.nextInt(1000);
        int d = (int) Math.min(Integer.MAX_VALUE, (Integer.MAX_VALUE / (k - 1)) + 1 + r.nextInt(1000));
        boolean rows = r.nextBoolean();
        return expect("dilation", () -> PoolSpec.max(rows ? k : 1, rows ? 1 : k).dilation(rows ? d : 1, rows ? 1 : d).build());
    }

    private static String negativePadding(SplittableRandom r) {
        int[] v = {r.nextInt(3), r.nextInt(3), r.nextInt(3), r.nextInt(3)};
        int bad = nonPositive(r);
        v[r.nextInt(4)] = bad == 0 ? -1 : bad;
        return expect("padding", () -> {
            if (r.nextBoolean()) {
                Padding.of(v[0], v[1], v[2], v[3]);
            } else {
                Padding.parse(v[0] + "," + v[1] + "," + v[2] + "," + v[3]);
            }
        });
    }

    private static String paddingNotBelowWindow(SplittableRandom r) {
        int k = 1 + r.nextInt(4);
        int d = 1 + r.nextInt(3);
        int e = (k - 1) * d + 1;
        int[] v = {r.nextInt(e), r.nextInt(e), r.nextInt(e), r.nextInt(e)};
        v[r.nextInt(4)] = e + r.nextInt(r.nextBoolean() ? 3 : Integer.MAX_VALUE - e);
        return expect("padding", () -> PoolSpec.builder(pick(r, PoolMode.values())).window(k).dilation(d)
                .padding(Padding.of(v[0], v[1], v[2], v[3])).build());
    }

    private static String badP(SplittableRandom r) {
        double p = pick(r, 0.0, -0.0, -1.0, -Double.MIN_VALUE, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, -1e308, -r.nextDouble() * 100);
        if (r.nextInt(4) == 0) {
            return expect("p", () -> PoolSpec.parse("lp k=2 p=" + pick(r, "0", "-1", "NaN", "Infinity", "x", "", "1e400")));
        }
        return expect("p", () -> PoolSpec.builder(pick(r, PoolMode.values())).window(2).p(p).build());
    }

    private static String windowLargerThanInput(SplittableRandom r) {
        Shape s = Shape.of(1, 1 + r.nextInt(20), 1 + r.nextInt(20), 1 + r.nextInt(3));
        boolean rows = r.nextBoolean();
        int in = rows ? s.h() : s.w();
        int d = 1 + r.nextInt(3);
        // effective window beyond the padded size (padding below the window, as it must be)
        int k = in / d + 2 + r.nextInt(r.nextBoolean() ? 3 : 100_000);
        int e = (k - 1) * d + 1;
        int pad = r.nextBoolean() ? 0 : Math.max(0, (e - in - 1) / 2 - 1 - r.nextInt(2));
        PoolSpec spec = PoolSpec.builder(pick(r, PoolMode.values())).window(rows ? k : 1, rows ? 1 : k)
                .dilation(rows ? d : 1, rows ? 1 : d).ceilMode(r.nextBoolean())
                .padding(rows ? Padding.of(pad, pad, 0, 0) : Padding.of(0, 0, pad, pad)).build();
        return expect("window", () -> spec.geometry(s));
    }

    private static String windowCoversNoInput(SplittableRandom r) {
        // Dilated taps that step over a small input: k = 2, d > in, padding puts tap 0 before the input
        int in = 1 + r.nextInt(3);
        int d = in + 1 + r.nextInt(5);
        int pad = 1 + r.nextInt(d - in); // tap 0 at -pad, tap 1 at d - pad >= in: both outside
        int end = d + 1 - in - pad + r.nextInt(2); // enough trailing padding for one output (and < d + 1)
        Shape s = Shape.of(1, in, in, 1);
        PoolSpec spec = PoolSpec.builder(pick(r, PoolMode.values())).window(2, 1).dilation(d, 1)
                .padding(Padding.of(pad, end, 0, 0)).build();
        return expect("padding", () -> spec.geometry(s));
    }

    private static String paddedSizeOverflow(SplittableRandom r) {
        // in + top + bottom beyond 2^31 - 1: shapes only (no tensor), every number valid on its own
        int in = (1 << 30) + r.nextInt(1 << 29);
        int k = (1 << 30) + r.nextInt(1 << 29);
        int pad = k - 1 - r.nextInt(1000);
        boolean rows = r.nextBoolean();
        Shape s = rows ? Shape.of(1, in, 1, 1) : Shape.of(1, 1, in, 1);
        PoolSpec spec = PoolSpec.max(rows ? k : 1, rows ? 1 : k).stride(Integer.MAX_VALUE)
                .padding(rows ? Padding.of(pad, pad, 0, 0) : Padding.of(0, 0, pad, pad)).build();
        return expect("padding", () -> spec.geometry(s));
    }

    private static String parseGarbage(SplittableRandom r) {
        String[][] cases = {
            {"mode", ""}, {"mode", "median k=3"}, {"mode", "MAXX k=3"}, {"mode", "k=3"},
            {"window", "max"}, {"window", "max s=2"}, {"window", "max k="}, {"window", "max k=x"}, {"window", "max k=3x3x3x3"},
            {"window", "avg k=0"}, {"window", "max k=-1x2"}, {"window", "max k=99999999999"},
            {"stride", "max k=3 s=0"}, {"stride", "max k=3 s=a"}, {"stride", "max k=3 s"},
            {"dilation", "max k=3 d=0x1"}, {"dilation", "max k=3 d=,"},
            {"padding", "max k=3 pad=-1"}, {"padding", "max k=3 pad=1,2,3"}, {"padding", "max k=3 pad=same-upper"},
            {"padding", "max k=3 pad=3"}, {"padding", "max k=3 pad"},
            {"setting", "max k=3 stride=2"}, {"setting", "max k=3 ceil=1"}, {"setting", "max k=3 =3"},
            {"p", "lp k=3 p="}, {"p", "lp k=3 p=abc"}, {"p", "lp k=3 p=-2"},
        };
        String[] c = cases[r.nextInt(cases.length)];
        String text = r.nextBoolean() ? c[1] : "  " + c[1].replace(" ", "\t ") + " ";
        return expect(c[0], () -> PoolSpec.parse(text));
    }

    private static String globalLp(SplittableRandom r) {
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(1).build()) {
            Tensor x = Tensor.allocate(Shape.of(1, 1 + r.nextInt(3), 1 + r.nextInt(3), 1));
            double p = r.nextBoolean() ? -r.nextInt(3) : r.nextBoolean() ? Double.NaN : Double.POSITIVE_INFINITY;
            return expect("p", () -> engine.globalLp(x, p));
        }
    }

    // ---- helpers ----

    private static int nonPositive(SplittableRandom r) {
        return pick(r, 0, -1, -2, Integer.MIN_VALUE, -r.nextInt(Integer.MAX_VALUE));
    }

    private static int edge(SplittableRandom r) {
        return r.nextInt(4) == 0 ? EDGE[r.nextInt(EDGE.length)] : r.nextInt(8) == 0 ? r.nextInt(-2, 1) : r.nextInt(1, 9);
    }

    private static int pad(SplittableRandom r) {
        return r.nextInt(5) == 0 ? EDGE[r.nextInt(EDGE.length)] : r.nextInt(4);
    }

    private static int edgeDim(SplittableRandom r) {
        return r.nextInt(4) == 0 ? pick(r, 1 << 20, 1 << 30, Integer.MAX_VALUE) : 1 + r.nextInt(40);
    }

    @SafeVarargs
    private static <T> T pick(SplittableRandom r, T... options) {
        return options[r.nextInt(options.length)];
    }
}
