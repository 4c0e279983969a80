package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.testing.RandomCases;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PoolSpecTest {

    @Test
    void strideDefaultsToWindow() {
        PoolSpec s = PoolSpec.max(3, 2).build();
        assertEquals(3, s.strideH());
        assertEquals(2, s.strideW());
    }

    @Test
    void floorMode_outputSize() {
        assertEquals(Shape.of(1, 2, 2, 1), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build().outputShape(Shape.of(1, 4, 4, 1)));
        assertEquals(Shape.of(2, 55, 55, 64), PoolSpec.max(3, 3).stride(2).build().outputShape(Shape.of(2, 112, 112, 64)));
    }

    @Test
    void ceilMode_lastWindowMustStartInsideInputOrLeadingPad() {
        // ONNX test_maxpool_2d_ceil_output_size_reduce_by_one: 1x1 window, stride 2, on 2x2 -> 1x1
        PoolSpec s = PoolSpec.max(1, 1).stride(2).ceilMode(true).build();
        assertEquals(Shape.of(1, 1, 1, 1), s.outputShape(Shape.of(1, 2, 2, 1)));
        // 3x3 s2 ceil on 4x4 -> 2x2 (PyTorch)
        assertEquals(Shape.of(1, 2, 2, 1), PoolSpec.max(3, 3).stride(2).ceilMode(true).build().outputShape(Shape.of(1, 4, 4, 1)));
    }

    @Test
    void same_padsTheOddPixelAtTheEnd_sameLowerAtTheBeginning() {
        PoolGeometry upper = PoolSpec.max(2, 2).stride(1).padding(Padding.SAME).build().geometry(Shape.of(1, 5, 5, 1));
        assertEquals(0, upper.rows().padBegin());
        assertEquals(1, upper.rows().padEnd());
        PoolGeometry lower = PoolSpec.max(2, 2).stride(1).padding(Padding.SAME_LOWER).build().geometry(Shape.of(1, 5, 5, 1));
        assertEquals(1, lower.rows().padBegin());
        assertEquals(0, lower.rows().padEnd());
        assertEquals(5, lower.rows().out());
    }

    @Test
    void countIncludePad_divisorClipsAtEndPadding() {
        // ONNX test_averagepool_2d_ceil_last_window_starts_on_pad: 3x3 s3 p1 ceil on 2x2 -> 1x1, divisor 3*3 clipped at 2+1
        PoolGeometry g = PoolSpec.avg(3, 3).stride(3).padding(Padding.of(1)).ceilMode(true).countIncludePad(true).build()
                .geometry(Shape.of(1, 2, 2, 1));
        assertEquals(1, g.output().h());
        assertEquals(9, g.divisor(0, 0));
    }

    /** A table of invalid specs: each row names the field the error must name, and why it is invalid. */
    static Stream<Arguments> invalidSpecs() {
        Shape small = Shape.of(1, 4, 4, 1);
        return Stream.of(
                row("window", "zero window", () -> PoolSpec.max(0, 3).build(), small),
                row("window", "negative window", () -> PoolSpec.max(3, -1).build(), small),
                row("stride", "zero stride", () -> PoolSpec.max(3, 3).stride(0).build(), small),
                row("dilation", "zero dilation", () -> PoolSpec.max(3, 3).dilation(0).build(), small),
                row("padding", "negative padding", () -> PoolSpec.max(3, 3).padding(Padding.of(-1)).build(), small),
                row("padding", "padding as large as the window: a window would lie wholly in the padding",
                        () -> PoolSpec.max(3, 3).padding(Padding.of(3, 0, 0, 0)).build(), small),
                row("p", "p must be > 0", () -> PoolSpec.builder(PoolMode.LP).window(2).p(0).build(), small),
                row("p", "p must be finite", () -> PoolSpec.builder(PoolMode.LP).window(2).p(Double.POSITIVE_INFINITY).build(), small),
                row("p", "p NaN", () -> PoolSpec.builder(PoolMode.LP).window(2).p(Double.NaN).build(), small),
                row("window", "window larger than the padded input: empty output",
                        () -> PoolSpec.max(5, 5).build(), small),
                row("padding", "a dilated window whose taps skip over the input",
                        () -> PoolSpec.max(2, 1).dilation(3, 1).stride(1).padding(Padding.of(2, 1, 0, 0)).build(), Shape.of(1, 1, 4, 1)));
    }

    private static Arguments row(String field, String why, Supplier<PoolSpec> spec, Shape shape) {
        return Arguments.of(field, why, spec, shape);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalidSpecs")
    void invalidSpec_isRefusedWithFieldNamed(String field, String why, Supplier<PoolSpec> spec, Shape shape) {
        InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> spec.get().geometry(shape), why);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
    }

    @Test
    void check_isSideEffectFreeAndExplains() {
        PoolSpec s = PoolSpec.max(5, 5).build();
        assertTrue(s.check(Shape.of(1, 4, 4, 1)).orElseThrow().contains("empty"));
        assertTrue(s.check(Shape.of(1, 5, 5, 1)).isEmpty());
    }

    @Test
    void toString_parsesBackToAnEqualSpec_forRandomSpecs() {
        for (RandomCases.Case c : RandomCases.generate(99, 200)) {
            assertEquals(c.spec(), PoolSpec.parse(c.spec().toString()), c.spec().toString());
        }
    }

    @Test
    void p_mattersForLpOnly_soEverySpecRoundTrips() {
        PoolSpec max = PoolSpec.max(2, 2).p(0.5).build();
        assertEquals(PoolSpec.max(2, 2).build(), max);
        assertEquals(max, PoolSpec.parse(max.toString()));
        for (PoolSpec nd : new PoolSpec[] {
                PoolSpec.max(2, 2, 2).stride(2).padding(Padding.of(1)).build(),
                PoolSpec.avg(new int[] {3}).stride(2).padding(Padding.of(1)).countIncludePad(true).build(),
                PoolSpec.max(1, 3, 3).padding(Padding.perAxis(new int[] {0, 1, 2}, new int[] {0, 2, 1})).ceilMode(true).build()}) {
            assertEquals(nd, PoolSpec.parse(nd.toString()), nd.toString());
            assertEquals(nd.rank(), PoolSpec.parse(nd.toString()).rank(), nd.toString());
        }
        assertTrue(!PoolSpec.builder(PoolMode.LP).window(2).p(0.5).build()
                .equals(PoolSpec.builder(PoolMode.LP).window(2).p(3).build()));
    }

    @Test
    void parse_readsTheShortForms() {
        PoolSpec s = PoolSpec.parse("max k=3 s=2 pad=same");
        assertEquals(PoolSpec.max(3, 3).stride(2).padding(Padding.SAME).build(), s);
        assertEquals("max k=3x3 s=2x2 pad=same", s.toString());
        assertThrows(InvalidSpecException.class, () -> PoolSpec.parse("max s=2"));
        assertThrows(InvalidSpecException.class, () -> PoolSpec.parse("median k=2"));
        assertThrows(InvalidSpecException.class, () -> PoolSpec.parse("max k=2 bogus=1"));
    }

    @Test
    void padding_parse_acceptsEveryCliForm() {
        assertEquals(Padding.of(1, 1, 1, 1), Padding.parse("1"));
        assertEquals(Padding.of(1, 1, 2, 2), Padding.parse("1,2"));
        assertEquals(Padding.of(1, 2, 3, 0), Padding.parse("1,2,3,0"));
        assertEquals(Padding.SAME, Padding.parse("same"));
        assertEquals(Padding.SAME_LOWER, Padding.parse("same-lower"));
        assertEquals(Padding.VALID, Padding.parse("valid"));
        assertEquals(Padding.VALID, Padding.parse("0"));
        assertThrows(InvalidSpecException.class, () -> Padding.parse("1,2,3"));
        assertThrows(InvalidSpecException.class, () -> Padding.parse("x"));
    }
}
