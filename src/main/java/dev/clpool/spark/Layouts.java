package dev.clpool.spark;

import dev.clpool.Shape;

/**
 * Transposes between channels-first (N,C,H,W) and the engine's channels-last (N,H,W,C) order. The
 * stage's {@code layout=channels_first} runs through these on the way in and out until the engine
 * pools channels-first natively (issue 13).
 */
final class Layouts {
    private Layouts() {
    }

    /** {@code src} in (N,C,H,W) order into {@code dst} in (N,H,W,C) order; {@code nhwc} is the NHWC shape. */
    static void toChannelsLast(float[] src, Shape nhwc, float[] dst) {
        transpose(src, nhwc, dst, true);
    }

    /** {@code src} in (N,H,W,C) order into {@code dst} in (N,C,H,W) order; {@code nhwc} is the NHWC shape. */
    static void toChannelsFirst(float[] src, Shape nhwc, float[] dst) {
        transpose(src, nhwc, dst, false);
    }

    private static void transpose(float[] src, Shape s, float[] dst, boolean toLast) {
        int plane = s.h() * s.w();
        int c = s.c();
        for (int n = 0; n < s.n(); n++) {
            int base = n * plane * c;
            for (int ch = 0; ch < c; ch++) {
                int first = base + ch * plane;
                for (int p = 0; p < plane; p++) {
                    int last = base + p * c + ch;
                    if (toLast) {
                        dst[last] = src[first + p];
                    } else {
                        dst[first + p] = src[last];
                    }
                }
            }
        }
    }
}
