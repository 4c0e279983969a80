package dev.clpool.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A C-order {@code .npy} array of any rank, {@code <f4}, {@code <f8} or {@code <i8}, read by the
 * tests on their own (the library's reader takes only what the CLI accepts): the reference data
 * of {@link NdReference}. Float data is widened to double, so that {@code <f4} inputs and
 * {@code <f8} reference outputs read alike; int64 data stays long.
 *
 * @param dims   the dimensions in storage order
 * @param descr  the dtype as the header writes it
 * @param values the float data, widened (null for {@code <i8})
 * @param longs  the int64 data (null for floats)
 */
public record NpyArray(int[] dims, String descr, double[] values, long[] longs) {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** Reads {@code file}; anything but a C-order {@code <f4}, {@code <f8} or {@code <i8} array is an error. */
    public static NpyArray read(Path file) throws IOException {
        return parse(file.getFileName().toString(), Files.readAllBytes(file));
    }

    /** Parses the bytes of a {@code .npy} file; {@code name} appears in error messages. */
    public static NpyArray parse(String name, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new IllegalArgumentException(name + ": not a .npy file");
        }
        int major = bytes[6];
        int prefix = major == 1 ? 10 : 12;
        long headerLength = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : Integer.toUnsignedLong(b.getInt(8));
        if (major < 1 || major > 3 || prefix + headerLength > bytes.length) {
            throw new IllegalArgumentException(name + ": bad version " + major + " or header length " + headerLength);
        }
        String header = new String(bytes, prefix, (int) headerLength, StandardCharsets.ISO_8859_1);
        String descr = group(name, DESCR, header);
        if (group(name, ORDER, header).equals("True")) {
            throw new IllegalArgumentException(name + ": Fortran order");
        }
        String shape = group(name, SHAPE, header).trim();
        int[] dims = shape.isEmpty() ? new int[0] : Arrays.stream(shape.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        long count = 1;
        for (int d : dims) {
            count *= d;
        }
        int size = switch (descr) {
            case "<f4" -> 4;
            case "<f8", "<i8" -> 8;
            default -> throw new IllegalArgumentException(name + ": dtype " + descr + " not supported");
        };
        int offset = prefix + (int) headerLength;
        if (bytes.length - offset != count * size) {
            throw new IllegalArgumentException(name + ": " + (bytes.length - offset) + " data bytes, expected "
                    + count * size);
        }
        b.position(offset);
        if (descr.equals("<i8")) {
            long[] longs = new long[(int) count];
            b.asLongBuffer().get(longs);
            return new NpyArray(dims, descr, null, longs);
        }
        double[] values = new double[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = size == 4 ? b.getFloat(offset + 4 * i) : b.getDouble(offset + 8 * i);
        }
        return new NpyArray(dims, descr, values, null);
    }

    private static String group(String name, Pattern p, String header) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException(name + ": header without " + p.pattern() + ": " + header);
        }
        return m.group(1);
    }

    /** The number of elements. */
    public int size() {
        return values != null ? values.length : longs.length;
    }

    /** The float data narrowed back to float (exact for {@code <f4} data and for max results). */
    public float[] floats() {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /**
     * The storage-order index of element (n, c, spatial...) for an array whose channel axis is last
     * ({@code channelsLast}) or second.
     */
    public int offset(boolean channelsLast, int n, int c, int... spatial) {
        int r = dims.length - 2;
        int cAxis = channelsLast ? dims.length - 1 : 1;
        int[] coords = new int[dims.length];
        coords[0] = n;
        coords[cAxis] = c;
        for (int a = 0; a < r; a++) {
            coords[channelsLast ? 1 + a : 2 + a] = spatial[a];
        }
        int off = 0;
        for (int d = 0; d < dims.length; d++) {
            off = off * dims[d] + coords[d];
        }
        return off;
    }
}
