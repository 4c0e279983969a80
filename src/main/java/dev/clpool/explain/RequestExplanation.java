package dev.clpool.explain;

import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.TensorShape;
import java.util.ArrayList;
import java.util.List;

/**
 * A pooling request of spatial rank 1, 2 or 3, in either layout, explained without running it:
 * built from {@link PoolSpec#axes(TensorShape)}, so a request that cannot run throws the same
 * {@link dev.clpool.InvalidSpecException}. {@link Explanation} is the 2-D channels-last view of the same.
 *
 * <pre>{@code
 * RequestExplanation e = RequestExplanation.of(PoolSpec.parse("max k=2x3x3 s=1x2x2"),
 *         TensorShape.channelsFirst(1, 64, 16, 112, 112));
 * e.output();                     // 1,64,15,55,55
 * e.axes().get(0).name();         // depth
 * e.frameworks();                 // PyTorch (max_pool3d), TensorFlow (max_pool3d), ONNX (MaxPool)
 * }</pre>
 *
 * @param request         the resolved request
 * @param axes            one explained axis per spatial axis, outermost first
 * @param ceilModeIgnored true when {@code ceil mode} was asked for with same/same-lower padding,
 *                        where the output size is {@code ceil(in / stride)} by definition
 */
public record RequestExplanation(ResolvedRequest request, List<AxisExplanation> axes, boolean ceilModeIgnored) {

    public RequestExplanation {
        axes = List.copyOf(axes);
    }

    public static RequestExplanation of(PoolSpec spec, TensorShape input) {
        ResolvedRequest r = ResolvedRequest.of(spec, input);
        Padding.Kind rule = spec.padding().kind();
        List<AxisExplanation> axes = new ArrayList<>();
        for (int i = 0; i < r.rank(); i++) {
            axes.add(AxisExplanation.of(r.name(i), r.axis(i), rule, spec.ceilMode(), spec.countIncludePad()));
        }
        boolean sameRule = rule == Padding.Kind.SAME || rule == Padding.Kind.SAME_LOWER;
        return new RequestExplanation(r, axes, sameRule && spec.ceilMode());
    }

    public PoolSpec spec() {
        return request.spec();
    }

    public TensorShape input() {
        return request.input();
    }

    public TensorShape output() {
        return request.output();
    }

    /** Input elements the first window, output (0, ..., 0), covers. */
    public long firstInputElements() {
        return product(true, false);
    }

    /** Input elements the last window, the last output on every axis, covers. */
    public long lastInputElements() {
        return product(false, false);
    }

    /** The divisor of an average for the first window. */
    public long firstDivisor() {
        return product(true, true);
    }

    /** The divisor of an average for the last window. */
    public long lastDivisor() {
        return product(false, true);
    }

    private long product(boolean first, boolean divisor) {
        long p = 1;
        for (AxisExplanation a : axes) {
            WindowSpan w = first ? a.first() : a.last();
            p *= divisor ? w.divisorFactor() : w.inputElements();
        }
        return p;
    }

    /** How PyTorch, TensorFlow and ONNX would treat this request, in that order. */
    public List<FrameworkVerdict> frameworks() {
        return FrameworkRules.compare(request);
    }
}
