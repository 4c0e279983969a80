package dev.clpool.npy;

import dev.clpool.DType;
import dev.clpool.Layout;
import dev.clpool.Shape;
import dev.clpool.TensorShape;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The header dictionary of a {@code .npy} file, for example
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 4, 1), }}.
 *
 * <p>{@link #parse} reads the subset of Python literal syntax that NumPy's own reader accepts for
 * a header (strings in either quote, {@code True}/{@code False}, integers, tuples, lists), with any
 * whitespace, any key order and optional trailing commas; everything else, and any key but the
 * three NumPy defines, is an error. The values are checked only for their Python type here; what
 * clpool supports (dtype, order, rank) is the reader's business.
 *
 * @param descr        the dtype: a {@code String} such as {@code "<f4"}, or a list for a structured dtype
 * @param fortranOrder the {@code fortran_order} flag
 * @param shape        the dimensions, as written (they may be zero, negative or huge)
 */
record NpyHeader(Object descr, boolean fortranOrder, List<BigInteger> shape) {

    /** NumPy aligns the data to this many bytes (NumPy >= 1.23 writes 64). */
    static final int ALIGN = 64;

    /** Axis names in storage order, per layout and array rank 3, 4, 5: for error messages. */
    private static final String[][] LAST_AXES = {{"N", "W", "C"}, {"N", "H", "W", "C"}, {"N", "D", "H", "W", "C"}};
    private static final String[][] FIRST_AXES = {{"N", "C", "W"}, {"N", "C", "H", "W"}, {"N", "C", "D", "H", "W"}};

    /** Spare room NumPy leaves after the dict so that the first axis can grow in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    /** Deepest nesting of tuples and lists accepted (a structured dtype needs 3). */
    private static final int MAX_DEPTH = 16;

    /** Longest integer literal accepted: far beyond any real dimension, short enough to stay cheap. */
    private static final int MAX_DIGITS = 40;

    NpyHeader {
        Objects.requireNonNull(descr, "descr");
        shape = List.copyOf(shape);
    }

    /** A Python tuple, so that {@code (1, 2)} and {@code [1, 2]} stay apart. */
    record Tuple(List<Object> items) {
    }

    /**
     * The complete header of a C-order array, {@code descr} and {@code shape} as NumPy's
     * {@code np.save} writes it: magic, version, length, dict, space padding, {@code '\n'}, the
     * whole a multiple of {@link #ALIGN} bytes. Format 1.0 unless the header does not fit in its
     * 16-bit length, then 2.0.
     */
    static byte[] encode(String descr, Shape shape) {
        return encode(descr, new int[] {shape.n(), shape.h(), shape.w(), shape.c()});
    }

    /** {@link #encode(String, Shape)} for an array of any rank &ge; 2 with dimensions {@code dims}. */
    static byte[] encode(String descr, int[] dims) {
        StringBuilder tuple = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            tuple.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + tuple + "), }";
        dict += " ".repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(dims[0]).length());
        byte[] text = dict.getBytes(StandardCharsets.US_ASCII);
        int hlen = text.length + 1; // the final '\n'
        int major = 1;
        int prefix = 10;
        int padded = hlen + ALIGN - (prefix + hlen) % ALIGN;
        if (padded > 0xFFFF) {
            major = 2;
            prefix = 12;
            padded = hlen + ALIGN - (prefix + hlen) % ALIGN;
        }
        byte[] out = new byte[prefix + padded];
        System.arraycopy(Npy.MAGIC, 0, out, 0, Npy.MAGIC.length);
        out[6] = (byte) major;
        out[7] = 0;
        for (int i = 0; i < prefix - 8; i++) {
            out[8 + i] = (byte) (padded >>> (8 * i));
        }
        System.arraycopy(text, 0, out, prefix, text.length);
        for (int i = prefix + text.length; i < out.length - 1; i++) {
            out[i] = ' ';
        }
        out[out.length - 1] = '\n';
        return out;
    }

    /** The tensor type of the header's dtype: {@code <f4} or {@code <f2}; anything else is refused. */
    static DType tensorDtype(String name, NpyHeader header) throws NpyFormatException {
        Object found = header.descr();
        if (Npy.FLOAT32.equals(found)) {
            return DType.FLOAT32;
        }
        if (Npy.FLOAT16.equals(found)) {
            return DType.FLOAT16;
        }
        // A string with stray characters (such as '<f4 ') is quoted so the message shows them.
        String shown = found instanceof String s ? (s.strip().equals(s) ? s : "'" + s + "'") : repr(found);
        String why = shown.startsWith(">") ? " (big-endian byte order)" : "";
        throw new NpyFormatException(name, "dtype " + shown + " not supported" + why + ", expected "
                + Npy.FLOAT32 + " or " + Npy.FLOAT16);
    }

    /**
     * Checks order, rank and size (at most {@code max} elements per {@code what}); returns the shape
     * of the array: rank 4 channels-last when {@code layout} is null, else rank 3 to 5 in {@code layout}.
     */
    static TensorShape checkTensorHeader(String name, NpyHeader header, Layout layout, long max, String what)
            throws NpyFormatException {
        if (header.fortranOrder()) {
            throw new NpyFormatException(name, "Fortran order not supported, expected C order");
        }
        List<BigInteger> dims = header.shape();
        int rank = dims.size();
        if (layout == null && rank != 4) {
            throw new NpyFormatException(name, "rank " + rank + " not supported, expected a 4-D NHWC array");
        }
        if (rank < 3 || rank > 5) {
            throw new NpyFormatException(name, "rank " + rank + " not supported, expected 3, 4 or 5 ("
                    + (layout == Layout.CHANNELS_FIRST ? "N, C, [D,] [H,] W" : "N, [D,] [H,] W, C")
                    + ": spatial rank 1 to 3, " + layout.word() + ")");
        }
        String[] axes = (layout == Layout.CHANNELS_FIRST ? FIRST_AXES : LAST_AXES)[rank - 3];
        String shapeText = repr(new Tuple(List.copyOf(dims)));
        BigInteger count = BigInteger.ONE;
        for (int i = 0; i < rank; i++) {
            BigInteger d = dims.get(i);
            if (d.signum() <= 0) {
                throw new NpyFormatException(name, "dimension " + axes[i] + " of shape " + shapeText + " is " + d
                        + ", expected >= 1");
            }
            count = count.multiply(d);
        }
        if (count.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new NpyFormatException(name, "shape " + shapeText + " has " + count
                    + " elements, more than the limit of " + max + " per " + what);
        }
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = dims.get(i).intValueExact();
        }
        return TensorShape.fromDims(d, layout == null ? Layout.CHANNELS_LAST : layout);
    }

    /**
     * Parses the decoded header text.
     *
     * @param fileName for error messages
     * @throws NpyFormatException {@code malformed header: ...} naming what is wrong and where
     */
    static NpyHeader parse(String fileName, String text) throws NpyFormatException {
        return new Parser(fileName, text).header();
    }

    /** Python's {@code repr} of a parsed value, for messages. */
    static String repr(Object value) {
        if (value instanceof String s) {
            return "'" + s + "'";
        }
        if (value instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (value instanceof Tuple t) {
            List<String> parts = t.items().stream().map(NpyHeader::repr).toList();
            return parts.size() == 1 ? "(" + parts.get(0) + ",)" : "(" + String.join(", ", parts) + ")";
        }
        if (value instanceof List<?> l) {
            return "[" + String.join(", ", l.stream().map(NpyHeader::repr).toList()) + "]";
        }
        return String.valueOf(value);
    }

    /** Recursive descent over the header text; one instance per parse. */
    private static final class Parser {
        private final String fileName;
        private final String s;
        private int pos;
        private int depth;

        Parser(String fileName, String text) {
            this.fileName = fileName;
            this.s = text;
        }

        NpyHeader header() throws NpyFormatException {
            skipSpace();
            expect('{', "'{' (the header must be a Python dict)");
            Object descr = null;
            Object fortran = null;
            Object shape = null;
            skipSpace();
            while (peek() != '}') {
                int keyAt = pos;
                if (peek() != '\'' && peek() != '"') {
                    throw fail("a quoted key or '}'");
                }
                String key = string();
                skipSpace();
                expect(':', "':' after key " + repr(key));
                Object value = value();
                switch (key) {
                    case "descr" -> descr = once(key, descr, value, keyAt);
                    case "fortran_order" -> fortran = once(key, fortran, value, keyAt);
                    case "shape" -> shape = once(key, shape, value, keyAt);
                    default -> throw malformed("unexpected key " + repr(key)
                            + ", expected only 'descr', 'fortran_order' and 'shape'");
                }
                skipSpace();
                if (peek() == ',') {
                    pos++;
                    skipSpace();
                } else if (peek() != '}') {
                    throw fail("',' or '}'");
                }
            }
            pos++;
            skipSpace();
            if (pos < s.length()) {
                throw fail("end of header after the dict");
            }
            if (descr == null) {
                throw malformed("missing key 'descr'");
            }
            if (fortran == null) {
                throw malformed("missing key 'fortran_order'");
            }
            if (shape == null) {
                throw malformed("missing key 'shape'");
            }
            if (!(fortran instanceof Boolean fortranOrder)) {
                throw malformed("'fortran_order' must be True or False, got " + repr(fortran));
            }
            if (!(shape instanceof Tuple t) || !t.items().stream().allMatch(BigInteger.class::isInstance)) {
                throw malformed("'shape' must be a tuple of integers, got " + repr(shape));
            }
            List<BigInteger> dims = t.items().stream().map(BigInteger.class::cast).toList();
            return new NpyHeader(descr, fortranOrder, dims);
        }

        private Object once(String key, Object previous, Object value, int keyAt) throws NpyFormatException {
            if (previous != null) {
                pos = keyAt;
                throw malformed("duplicate key " + repr(key) + " at offset " + keyAt);
            }
            return value;
        }

        private Object value() throws NpyFormatException {
            skipSpace();
            char ch = peek();
            if (ch == '\'' || ch == '"') {
                return string();
            }
            if (ch == '(') {
                pos++;
                List<Object> items = new ArrayList<>();
                boolean comma = sequence(')', items);
                // (x) is x in Python, not a tuple; (x,) and () are tuples.
                return items.size() == 1 && !comma ? items.get(0) : new Tuple(List.copyOf(items));
            }
            if (ch == '[') {
                pos++;
                List<Object> items = new ArrayList<>();
                sequence(']', items);
                return List.copyOf(items);
            }
            if (ch == '-' || isDigit(ch)) {
                return integer();
            }
            if (isLetter(ch)) {
                int start = pos;
                while (isLetter(peek()) || isDigit(peek()) || peek() == '_') {
                    pos++;
                }
                String word = s.substring(start, pos);
                if (word.equals("True")) {
                    return Boolean.TRUE;
                }
                if (word.equals("False")) {
                    return Boolean.FALSE;
                }
                pos = start;
                throw malformed("unsupported value '" + word + "' at offset " + start
                        + ", expected a string, True, False, an integer or a tuple");
            }
            throw fail("a value");
        }

        /** Items up to {@code close}; true if the last item was followed by a comma. */
        private boolean sequence(char close, List<Object> items) throws NpyFormatException {
            if (++depth > MAX_DEPTH) {
                throw malformed("tuples or lists nested deeper than " + MAX_DEPTH + " levels at offset " + (pos - 1));
            }
            skipSpace();
            boolean comma = false;
            while (peek() != close) {
                items.add(value());
                skipSpace();
                comma = false;
                if (peek() == ',') {
                    pos++;
                    comma = true;
                    skipSpace();
                } else if (peek() != close) {
                    throw fail("',' or '" + close + "'");
                }
            }
            pos++;
            depth--;
            return comma;
        }

        private String string() throws NpyFormatException {
            int start = pos;
            char quote = s.charAt(pos++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= s.length() || s.charAt(pos) == '\n' || s.charAt(pos) == '\r') {
                    pos = start;
                    throw malformed("unterminated string at offset " + start);
                }
                char ch = s.charAt(pos++);
                if (ch == quote) {
                    return sb.toString();
                }
                if (ch == '\\') {
                    pos--;
                    throw malformed("escape sequence in string at offset " + pos + " not supported");
                }
                sb.append(ch);
            }
        }

        private BigInteger integer() throws NpyFormatException {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            int digits = pos;
            while (isDigit(peek())) {
                pos++;
            }
            int count = pos - digits;
            if (count == 0) {
                throw fail("a digit");
            }
            if (count > 1 && s.charAt(digits) == '0') {
                pos = digits;
                throw malformed("integer with a leading zero at offset " + digits);
            }
            if (count > MAX_DIGITS) {
                pos = start;
                throw malformed("integer at offset " + start + " has more than " + MAX_DIGITS + " digits");
            }
            BigInteger value = new BigInteger(s.substring(start, pos));
            if (peek() == 'L' || peek() == 'l') {
                pos++; // a Python 2 long, as in headers written by NumPy under Python 2
            }
            return value;
        }

        private void expect(char ch, String what) throws NpyFormatException {
            if (peek() != ch) {
                throw fail(what);
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < s.length() && " \t\r\n\f".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
        }

        /** The character at {@code pos}, or {@code '\0'} at the end (never valid where a character is wanted). */
        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private NpyFormatException fail(String expected) {
            String found = pos >= s.length() ? "the end of the header"
                    : s.charAt(pos) == '\'' ? "\"'\"" : "'" + s.charAt(pos) + "'";
            return malformed("expected " + expected + " at offset " + pos + ", found " + found);
        }

        private NpyFormatException malformed(String problem) {
            return new NpyFormatException(fileName, "malformed header: " + problem);
        }

        private static boolean isDigit(char ch) {
            return ch >= '0' && ch <= '9';
        }

        private static boolean isLetter(char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        }
    }
}
