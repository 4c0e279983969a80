package dev.clpool;

/**
 * The resolved geometry of one spatial axis (rows or columns) of a pooling operation: sizes,
 * window, stride, dilation and the padding actually applied. Produced by
 * {@link PoolSpec#geometry(Shape)}, which has checked that every window covers input (and, for a
 * row band of such an axis, by the OpenCL backend, which checks that the band's windows are the
 * axis' own).
 *
 * <p>Output {@code o}'s window has taps {@code j = 0..window-1} at input positions
 * {@code start(o) + j*dilation}; those inside {@code [0, in)} are {@link #firstTap(int)} (inclusive)
 * to {@link #endTap(int)} (exclusive).
 */
public record Axis(int in, int out, int window, int stride, int dilation, int padBegin, int padEnd) {

    /** The window's extent in input positions, {@code (window-1)*dilation + 1}. */
    public int effectiveWindow() {
        return effectiveWindow(window, dilation);
    }

    static int effectiveWindow(int window, int dilation) {
        return (int) Math.min(Integer.MAX_VALUE, (long) (window - 1) * dilation + 1);
    }

    /**
     * Whether the windows tile the axis: window = stride, dilation 1, no padding, and every input
     * position in exactly one window ({@code out * window == in}). The one-pass backward kernels of
     * channels-first planes take such axes (cpu/CfPairBackward, opencl/backward_tiles.cl).
     */
    public boolean tiles() {
        return stride == window && dilation == 1 && padBegin == 0 && padEnd == 0 && (long) out * window == in;
    }

    /**
     * The output length with explicit padding: {@code floor((in + begin + end - e) / s) + 1}, or in
     * ceil mode {@code ceil(...) + 1} less a last window that would start at or after
     * {@code in + begin} (PyTorch's Pool.h, ONNX's shape inference; {@code e} the effective window).
     * 0 when the padded axis is shorter than the window. The one output-size rule for explicit
     * padding: {@link PoolSpec#geometry} and {@code explain} both use it.
     */
    public static long explicitOut(long in, int effectiveWindow, int stride, long begin, long end, boolean ceil) {
        long span = in + begin + end - effectiveWindow;
        if (span < 0) {
            return 0;
        }
        long out = ceil ? (span + stride - 1) / stride + 1 : span / stride + 1;
        if (ceil && (out - 1) * stride >= in + begin) {
            out--;
        }
        return out;
    }

    /** The output length with SAME padding (either placement): {@code ceil(in / s)}. */
    public static long sameOut(long in, int stride) {
        return (in + stride - 1) / stride;
    }

    /** The total SAME padding for {@code out} outputs: {@code max((out - 1) * s + e - in, 0)}. */
    public static long samePadTotal(long in, long out, int effectiveWindow, int stride) {
        return Math.max((out - 1) * stride + effectiveWindow - in, 0);
    }

    /** Input position of tap 0 of output {@code o} (negative inside the leading padding). */
    public long start(int o) {
        return (long) o * stride - padBegin;
    }

    /** First tap of output {@code o} that lies inside the input. */
    public int firstTap(int o) {
        long s = start(o);
        return s >= 0 ? 0 : (int) Math.min(window, (-s + dilation - 1) / dilation);
    }

    /** One past the last tap of output {@code o} that lies inside the input. */
    public int endTap(int o) {
        long last = in - 1 - start(o);
        return last < 0 ? 0 : (int) Math.min(window, last / dilation + 1);
    }

    /** Number of input elements output {@code o}'s window covers on this axis. */
    public int count(int o) {
        return Math.max(0, endTap(o) - firstTap(o));
    }

    /**
     * The window's factor of the {@code count_include_pad} divisor: its taps that lie inside the
     * padded input, positions {@code -padBegin .. in+padEnd-1} (SEMANTICS.md; ONNX AveragePool).
     * Without dilation this is the extent from the window's start to its end clipped at the end of
     * the trailing padding (PyTorch's rule: a ceil-mode overhang does not count); with dilation it
     * counts taps, not the span between the first and the last.
     */
    public int extentIncludingPad(int o) {
        long last = (long) in + padEnd - 1 - start(o);
        return last < 0 ? 0 : (int) Math.min(window, last / dilation + 1);
    }

    /**
     * One spatial axis of a spec applied to an input of size {@code in}: SAME padding resolved,
     * the output size computed (SEMANTICS.md), and every window checked to cover input.
     *
     * @throws InvalidSpecException the output would be empty, or some window covers no input element
     */
    static Axis resolve(String name, int in, int k, int s, int d, Padding padding, int explicitBegin, int explicitEnd,
                        boolean ceilMode) {
        int e = effectiveWindow(k, d);
        long begin;
        long end;
        long out;
        switch (padding.kind()) {
            case SAME:
            case SAME_LOWER: {
                out = sameOut(in, s);
                long total = samePadTotal(in, out, e, s);
                long half = total / 2;
                begin = padding.kind() == Padding.Kind.SAME ? half : total - half;
                end = total - begin;
                break;
            }
            default: {
                begin = explicitBegin;
                end = explicitEnd;
                long span = in + begin + end - e;
                if (span < 0) {
                    throw new InvalidSpecException("window", k + " (effective " + e + ")",
                            "larger than the padded " + name + " " + (in + begin + end)
                                    + ": the output would be empty");
                }
                out = explicitOut(in, e, s, begin, end, ceilMode);
                break;
            }
        }
        if (out < 1 || out > Integer.MAX_VALUE) {
            throw new InvalidSpecException("window", k, "gives an output " + name + " of " + out);
        }
        if (in + begin + end > Integer.MAX_VALUE) {
            // Positions and extents on an axis are ints (Axis, the kernels): keep them exact.
            throw new InvalidSpecException("padding", padding, "the padded " + name + " " + (in + begin + end)
                    + " exceeds 2^31-1");
        }
        Axis axis = new Axis(in, (int) out, k, s, d, (int) begin, (int) end);
        for (int o = 0; o < axis.out(); o++) {
            if (axis.count(o) == 0) {
                throw new InvalidSpecException("padding", padding,
                        "output " + name + " position " + o + " has a window that covers no input element");
            }
        }
        return axis;
    }
}
