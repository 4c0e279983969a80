package dev.clpool.npy;

import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes NumPy {@code .npy} files: float32 or float16 tensors of spatial rank 1 to 3
 * (array rank 3, 4 or 5) in either {@link Layout}, and int64 indices, in and out (see SEMANTICS.md,
 * "Tensors").
 *
 * <p>Reading accepts format versions 1.0, 2.0 and 3.0, dtype {@code <f4} (a {@link DType#FLOAT32}
 * tensor) or {@code <f2} (a {@link DType#FLOAT16} tensor), C order, rank 4 ({@link #readTensor(Path)})
 * or rank 3, 4 or 5 with a layout ({@link #readTensor(Path, Layout)}), and nothing else; every
 * refusal is an {@link NpyFormatException} whose message names the file and the problem. Sizes in the header are checked against the file's size before any memory is
 * allocated, so a damaged or hostile header cannot exhaust memory.
 *
 * <p>Writing produces what {@code numpy.save} produces (format 1.0, header padded to a multiple of
 * 64 bytes), atomically: the data goes to a temporary file in the target's directory, is forced
 * to disk and then renamed over the target. On failure the temporary file is removed and the
 * target is left as it was.
 */
public final class Npy {

    private static final Logger LOG = LoggerFactory.getLogger(Npy.class);

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Largest header read: a 4-D header needs about 128 bytes; this only bounds a hostile one. */
    static final int MAX_HEADER_BYTES = 1 << 20;

    static final String FLOAT32 = "<f4";
    static final String FLOAT16 = "<f2";
    static final String INT64 = "<i8";


    /** Scratch size for byte-order conversion while writing. */
    private static final int CHUNK_BYTES = 1 << 20;

    private Npy() {
    }

    /**
     * Reads a 4-D NHWC tensor: {@code <f4} as float32, {@code <f2} as float16. Arrays of any other
     * rank are refused; {@link #readTensor(Path, Layout)} reads ranks 3 to 5.
     *
     * @throws NpyFormatException the file is not a {@code .npy} file clpool supports; the message
     *                            names the file and the problem
     * @throws IOException        the file cannot be read (for example it does not exist)
     */
    public static Tensor readTensor(Path file) throws IOException {
        return readTensor(file, null);
    }

    /**
     * Reads a tensor of spatial rank 1, 2 or 3: an array of rank 3, 4 or 5 whose channel axis is
     * where {@code layout} says ((N, W, C), (N, H, W, C), (N, D, H, W, C) channels-last;
     * (N, C, W) ... channels-first). {@code <f4} as float32, {@code <f2} as float16.
     *
     * @param layout where C is; {@code null} means rank 4 channels-last only, as {@link #readTensor(Path)}
     * @throws NpyFormatException the file is not a {@code .npy} file clpool supports (for example of
     *                            rank 2 or 6); the message names the file and the problem
     * @throws IOException        the file cannot be read (for example it does not exist)
     */
    public static Tensor readTensor(Path file, Layout layout) throws IOException {
        Objects.requireNonNull(file, "file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readTensor(displayName(file), ch, layout);
        }
    }

    /** {@link #readTensor(Path)} from a channel; {@code name} appears in error messages. */
    static Tensor readTensor(String name, SeekableByteChannel ch) throws IOException {
        return readTensor(name, ch, null);
    }

    /** {@link #readTensor(Path, Layout)} from a channel; {@code name} appears in error messages. */
    static Tensor readTensor(String name, SeekableByteChannel ch, Layout layout) throws IOException {
        Opened o = open(name, ch);
        DType dtype = NpyHeader.tensorDtype(name, o.header());
        TensorShape shape = NpyHeader.checkTensorHeader(name, o.header(), layout, Tensor.maxElements(dtype), dtype.word() + " tensor");
        long expected = shape.elementCount() * dtype.byteSize();
        checkDataSize(name, o, expected); // before allocating: a header may claim any size
        Tensor tensor = Tensor.allocate(shape, dtype);
        ByteBuffer data = tensor.buffer();
        readData(name, ch, o, expected, data);
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            swap(data, dtype.byteSize());
        }
        LOG.debug("read {} ({} {}, format {}.0)", name, dtype.word(), shape, o.major());
        return tensor;
    }

    /**
     * Reads int64 ({@code <i8}) indices of spatial rank 1, 2 or 3: an array of rank 3, 4 or 5 with
     * the shape, in {@code layout}, of the values they belong to (as {@code clpool pool --indices}
     * writes them), labelled with {@code convention}. The numbers are not checked here; the
     * operation that uses them refuses those out of range.
     *
     * @throws NpyFormatException the file is not such a {@code .npy} file; the message names the file and the problem
     * @throws IOException        the file cannot be read
     */
    public static Indices readIndices(Path file, Layout layout, IndexConvention convention) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(convention, "convention");
        String name = displayName(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Opened o = open(name, ch);
            if (!INT64.equals(o.header().descr())) {
                throw new NpyFormatException(name, "dtype " + NpyHeader.repr(o.header().descr())
                        + " not supported, expected " + INT64 + " (int64 indices)");
            }
            TensorShape shape = NpyHeader.checkTensorHeader(name, o.header(), layout, Indices.MAX_ELEMENTS, "index array");
            long expected = shape.elementCount() * Long.BYTES;
            checkDataSize(name, o, expected);
            Indices indices = Indices.allocate(shape, convention);
            ByteBuffer data = indices.buffer();
            readData(name, ch, o, expected, data);
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                for (int i = 0; i + 7 < data.limit(); i += 8) {
                    data.putLong(i, Long.reverseBytes(data.getLong(i)));
                }
            }
            LOG.debug("read {} (int64 {}, format {}.0)", name, shape, o.major());
            return indices;
        }
    }

    /** A parsed header, the format's major version and where the data starts. */
    private record Opened(NpyHeader header, int major, long dataOffset, long fileSize) {
    }

    /** Reads and checks magic, version and header; the channel is then at an unspecified position. */
    private static Opened open(String name, SeekableByteChannel ch) throws IOException {
        long fileSize = ch.size();
        ch.position(0);

        ByteBuffer preamble = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        preamble.limit(8);
        int got = readFully(ch, preamble);
        if (got == 0) {
            throw new NpyFormatException(name, "not a .npy file (file is empty)");
        }
        for (int i = 0; i < Math.min(got, MAGIC.length); i++) {
            if (preamble.get(i) != MAGIC[i]) {
                throw new NpyFormatException(name, "not a .npy file (bad magic)");
            }
        }
        if (got < 8) {
            throw new NpyFormatException(name, "header truncated: the file has only " + got + " bytes");
        }
        int major = Byte.toUnsignedInt(preamble.get(6));
        int minor = Byte.toUnsignedInt(preamble.get(7));
        if (minor != 0 || major < 1 || major > 3) {
            throw new NpyFormatException(name, "unsupported .npy format version " + major + "." + minor
                    + ", expected 1.0, 2.0 or 3.0");
        }
        int prefix = major == 1 ? 10 : 12;
        preamble.limit(prefix);
        got += readFully(ch, preamble);
        if (got < prefix) {
            throw new NpyFormatException(name, "header truncated: the file has only " + got + " bytes");
        }
        long headerLength = major == 1
                ? Short.toUnsignedInt(preamble.getShort(8))
                : Integer.toUnsignedLong(preamble.getInt(8));
        if (prefix + headerLength > fileSize) {
            throw new NpyFormatException(name, "header length " + headerLength
                    + " points beyond the end of the file (" + fileSize + " bytes)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpyFormatException(name, "header length " + headerLength
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }

        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        if (readFully(ch, headerBytes) < headerLength) {
            throw new NpyFormatException(name, "header truncated: the file ended while reading it");
        }
        headerBytes.flip();
        NpyHeader header = NpyHeader.parse(name, decode(name, headerBytes, major));
        return new Opened(header, major, prefix + headerLength, fileSize);
    }

    /** Checks that the file holds exactly {@code expected} bytes of data. */
    private static void checkDataSize(String name, Opened o, long expected) throws NpyFormatException {
        long available = o.fileSize() - o.dataOffset();
        if (available < expected) {
            throw new NpyFormatException(name, "data truncated: expected " + expected + " bytes, found " + available);
        }
        if (available > expected) {
            throw new NpyFormatException(name, "trailing data after the array: expected " + expected
                    + " bytes, found " + available);
        }
    }

    /** Reads the {@code expected} bytes of data into {@code data}. */
    private static void readData(String name, SeekableByteChannel ch, Opened o, long expected, ByteBuffer data)
            throws IOException {
        ch.position(o.dataOffset());
        int read = readFully(ch, data);
        if (read < expected) {
            // The file shrank after size() was taken.
            throw new NpyFormatException(name, "data truncated: expected " + expected + " bytes, found " + read);
        }
    }

    /**
     * Writes {@code tensor} as a C-order array of its shape in storage order
     * ({@link TensorShape#dims()}: (N, H, W, C) for a 2-D channels-last tensor), float32 as {@code <f4} and
     * float16 as {@code <f2}, atomically: either the complete file replaces {@code file}, or
     * {@code file} is unchanged.
     *
     * @throws IllegalArgumentException the tensor is bfloat16, which has no {@code .npy} dtype
     *                                  (nothing is written)
     */
    public static void writeTensor(Path file, Tensor tensor) throws IOException {
        Objects.requireNonNull(tensor, "tensor");
        DType dtype = tensor.dtype();
        String descr = dtype.npyDescr().orElseThrow(() -> new IllegalArgumentException(dtype.word()
                + " has no .npy dtype (NumPy has no " + dtype.word() + "): convert the tensor first,"
                + " tensor.convert(DType.FLOAT32) or tensor.convert(DType.FLOAT16)"));
        ByteBuffer data = tensor.buffer();
        write(file, descr, tensor.tensorShape().dims(), ch -> {
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                writeFully(ch, data);
                return;
            }
            ByteBuffer scratch = ByteBuffer.allocateDirect(Math.min(CHUNK_BYTES, data.remaining()));
            while (data.hasRemaining()) {
                scratch.clear();
                int n = Math.min(scratch.remaining(), data.remaining());
                scratch.put(data.slice().limit(n)).flip();
                data.position(data.position() + n);
                swap(scratch, dtype.byteSize());
                writeFully(ch, scratch);
            }
        });
    }

    /**
     * Writes {@code values} (from their position to their limit, which must be exactly
     * {@code shape.elementCount()} values; the buffer's position is not changed) as an int64
     * ({@code <i8}) C-order array of shape (N, H, W, C), atomically like {@link #writeTensor}.
     */
    public static void writeInt64(Path file, Shape shape, LongBuffer values) throws IOException {
        Objects.requireNonNull(shape, "shape");
        writeInt64(file, TensorShape.of(shape), values);
    }

    /**
     * Writes {@code values} as an int64 ({@code <i8}) C-order array of {@code shape}'s dimensions in
     * storage order ({@link TensorShape#dims()}), atomically; otherwise as
     * {@link #writeInt64(Path, Shape, LongBuffer)}.
     */
    public static void writeInt64(Path file, TensorShape shape, LongBuffer values) throws IOException {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        if (values.remaining() != shape.elementCount()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.elementCount()
                    + " values, got " + values.remaining());
        }
        LongBuffer src = values.duplicate();
        write(file, INT64, shape.dims(), ch -> {
            ByteBuffer scratch = ByteBuffer.allocateDirect((int) Math.min(CHUNK_BYTES, (long) src.remaining() * Long.BYTES))
                    .order(ByteOrder.LITTLE_ENDIAN);
            int perChunk = scratch.capacity() / Long.BYTES;
            while (src.hasRemaining()) {
                int n = Math.min(perChunk, src.remaining());
                scratch.clear();
                scratch.asLongBuffer().put(src.slice().limit(n));
                src.position(src.position() + n);
                scratch.limit(n * Long.BYTES);
                writeFully(ch, scratch);
            }
        });
    }

    /** Writes the array data after the header; package-private so tests can make it fail. */
    @FunctionalInterface
    interface Body {
        void writeTo(WritableByteChannel ch) throws IOException;
    }

    /**
     * Writes header and {@code body} to a temporary file beside {@code file}, forces it to disk
     * and renames it over {@code file}. The body must write exactly the data of an array of
     * dimensions {@code dims}.
     */
    static void write(Path file, String descr, Shape shape, Body body) throws IOException {
        write(file, descr, TensorShape.of(shape).dims(), body);
    }

    /** {@link #write(Path, String, Shape, Body)} for an array of dimensions {@code dims}. */
    static void write(Path file, String descr, int[] dims, Body body) throws IOException {
        Objects.requireNonNull(file, "file");
        Path target = file.toAbsolutePath();
        Path fileName = target.getFileName();
        if (fileName == null) {
            throw new IllegalArgumentException("not a file path: " + file);
        }
        byte[] header = NpyHeader.encode(descr, dims);
        long count = 1;
        for (int d : dims) {
            count *= d;
        }
        long expected = header.length + count * itemSize(descr);
        Path dir = target.getParent();
        Path tmp = dir.resolve(tempName(fileName.toString()));
        boolean created = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                created = true;
                writeFully(ch, ByteBuffer.wrap(header));
                body.writeTo(ch);
                if (ch.position() != expected) {
                    throw new IOException("wrote " + ch.position() + " bytes to " + tmp + ", expected " + expected);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable e) {
            if (created) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException d) {
                    e.addSuppressed(d);
                }
            }
            throw e;
        }
        syncDirectory(dir);
        LOG.debug("wrote {} ({} {}, {} bytes)", target, descr, Arrays.toString(dims), expected);
    }

    /** The file name alone, as it appears in error messages. */
    static String displayName(Path file) {
        Path name = file.getFileName();
        return name == null ? file.toString() : name.toString();
    }

    /** Byte-swaps every {@code size}-byte word (2 or 4) of {@code buf} from its position to its limit, in place. */
    static void swap(ByteBuffer buf, int size) {
        if (size == Short.BYTES) {
            for (int i = buf.position(); i + 1 < buf.limit(); i += 2) {
                buf.putShort(i, Short.reverseBytes(buf.getShort(i)));
            }
        } else {
            swap32(buf);
        }
    }

    /** Byte-swaps every 4-byte word of {@code buf} from its position to its limit, in place. */
    static void swap32(ByteBuffer buf) {
        for (int i = buf.position(); i + 3 < buf.limit(); i += 4) {
            buf.putInt(i, Integer.reverseBytes(buf.getInt(i)));
        }
    }

    private static String decode(String name, ByteBuffer bytes, int major) throws NpyFormatException {
        if (major < 3) {
            return StandardCharsets.ISO_8859_1.decode(bytes).toString();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            NpyFormatException ex = new NpyFormatException(name, "malformed header: not valid UTF-8 (format 3.0)");
            ex.initCause(e);
            throw ex;
        }
    }

    private static int itemSize(String descr) {
        return switch (descr) {
            case FLOAT32 -> Float.BYTES;
            case FLOAT16 -> Short.BYTES;
            case INT64 -> Long.BYTES;
            default -> throw new IllegalArgumentException("unsupported dtype " + descr);
        };
    }

    /** {@code .<name>.tmp-<random>}: hidden, in the same directory (so the rename is atomic), unique. */
    private static String tempName(String name) {
        String base = name.length() > 100 ? name.substring(0, 100) : name;
        return "." + base + ".tmp-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    /** Makes the rename durable where the platform allows it; a failure here loses nothing written. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not sync directory {}: {}", dir, e.toString());
        }
    }

    /** Reads until {@code buf} is full or the channel ends; returns the number of bytes read. */
    private static int readFully(SeekableByteChannel ch, ByteBuffer buf) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
