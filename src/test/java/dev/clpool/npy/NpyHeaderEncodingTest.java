package dev.clpool.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.clpool.Shape;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The header clpool writes: what NumPy's format 1.0 requires, for shapes with every digit count. */
class NpyHeaderEncodingTest {

    /**
     * Header of many shapes, seeded so that a failure reproduces: 64-byte aligned, ends in a
     * newline, format 1.0 with the right length field, and parses back to the same shape. Digit
     * counts at every boundary are included, since they move the padding.
     */
    @Test
    void header_isAlignedAndParsesBackToTheShape_forManyShapes() throws IOException {
        int[] edges = {1, 2, 9, 10, 99, 100, 999, 1000, 9999, 10000, 46340};
        Random random = new Random(0x6e7079L);
        for (int i = 0; i < 2000; i++) {
            Shape shape = i < edges.length * edges.length
                    ? Shape.of(edges[i % edges.length], edges[i / edges.length], edges[(i * 7) % edges.length], edges[(i * 3) % edges.length])
                    : Shape.of(1 + random.nextInt(46340), 1 + random.nextInt(46340), 1 + random.nextInt(46340), 1 + random.nextInt(46340));
            checkHeader(shape);
        }
        checkHeader(Shape.of(1, 1, 1, Integer.MAX_VALUE));
        checkHeader(Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, 2, 1));
    }

    private static void checkHeader(Shape shape) throws IOException {
        byte[] header = NpyHeader.encode(Npy.FLOAT32, shape);
        String where = "shape " + shape;
        assertEquals(0, header.length % NpyHeader.ALIGN, where);
        assertEquals('\n', header[header.length - 1], where);
        assertEquals(1, header[6], where);
        assertEquals(header.length - 10, (header[8] & 0xff) | (header[9] & 0xff) << 8, where);
        NpyHeader parsed = NpyHeader.parse("p.npy", new String(header, 10, header.length - 10, StandardCharsets.ISO_8859_1));
        assertEquals(Npy.FLOAT32, parsed.descr(), where);
        assertFalse(parsed.fortranOrder(), where);
        assertEquals(Stream.of(shape.n(), shape.h(), shape.w(), shape.c()).map(BigInteger::valueOf).toList(),
                parsed.shape(), where);
    }
}
