package dev.clpool.cpu;

import dev.clpool.IndexConvention;
import dev.clpool.Shape;

/**
 * An index convention as a linear form over the chosen element (n, y, x, c) of a 2-D
 * channels-last input: {@code index = base(n) + y·dy + x·dx + c·dc}, with
 * {@code base(n) = n0 + (n / group)·dq + (n % group)·dr}. Every convention has this form
 * ({@link #of} checks it at the far corner of the tensor), so the fast paths form indices from
 * these coefficients, not by a call per element. {@code group} is 1 except for
 * {@link #nhwcPlanes}: channels-first planes viewed as one channel, where batch item {@code n} of
 * the view is plane {@code n % C} of item {@code n / C}.
 */
record IndexForm(long n0, long dq, long dr, int group, long dy, long dx, long dc) {

    /** {@code conv} over inputs of shape {@code s}, or null if it is not of the linear form. */
    static IndexForm of(IndexConvention conv, Shape s) {
        long b = conv.index(s, 0, 0, 0, 0);
        IndexForm f = new IndexForm(b, conv.index(s, 1, 0, 0, 0) - b, 0, 1, conv.index(s, 0, 1, 0, 0) - b,
                conv.index(s, 0, 0, 1, 0) - b, conv.index(s, 0, 0, 0, 1) - b);
        int n = s.n() - 1, y = s.h() - 1, x = s.w() - 1, c = s.c() - 1;
        long far = f.base(n) + f.dy * y + f.dx * x + f.dc * c;
        return far == conv.index(s, n, y, x, c) ? f : null;
    }

    /**
     * SEMANTICS.md's {@code nhwc} indices of a channels-first tensor with {@code channels}
     * channels, given as its one-channel view {@code view} (N·C, H, W, 1): plane position
     * {@code y·W + x} of plane {@code c = n % C} becomes {@code (y·W + x)·C + c}.
     */
    static IndexForm nhwcPlanes(Shape view, int channels) {
        return new IndexForm(0, 0, 1, channels, (long) view.w() * channels, channels, 0);
    }

    /** The index of element (n, 0, 0, 0). */
    long base(int n) {
        return n0 + (long) (n / group) * dq + (long) (n % group) * dr;
    }

    /**
     * The index offsets of the taps of a window, {@code jy·dh·dy + jx·dw·dx} for tap number
     * {@code jy·kw + jx}, or null if one does not fit in an int.
     */
    int[] tapOffsets(int kh, int kw, int dh, int dw) {
        int[] o = new int[kh * kw];
        for (int t = 0; t < o.length; t++) {
            long v = (long) (t / kw) * dh * dy + (long) (t % kw) * dw * dx;
            if (v != (int) v) {
                return null;
            }
            o[t] = (int) v;
        }
        return o;
    }
}
