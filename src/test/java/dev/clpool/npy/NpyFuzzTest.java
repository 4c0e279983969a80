package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.Fuzz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code .npy} reader under hostile input: thousands of seeded, generated files per run, each
 * of which must be refused with one {@link NpyFormatException} whose message is one line naming
 * the file (or, for random mutations that happen to leave a valid file, read consistently), and
 * never any other exception, never an {@link OutOfMemoryError}, never a large allocation.
 *
 * <p>Every case has its own seed, printed on failure; {@code -Dclpool.fuzz.seed=N} replays a run
 * (see {@link Fuzz}). Plain JUnit: jqwik asks AI coding agents not to use it.
 */
class NpyFuzzTest {

    /** Cases per kind; 17 kinds, so about 5000 inputs in all. */
    private static final int CASES = Fuzz.count(300);

    /** {@code -Dclpool.fuzz.print=true}: print every refusal's problem (to see what the generators reach). */
    private static final boolean PRINT_PROBLEMS = Boolean.getBoolean("clpool.fuzz.print");

    private static final AtomicLong TRIED = new AtomicLong();
    private static final AtomicLong REFUSED = new AtomicLong();
    private static final AtomicLong ACCEPTED = new AtomicLong();
    private static final Map<Kind, Long> ACCEPTED_BY_KIND = new EnumMap<>(Kind.class);

    /** Characters that matter to the header's syntax, for mutations. */
    private static final String PUNCTUATION = "(){}[]',:0123456789-<>fFTrue \n\u0000\"";

    private static final String[] BAD_DTYPES = {
        "'<f8'", "'>f4'", "'<f2'", "'<i4'", "'<i8'", "'|u1'", "'|i1'", "'|b1'", "'<c8'", "'<U4'", "'|S4'",
        "'|O'", "'|V4'", "'f4'", "'=f4'", "'float32'", "'<F4'", "''", "'<f4 '", "' <f4'", "'<f16'",
        "[('a', '<f4')]", "[('x', '<f4'), ('y', '<f4')]", "('<f4',)", "4", "True", "(1, 2)", "'<M8[s]'",
    };

    /** One kind of hostile input; {@code maybeValid} kinds may leave a readable file by chance. */
    enum Kind {
        WRONG_MAGIC(false, NpyFuzzTest::wrongMagic),
        TINY_FILE(false, NpyFuzzTest::tinyFile),
        TRUNCATED_HEADER(false, NpyFuzzTest::truncatedHeader),
        TRUNCATED_DATA(false, NpyFuzzTest::truncatedData),
        TRAILING_DATA(false, NpyFuzzTest::trailingData),
        BAD_VERSION(false, NpyFuzzTest::badVersion),
        LYING_HEADER_LENGTH(false, NpyFuzzTest::lyingHeaderLength),
        ABSURD_SHAPE(false, NpyFuzzTest::absurdShape),
        NON_POSITIVE_DIMENSION(false, NpyFuzzTest::nonPositiveDimension),
        UNSUPPORTED_DTYPE(false, NpyFuzzTest::unsupportedDtype),
        FORTRAN_ORDER(false, NpyFuzzTest::fortranOrder),
        WRONG_RANK(false, NpyFuzzTest::wrongRank),
        MALFORMED_HEADER(false, NpyFuzzTest::malformedHeader),
        HOSTILE_HEADER_SIZE(false, NpyFuzzTest::hostileHeaderSize),
        RANDOM_BYTES(false, NpyFuzzTest::randomBytes),
        MUTATED_HEADER(true, NpyFuzzTest::mutatedHeader),
        MUTATED_FILE(true, NpyFuzzTest::mutatedFile);

        final boolean maybeValid;
        final Function<SplittableRandom, byte[]> generator;

        Kind(boolean maybeValid, Function<SplittableRandom, byte[]> generator) {
            this.maybeValid = maybeValid;
            this.generator = generator;
        }
    }

    @AfterAll
    static void summary() {
        System.out.println("npy fuzz: " + TRIED + " inputs, " + REFUSED + " refused cleanly, " + ACCEPTED
                + " accepted (random mutations that left a valid file: " + ACCEPTED_BY_KIND + "), seed "
                + Fuzz.baseSeed());
    }

    @Test
    void theValidBaseFiles_areAccepted() throws IOException {
        // The generators below corrupt these: make sure the uncorrupted forms really are valid.
        SplittableRandom r = new SplittableRandom(1);
        for (int major = 1; major <= 3; major++) {
            for (int i = 0; i < 20; i++) {
                Shape s = smallShape(r);
                Tensor t = read("ok.npy", npy(major, dict("'<f4'", "False", shapeText(s)), data(r, s)));
                assertEquals(s, t.shape());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void hostileInput_isRefusedWithOneLine_naming_theFile(Kind kind) {
        long t0 = System.nanoTime();
        for (int c = 0; c < CASES; c++) {
            int i = c;
            long seed = Fuzz.caseSeed("npy/" + kind, i);
            SplittableRandom r = new SplittableRandom(seed);
            String name = fileName(r);
            byte[] bytes = kind.generator.apply(r);
            Supplier<String> where = () -> "npy fuzz " + kind + " case " + i + " (case seed " + seed + ", "
                    + Fuzz.replayHint() + ", file name " + name.replace("\n", "\\n") + ", " + bytes.length + " bytes: "
                    + Fuzz.hex(bytes, 160) + ")";
            TRIED.incrementAndGet();
            try {
                Tensor t = read(name, bytes);
                if (!kind.maybeValid) {
                    fail(where.get() + ": accepted as " + t.shape() + ", expected a refusal");
                }
                assertEquals(bytes.length - dataOffset(bytes), t.shape().elementCount() * Float.BYTES,
                        () -> where.get() + ": accepted with a shape that does not match the data");
                ACCEPTED.incrementAndGet();
                synchronized (ACCEPTED_BY_KIND) {
                    ACCEPTED_BY_KIND.merge(kind, 1L, Long::sum);
                }
            } catch (NpyFormatException e) {
                String m = e.getMessage();
                assertTrue(m.startsWith(NpyFormatException.oneLine(name, 200) + ": "),
                        () -> where.get() + ": message must start with the file name: " + m);
                assertTrue(m.lines().count() == 1 && !m.contains("\r") && !m.contains("\u2028"),
                        () -> where.get() + ": not one line: " + m);
                assertTrue(e.problem().strip().length() > 5, () -> where.get() + ": no problem named: " + m);
                REFUSED.incrementAndGet();
                if (PRINT_PROBLEMS) {
                    System.out.println(kind + ": " + e.problem().substring(0, Math.min(90, e.problem().length())));
                }
            } catch (Throwable e) {
                fail(where.get() + ": " + e, e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, kind + ": " + CASES + " cases took " + ms + " ms");
    }

    // ---- generators ----

    private static byte[] wrongMagic(SplittableRandom r) {
        byte[] f = validFile(r);
        int changes = 1 + r.nextInt(3);
        for (int k = 0; k < changes; k++) {
            int i = r.nextInt(6);
            byte b;
            do {
                b = (byte) r.nextInt(256);
            } while (b == Npy.MAGIC[i]);
            f[i] = b;
        }
        return f;
    }

    private static byte[] tinyFile(SplittableRandom r) {
        byte[] f = validFile(r);
        int prefix = f[6] == 1 ? 10 : 12;
        return java.util.Arrays.copyOf(f, r.nextInt(prefix));
    }

    private static byte[] truncatedHeader(SplittableRandom r) {
        byte[] f = validFile(r);
        int start = dataOffset(f);
        int prefix = f[6] == 1 ? 10 : 12;
        return java.util.Arrays.copyOf(f, prefix + r.nextInt(start - prefix));
    }

    private static byte[] truncatedData(SplittableRandom r) {
        byte[] f = validFile(r);
        int start = dataOffset(f);
        return java.util.Arrays.copyOf(f, start + r.nextInt(f.length - start));
    }

    private static byte[] trailingData(SplittableRandom r) {
        byte[] f = validFile(r);
        byte[] extra = new byte[1 + r.nextInt(r.nextBoolean() ? 4 : 300)];
        r.nextBytes(extra);
        return concat(f, extra);
    }

    private static byte[] badVersion(SplittableRandom r) {
        byte[] f = validFile(r);
        if (r.nextBoolean()) {
            int major;
            do {
                major = r.nextInt(256);
            } while (major >= 1 && major <= 3);
            f[6] = (byte) major;
        } else {
            f[7] = (byte) (1 + r.nextInt(255));
        }
        return f;
    }

    private static byte[] lyingHeaderLength(SplittableRandom r) {
        byte[] f = validFile(r);
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        if (f[6] == 1) {
            int real = Short.toUnsignedInt(b.getShort(8));
            int lie;
            do {
                lie = r.nextBoolean() ? r.nextInt(65536) : real + (r.nextBoolean() ? 1 : -1) * (1 + r.nextInt(8));
            } while (lie == real || lie < 0 || lie > 0xFFFF);
            b.putShort(8, (short) lie);
        } else {
            long real = Integer.toUnsignedLong(b.getInt(8));
            long lie;
            do {
                lie = switch (r.nextInt(3)) {
                    case 0 -> 0xFFFFFFFFL - r.nextInt(16);
                    case 1 -> real + (r.nextBoolean() ? 1 : -1) * (1 + r.nextInt(8));
                    default -> r.nextLong(1L << 32);
                };
            } while (lie == real || lie < 0 || lie > 0xFFFFFFFFL);
            b.putInt(8, (int) lie);
        }
        return f;
    }

    private static byte[] absurdShape(SplittableRandom r) {
        String[] huge = {
            "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616",
            "99999999999999999999999999999999999999", "1000000000000000000000000000000000000000",
            "536870912", "536870913", "65536", "100000", "3037000500",
        };
        String[] dims = new String[4];
        for (int i = 0; i < 4; i++) {
            dims[i] = Integer.toString(1 + r.nextInt(8));
        }
        int k = 1 + r.nextInt(4);
        for (int j = 0; j < k; j++) {
            dims[r.nextInt(4)] = huge[r.nextInt(huge.length)];
        }
        if (r.nextInt(4) == 0) { // more digits than any reader should take
            dims[r.nextInt(4)] = "9".repeat(41 + r.nextInt(200));
        }
        String shape = "(" + String.join(", ", dims) + ")";
        // Small data whatever the shape says: sizes must be checked before memory is reserved.
        byte[] data = new byte[4 * r.nextInt(64)];
        return npy(1 + r.nextInt(3), dict("'<f4'", "False", shape), data);
    }

    private static byte[] nonPositiveDimension(SplittableRandom r) {
        String[] dims = new String[4];
        for (int i = 0; i < 4; i++) {
            dims[i] = Integer.toString(1 + r.nextInt(4));
        }
        String[] bad = {"0", "-1", "-0", "-2147483648", "-9223372036854775809", "-" + "9".repeat(30)};
        dims[r.nextInt(4)] = bad[r.nextInt(bad.length)];
        if (r.nextBoolean()) {
            dims[r.nextInt(4)] = bad[r.nextInt(bad.length)];
        }
        return npy(1 + r.nextInt(3), dict("'<f4'", "False", "(" + String.join(", ", dims) + ")"), new byte[4 * r.nextInt(9)]);
    }

    private static byte[] unsupportedDtype(SplittableRandom r) {
        Shape s = smallShape(r);
        String descr = BAD_DTYPES[r.nextInt(BAD_DTYPES.length)];
        int item = r.nextBoolean() ? 4 : 8;
        return npy(1 + r.nextInt(3), dict(descr, "False", shapeText(s)), new byte[(int) s.elementCount() * item]);
    }

    private static byte[] fortranOrder(SplittableRandom r) {
        Shape s = smallShape(r);
        return npy(1 + r.nextInt(3), dict("'<f4'", "True", shapeText(s)), data(r, s));
    }

    private static byte[] wrongRank(SplittableRandom r) {
        int rank;
        do {
            rank = r.nextInt(12);
        } while (rank == 4);
        StringBuilder shape = new StringBuilder("(");
        long count = 1;
        for (int i = 0; i < rank; i++) {
            int d = 1 + r.nextInt(3);
            count *= d;
            shape.append(d).append(i == 0 && rank == 1 ? "," : i + 1 < rank ? ", " : "");
        }
        shape.append(')');
        return npy(1 + r.nextInt(3), dict("'<f4'", "False", shape.toString()), new byte[(int) count * 4]);
    }

    private static byte[] malformedHeader(SplittableRandom r) {
        Shape s = smallShape(r);
        String shape = shapeText(s);
        String[] bad = {
            "", "{", "}", "{}", "[]", "None", "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'shape': " + shape + "}",
            "{'fortran_order': False, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", 'extra': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': false, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [" + s.n() + ", " + s.h() + ", " + s.w() + ", " + s.c() + "]}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (" + s.n() + ", " + s.h() + ", " + s.w() + ", 'x')}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.0, 1, 1, 1)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (0x1, 1, 1, 1)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (01, 1, 1, 1)}",
            "{'descr': '<f4, 'fortran_order': False, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "} trailing",
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "}}",
            "{'descr': '<f4' 'fortran_order': False, 'shape': " + shape + "}",
            "{'descr': '<\\x66\\x34', 'fortran_order': False, 'shape': " + shape + "}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(17 + r.nextInt(5000)) + "1",
            "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape.replace(")", "") + "}",
            "{'descr': '<f4',\n 'fortran_order': False,\r 'shape': " + shape + ", } \u0000",
            "{descr: '<f4', fortran_order: False, shape: " + shape + "}",
            "\u00ff\u00fe{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "}",
        };
        String text = bad[r.nextInt(bad.length)];
        return npy(1 + r.nextInt(3), text, data(r, s));
    }

    private static byte[] hostileHeaderSize(SplittableRandom r) {
        Shape s = smallShape(r);
        switch (r.nextInt(4)) {
            case 0: {
                // Invalid UTF-8 in a format 3.0 header.
                byte[] f = npy(3, dict("'<f4'", "False", shapeText(s)), data(r, s));
                f[12 + 2 + r.nextInt(5)] = (byte) (0x80 + r.nextInt(0x40));
                return f;
            }
            case 1: {
                // A header longer than the reader's 1 MiB limit, actually present in the file.
                byte[] head = preamble(2, Npy.MAX_HEADER_BYTES + 1 + r.nextInt(1000));
                return concat(head, new byte[Npy.MAX_HEADER_BYTES + 2000]);
            }
            case 2: {
                // Deep nesting right at the limit of the header size: the parser must not recurse on it.
                String text = "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(100_000 + r.nextInt(1000));
                return npy(2, text, new byte[0]);
            }
            default: {
                // Spaces and newlines only (a header that says nothing).
                return npy(1 + r.nextInt(3), " ".repeat(r.nextInt(200)) + "\n".repeat(r.nextInt(3)), data(r, s));
            }
        }
    }

    private static byte[] randomBytes(SplittableRandom r) {
        byte[] f = new byte[r.nextInt(400)];
        r.nextBytes(f);
        if (f.length >= 8 && r.nextBoolean()) {
            System.arraycopy(Npy.MAGIC, 0, f, 0, 6); // get past the magic, then garbage
            if (r.nextBoolean()) {
                f[6] = (byte) (1 + r.nextInt(3));
                f[7] = 0;
            }
        }
        return f;
    }

    private static byte[] mutatedHeader(SplittableRandom r) {
        byte[] f = validFile(r);
        int end = dataOffset(f);
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            int at = r.nextInt(end);
            f[at] = switch (r.nextInt(4)) {
                case 0 -> (byte) r.nextInt(256);
                case 1 -> (byte) (f[at] ^ (1 << r.nextInt(8)));
                case 2 -> (byte) PUNCTUATION.charAt(r.nextInt(PUNCTUATION.length()));
                default -> (byte) (f[at] + (r.nextBoolean() ? 1 : -1));
            };
        }
        return f;
    }

    private static byte[] mutatedFile(SplittableRandom r) {
        byte[] f = validFile(r);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int edits = 1 + r.nextInt(3);
        int[] at = new int[edits];
        for (int i = 0; i < edits; i++) {
            at[i] = r.nextInt(f.length);
        }
        java.util.Arrays.sort(at);
        int k = 0;
        for (int i = 0; i < f.length; i++) {
            boolean edited = false;
            while (k < edits && at[k] == i) {
                switch (r.nextInt(3)) {
                    case 0 -> out.write(r.nextInt(256)); // insert a byte
                    case 1 -> edited = true; // delete this byte
                    default -> {
                        out.write(r.nextInt(256)); // replace it
                        edited = true;
                    }
                }
                k++;
            }
            if (!edited) {
                out.write(f[i]);
            }
        }
        return out.toByteArray();
    }

    // ---- building files ----

    private static byte[] validFile(SplittableRandom r) {
        Shape s = smallShape(r);
        return npy(1 + r.nextInt(3), dict("'<f4'", "False", shapeText(s)), data(r, s));
    }

    private static Shape smallShape(SplittableRandom r) {
        return Shape.of(1 + r.nextInt(3), 1 + r.nextInt(4), 1 + r.nextInt(4), 1 + r.nextInt(5));
    }

    private static String shapeText(Shape s) {
        return "(" + s.n() + ", " + s.h() + ", " + s.w() + ", " + s.c() + ")";
    }

    private static String dict(String descr, String fortran, String shape) {
        return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
    }

    private static byte[] data(SplittableRandom r, Shape s) {
        byte[] d = new byte[(int) s.elementCount() * 4];
        r.nextBytes(d);
        return d;
    }

    /** Magic, version and header length (2 bytes for format 1.0, 4 for 2.0 and 3.0). */
    private static byte[] preamble(int major, long headerLength) {
        int prefix = major == 1 ? 10 : 12;
        ByteBuffer b = ByteBuffer.allocate(prefix).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt((int) headerLength);
        }
        return b.array();
    }

    /** A file as NumPy lays it out: the header text padded with spaces and a newline to 64 bytes. */
    static byte[] npy(int major, String headerText, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        byte[] text = headerText.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int len = text.length + 1;
        len += (64 - (prefix + len) % 64) % 64;
        if (major == 1 && len > 0xFFFF) {
            throw new IllegalArgumentException("a format 1.0 header holds at most 65535 bytes");
        }
        ByteBuffer b = ByteBuffer.allocate(prefix + len + data.length);
        b.put(preamble(major, len));
        b.put(text);
        while (b.position() < prefix + len - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        b.put(data);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** Where the data starts according to the file's own (valid) preamble. */
    private static int dataOffset(byte[] f) {
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        return f[6] == 1 ? 10 + Short.toUnsignedInt(b.getShort(8)) : 12 + b.getInt(8);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String fileName(SplittableRandom r) {
        String[] names = {"x.npy", "input.npy", "with space.npy", "new\nline.npy", "tab\t.npy", "é.npy",
            "\u2028sep.npy", "dir/../x.npy", "x".repeat(300) + ".npy"};
        return names[r.nextInt(names.length)];
    }

    private static Tensor read(String name, byte[] bytes) throws IOException {
        return Npy.readTensor(name, new BytesChannel(bytes));
    }
}
