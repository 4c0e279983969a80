package dev.clpool.explain;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.TensorShape;
import java.util.List;

/**
 * A pooling request applied to an input of spatial rank 1, 2 or 3 in either layout: what
 * {@link FrameworkRules} and {@link RequestExplanation} work on. Built from
 * {@link PoolSpec#axes(TensorShape)}, so a request that cannot run throws the same
 * {@link dev.clpool.InvalidSpecException}.
 *
 * @param spec   the request
 * @param input  the input shape
 * @param output the output shape, in the input's layout
 * @param axes   one resolved axis per spatial axis, outermost first
 */
public record ResolvedRequest(PoolSpec spec, TensorShape input, TensorShape output, List<Axis> axes) {

    private static final String[] NAMES = {"depth", "height", "width"};

    public ResolvedRequest {
        axes = List.copyOf(axes);
    }

    /** {@code spec} on {@code input}. */
    public static ResolvedRequest of(PoolSpec spec, TensorShape input) {
        List<Axis> axes = List.of(spec.axes(input));
        int[] out = new int[axes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = axes.get(i).out();
        }
        return new ResolvedRequest(spec, input, input.withSpatial(out), axes);
    }

    /** The same request as a 2-D channels-last {@link PoolGeometry} describes it. */
    public static ResolvedRequest of(PoolGeometry g) {
        return new ResolvedRequest(g.spec(), TensorShape.of(g.input()), TensorShape.of(g.output()),
                List.of(g.rows(), g.cols()));
    }

    /** The spatial rank, 1 to 3. */
    public int rank() {
        return axes.size();
    }

    public Axis axis(int i) {
        return axes.get(i);
    }

    /** {@code depth}, {@code height} or {@code width}: the name of spatial axis {@code i} (outermost first). */
    public String name(int i) {
        return NAMES[3 - axes.size() + i];
    }

    /** Whether any side of any axis is padded. */
    public boolean padded() {
        for (Axis a : axes) {
            if (a.padBegin() + a.padEnd() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The divisor of an average for the output at {@code o} (one position per axis): the product
     * of the axes' input elements, or with {@code count_include_pad} of their taps inside the padded input.
     */
    public long divisor(int... o) {
        long d = 1;
        for (int i = 0; i < axes.size(); i++) {
            Axis a = axes.get(i);
            d *= spec.countIncludePad() ? a.extentIncludingPad(o[i]) : a.count(o[i]);
        }
        return d;
    }

    /** The window, stride or dilation per axis: {@code which} 0, 1 or 2. */
    int[] perAxis(int which) {
        int[] v = new int[axes.size()];
        for (int i = 0; i < v.length; i++) {
            Axis a = axes.get(i);
            v[i] = which == 0 ? a.window() : which == 1 ? a.stride() : a.dilation();
        }
        return v;
    }

    int[] window() {
        return perAxis(0);
    }

    int[] stride() {
        return perAxis(1);
    }

    int[] dilation() {
        return perAxis(2);
    }

    boolean dilated() {
        for (int d : dilation()) {
            if (d > 1) {
                return true;
            }
        }
        return false;
    }
}
