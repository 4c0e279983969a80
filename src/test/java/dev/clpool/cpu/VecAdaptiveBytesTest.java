package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link VecAdaptiveRows}' kernels that load straight from a tensor's bytes against the ones that
 * read a staged array: the same sums and magnitudes bit for bit, from rows at an offset into the
 * buffer (regions of one, two and three columns; channels not a multiple of the lanes; NaN payloads
 * and infinities).
 */
class VecAdaptiveBytesTest {
    @Test
    void sumsAndMagnitude_fromBytes_matchStagedRow() {
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
            VecAdaptiveRows.sums(bytes, base, c, ow, x0, x1, loaded, 3);
            for (int i = 0; i < staged.length; i++) {
                assertEquals(Float.floatToRawIntBits(staged[i]), Float.floatToRawIntBits(loaded[i]), "c " + c + " at " + i);
            }
            for (int from = 0; from < 3; from++) {
                int n = rowLen - 2 * from;
                assertEquals(VecAdaptiveRows.magnitudeBits(row, from, n),
                        VecAdaptiveRows.magnitudeBits(bytes, base + from, n), "c " + c + " from " + from);
            }
        }
    }
}
