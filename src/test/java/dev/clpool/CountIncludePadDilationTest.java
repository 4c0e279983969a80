package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SEMANTICS.md's divisor with dilation: count_include_pad counts the window's taps inside the
 * padded input, not the span between its first and last tap (the two agree without dilation).
 */
class CountIncludePadDilationTest {
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** One row of five ones, window 1x3 with column dilation 2, one column of padding each side. */
    private static PoolSpec spec() {
        return PoolSpec.builder(PoolMode.AVG).window(1, 3).stride(1, 1).dilation(1, 2)
                .padding(Padding.of(0, 0, 1, 1)).countIncludePad(true).build();
    }

    private static Tensor ones() {
        Tensor x = Tensor.allocate(Shape.of(1, 1, 5, 1));
        float[] v = new float[5];
        Arrays.fill(v, 1f);
        x.floats().put(v);
        return x;
    }

    @Test
    void axisFactor_countsTapsNotTheSpan() {
        Axis a = spec().geometry(Shape.of(1, 1, 5, 1)).cols();
        // Output 0: taps at -1 (padding), 1, 3: three taps; the span from -1 to 3 is 5.
        assertEquals(3, a.extentIncludingPad(0));
        // Output 2: taps at 1, 3, 5 (padding): three; output 1 (0, 2, 4): three.
        assertEquals(3, a.extentIncludingPad(1));
        assertEquals(3, a.extentIncludingPad(2));
    }

    @Test
    void forward_dividesByTapsInsideThePaddedInput() {
        Tensor y = engine.pool(ones(), spec());
        // Windows: {pad, x1, x3} = 2/3, {x0, x2, x4} = 3/3, {x1, x3, pad} = 2/3.
        assertArrayEquals(new float[] {(float) (2.0 / 3), 1f, (float) (2.0 / 3)}, y.toArray());
    }

    @Test
    void backward_spreadsTheGradientOverTheSameDivisor() {
        Tensor dy = Tensor.allocate(Shape.of(1, 1, 3, 1));
        dy.floats().put(new float[] {3f, 3f, 3f});
        Tensor dx = engine.backward(ones(), dy, spec());
        // x0, x2, x4 get 3/3 from output 1; x1 and x3 get 3/3 from outputs 0 and 2 each.
        assertArrayEquals(new float[] {1f, 2f, 1f, 2f, 1f}, dx.toArray());
    }
}
