package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link VecAdaptiveRows}' kernels that load from or store to a tensor's bytes against the ones that
 * read and write arrays: the same sums and magnitudes bit for bit, from rows at an offset into the
 * buffer (regions of one, two and three columns; channels not a multiple of the lanes; NaN payloads
 * and infinities); the magnitude that the sums take from their own loads finds the row's largest
 * |x| wherever it lies; the averages stored into bytes are the array form's bits, rows of one to
 * four, and write nothing outside the output row.
 */
class VecAdaptiveBytesTest {
    @Test
    void sumsFromBytes_matchStagedRow_andTheirMagnitudeTheRows() {
        assumeTrue(VectorSupport.ENABLED);
        int[] x0 = {0, 1, 2, 4, 5, 7, 8, 9};
        int[] x1 = {2, 3, 5, 6, 8, 9, 10, 10};
        for (int c : new int[] {VecWidth.floats(), 19, 40}) {
            int w = 10;
            int rowLen = w * c;
            int base = 3 * c + 5;
            Random r = new Random(c);
            ByteBuffer bytes = ByteBuffer.allocateDirect((base + rowLen + 7) * 4).order(ByteOrder.nativeOrder());
            float[] row = new float[rowLen];
            for (int i = 0; i < base + rowLen + 7; i++) {
                float v = (float) r.nextGaussian() * (i % 5 == 0 ? 1e4f : 1f);
                if (i % 97 == 3) {
                    v = Float.intBitsToFloat(0x7fc00000 | i);
                }
                if (i % 89 == 1) {
                    v = Float.NEGATIVE_INFINITY;
                }
                bytes.putFloat(i * 4, v);
                if (i >= base && i < base + rowLen) {
                    row[i - base] = v;
                }
            }
            // Outside the row: a value larger than any inside, which a load past either end would see.
            bytes.putFloat((base - 1) * 4, Float.intBitsToFloat(0x7fffffff));
            bytes.putFloat((base + rowLen) * 4, Float.intBitsToFloat(0x7fffffff));
            int ow = x0.length;
            float[] staged = new float[ow * c + 3];
            float[] loaded = new float[ow * c + 3];
            VecAdaptiveRows.sums(row, 0, c, ow, x0, x1, staged, 3);
            int bits = VecAdaptiveRows.sums(bytes, base, c, ow, x0, x1, loaded, 3);
            for (int i = 0; i < staged.length; i++) {
                assertEquals(Float.floatToRawIntBits(staged[i]), Float.floatToRawIntBits(loaded[i]), "c " + c + " at " + i);
            }
            assertEquals(VecAdaptiveRows.magnitudeBits(row, 0, rowLen), bits, "c " + c);
        }
    }

    /** One value larger than the rest at every position of the row in turn: the sums' magnitude is its |x|. */
    @Test
    void sumsMagnitude_largestAnywhereInTheRow() {
        assumeTrue(VectorSupport.ENABLED);
        int[][][] regions = {
            {{0, 1, 2, 4, 5, 7, 8}, {2, 3, 5, 6, 8, 9, 10}},
            {{0, 1, 2, 4, 5, 7, 8, 9}, {2, 3, 5, 6, 8, 9, 10, 10}},
            {{0, 3, 6, 9}, {3, 6, 9, 10}},
        };
        for (int[][] xs : regions) {
            for (int c : new int[] {VecWidth.floats(), 19, 40}) {
                int rowLen = 10 * c;
                int base = c + 3;
                ByteBuffer bytes = ByteBuffer.allocateDirect((base + rowLen + 1) * 4).order(ByteOrder.nativeOrder());
                Random r = new Random(c);
                float[] hs = new float[xs[0].length * c];
                for (int p = 0; p < rowLen; p++) {
                    for (int i = 0; i < rowLen; i++) {
                        bytes.putFloat((base + i) * 4, (float) (r.nextDouble() * 2 - 1));
                    }
                    float big = (p % 2 == 0 ? -1 : 1) * (1.5f + p);
                    bytes.putFloat((base + p) * 4, big);
                    int bits = VecAdaptiveRows.sums(bytes, base, c, xs[0].length, xs[0], xs[1], hs, 0);
                    assertEquals(Float.floatToRawIntBits(Math.abs(big)), bits, "c " + c + " at " + p);
                }
            }
        }
    }

    @Test
    void averagesIntoBytes_sameBitsAsTheArrayForm() {
        assumeTrue(VectorSupport.ENABLED);
        float[] divisors = {1, 2, 3, 4, 5, 6, 8, 9, 16, 7};
        for (int c : new int[] {VecWidth.floats(), 19, 40}) {
            for (int rows = 1; rows <= 4; rows++) {
                int ow = divisors.length;
                int width = ow * c;
                Random r = new Random(31L * c + rows);
                float[] hs = new float[(rows + 1) * width];
                for (int i = 0; i < hs.length; i++) {
                    hs[i] = switch (i % 11) {
                        case 0 -> Float.intBitsToFloat(0x7fc00000 | i);
                        case 1 -> Float.MIN_VALUE * (i % 7);
                        case 2 -> -0f;
                        case 3 -> Float.intBitsToFloat(0x00800000 + i);
                        case 4 -> i % 3 == 0 ? Float.NEGATIVE_INFINITY : Float.MAX_VALUE;
                        default -> (float) r.nextGaussian() * 1e3f;
                    };
                }
                int[] rowAt = new int[rows];
                for (int j = 0; j < rows; j++) {
                    rowAt[j] = ((j * 2 + 1) % (rows + 1)) * width;
                }
                float[] want = new float[width];
                VecAdaptiveRows.averages(hs, rowAt, rows, c, ow, divisors, 0, want);
                int base = 2 * c + 1;
                ByteBuffer out = ByteBuffer.allocateDirect((base + width + c) * 4).order(ByteOrder.nativeOrder());
                for (int i = 0; i < out.capacity() / 4; i++) {
                    out.putInt(i * 4, 0x7f800123);
                }
                VecAdaptiveRows.averages(hs, rowAt, rows, c, ow, divisors, 0, out, base);
                for (int i = 0; i < out.capacity() / 4; i++) {
                    int got = out.getInt(i * 4);
                    boolean inside = i >= base && i < base + width;
                    assertEquals(inside ? Float.floatToRawIntBits(want[i - base]) : 0x7f800123, got,
                            "c " + c + " rows " + rows + " at " + i);
                }
            }
        }
    }
}
