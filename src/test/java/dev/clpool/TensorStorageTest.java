package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The Tensor API for 16-bit storage, and the engine's dtype rules. */
class TensorStorageTest {
    private static final Shape S = Shape.of(1, 2, 2, 1);

    @Test
    void allocate_sizesStorageByType() {
        assertEquals(16, Tensor.allocate(S).byteSize());
        assertEquals(DType.FLOAT32, Tensor.allocate(S).dtype());
        assertEquals(8, Tensor.allocate(S, DType.FLOAT16).byteSize());
        assertEquals(8, Tensor.allocate(S, DType.BFLOAT16).byteSize());
        assertEquals(Tensor.MAX_ELEMENTS, Tensor.maxElements(DType.FLOAT32));
        assertEquals(Integer.MAX_VALUE / 2, Tensor.maxElements(DType.FLOAT16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(Shape.of(1, 1, 1, Integer.MAX_VALUE), DType.FLOAT16));
        assertTrue(e.getMessage().contains("float16"), e.getMessage());
    }

    @Test
    void setAndGet_roundOnceToNearestEven() {
        Tensor t = Tensor.allocate(S, DType.FLOAT16);
        t.set(0, 0, 0, 0, 1 + 0x1p-11f);   // tie: to even
        t.set(0, 0, 1, 0, 1 + 3 * 0x1p-11f);
        t.set(0, 1, 0, 0, 1e6f);           // overflow
        t.set(0, 1, 1, 0, Float.NaN);
        assertEquals(1f, t.get(0, 0, 0, 0));
        assertEquals(1 + 0x1p-9f, t.get(0, 0, 1, 0));
        assertEquals(Float.POSITIVE_INFINITY, t.get(0, 1, 0, 0));
        assertTrue(Float.isNaN(t.get(0, 1, 1, 0)));
        assertArrayEquals(new short[] {0x3c00, 0x3c02, 0x7c00, 0x7e00}, shorts(t));

        Tensor b = Tensor.of(S, DType.BFLOAT16, 1f, 1.00390625f, -3.0e38f, 0.1f);
        assertArrayEquals(new short[] {0x3f80, 0x3f80, (short) 0xff62, 0x3dcd}, shorts(b));
        assertArrayEquals(new float[] {1f, 1f, BFloat16.toFloat((short) 0xff62), BFloat16.toFloat((short) 0x3dcd)},
                b.toArray());
    }

    @Test
    void floats_isFloat32Only_andShorts16BitOnly() {
        Tensor h = Tensor.allocate(S, DType.FLOAT16);
        IllegalStateException e = assertThrows(IllegalStateException.class, h::floats);
        assertTrue(e.getMessage().contains("float16"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Tensor.allocate(S).shorts());
        h.shorts().put(2, (short) 0x4000);
        assertEquals(2f, h.get(0, 1, 0, 0));
    }

    @Test
    void convert_roundsOnce_andIsAlwaysACopy() {
        Tensor x = Tensor.of(S, 1f / 3, 65519f, 65520f, -0x1p-25f);
        Tensor h = x.convert(DType.FLOAT16);
        assertEquals(DType.FLOAT16, h.dtype());
        assertArrayEquals(new short[] {0x3555, 0x7bff, 0x7c00, (short) 0x8000}, shorts(h));
        Tensor back = h.convert(DType.FLOAT32);
        assertArrayEquals(new float[] {Float16.toFloat((short) 0x3555), 65504f, Float.POSITIVE_INFINITY, -0f}, back.toArray());
        Tensor copy = h.convert(DType.FLOAT16);
        assertNotSame(h, copy);
        copy.set(0, 0, 0, 0, 7f);
        assertEquals(Float16.toFloat((short) 0x3555), h.get(0, 0, 0, 0));
        // float16 -> bfloat16 rounds the half value once.
        assertArrayEquals(new short[] {0x3eab, 0x4780, 0x7f80, (short) 0x8000}, shorts(h.convert(DType.BFLOAT16)));
    }

    @Test
    void convert_largeTensor_crossesChunks() {
        Shape s = Shape.of(1, 1, 40_000, 1);
        float[] v = new float[40_000];
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.37f - 5000;
        }
        Tensor h = Tensor.of(s, v).convert(DType.FLOAT16);
        float[] got = h.toArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(DType.FLOAT16.round(v[i]), got[i], "element " + i);
        }
    }

    @Test
    void wrap_checksSizeByType() {
        ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        Tensor t = Tensor.wrap(S, DType.BFLOAT16, b);
        assertEquals(DType.BFLOAT16, t.dtype());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(S, b));
        assertTrue(e.getMessage().contains("needs 16 bytes"), e.getMessage());
        assertEquals("Tensor[1,2,2,1 bfloat16]", t.toString());
        assertEquals("Tensor[1,2,2,1]", Tensor.allocate(S).toString());
    }

    @Test
    void engine_outputsHaveTheInputsType() {
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            Tensor x = Tensor.of(Shape.of(1, 2, 2, 2), DType.FLOAT16, 1, 2, 3, 4, 5, 6, 7, 8);
            PoolSpec max = PoolSpec.max(2, 2).build();
            assertEquals(DType.FLOAT16, cpu.pool(x, max).dtype());
            assertEquals(DType.FLOAT16, cpu.globalAvg(x).dtype());
            assertEquals(DType.FLOAT16, cpu.adaptiveMax(x, 3, 3).dtype());
            assertEquals(DType.FLOAT16, cpu.poolWithIndices(x, max).values().dtype());
            assertArrayEquals(new float[] {7, 8}, cpu.pool(x, max).toArray());
            assertArrayEquals(new float[] {4, 5}, cpu.globalAvg(x).toArray());
            Tensor dy = Tensor.of(Shape.of(1, 1, 1, 2), DType.FLOAT16, 1, 1);
            assertEquals(DType.FLOAT16, cpu.backward(x, dy, max).dtype());
            InvalidSpecException e = assertThrows(InvalidSpecException.class,
                    () -> cpu.backward(x, dy.convert(DType.FLOAT32), max));
            assertEquals("gradOutput dtype", e.field());
            assertTrue(e.getMessage().contains("float32") && e.getMessage().contains("float16"), e.getMessage());
        }
    }

    private static short[] shorts(Tensor t) {
        short[] s = new short[(int) t.shape().elementCount()];
        t.shorts().get(s);
        return s;
    }
}
