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
}
