package dev.clpool.explain;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import java.util.List;

/**
 * A pooling request explained without running it: built from {@link PoolSpec#geometry(Shape)}, so
 * a request that cannot run throws the same {@link dev.clpool.InvalidSpecException}.
 *
 * <pre>{@code
 * Explanation e = Explanation.of(PoolSpec.parse("max k=3x3 s=2x2 pad=1"), Shape.of(1, 112, 112, 64));
 * e.output();                 // 1,56,56,64
 * e.rows().first().start();   // -1: the first window starts in the top padding
 * e.frameworks();             // PyTorch, TensorFlow and ONNX verdicts
 * }</pre>
 *
 * @param geometry         the resolved request
 * @param rows             the height axis
 * @param cols             the width axis
 * @param ceilModeIgnored  true when {@code ceil mode} was asked for with same/same-lower padding,
 *                         where the output size is {@code ceil(in / stride)} by definition
 */
public record Explanation(PoolGeometry geometry, AxisExplanation rows, AxisExplanation cols, boolean ceilModeIgnored) {

    public static Explanation of(PoolSpec spec, Shape input) {
        return of(spec.geometry(input));
    }

    public static Explanation of(PoolGeometry g) {
        PoolSpec s = g.spec();
        Padding.Kind rule = s.padding().kind();
        boolean sameRule = rule == Padding.Kind.SAME || rule == Padding.Kind.SAME_LOWER;
        return new Explanation(g,
                AxisExplanation.of("height", g.rows(), rule, s.ceilMode(), s.countIncludePad()),
                AxisExplanation.of("width", g.cols(), rule, s.ceilMode(), s.countIncludePad()),
                sameRule && s.ceilMode());
    }

    public PoolSpec spec() {
        return geometry.spec();
    }

    public Shape input() {
        return geometry.input();
    }

    public Shape output() {
        return geometry.output();
    }

    /** Input elements the first window, output (0, 0), covers. */
    public long firstInputElements() {
        return (long) rows.first().inputElements() * cols.first().inputElements();
    }

    /** Input elements the last window, output (OH-1, OW-1), covers. */
    public long lastInputElements() {
        return (long) rows.last().inputElements() * cols.last().inputElements();
    }

    /** The divisor of an average for the first window, output (0, 0). */
    public long firstDivisor() {
        return (long) rows.first().divisorFactor() * cols.first().divisorFactor();
    }

    /** The divisor of an average for the last window, output (OH-1, OW-1). */
    public long lastDivisor() {
        return (long) rows.last().divisorFactor() * cols.last().divisorFactor();
    }

    /** How PyTorch, TensorFlow and ONNX would treat this request, in that order. */
    public List<FrameworkVerdict> frameworks() {
        return FrameworkRules.compare(geometry);
    }
}
