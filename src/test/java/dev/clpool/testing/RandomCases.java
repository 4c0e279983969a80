package dev.clpool.testing;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random pooling cases shared by the CPU sweep and the device sweep: odd channel counts
 * 1..130, batches above 1, asymmetric padding, strides larger than the window, windows as large
 * as the input, 1x1 windows, dilation, ceil mode, same / same-lower, count_include_pad and LP.
 * Only cases the spec accepts are returned (invalid ones are covered by PoolSpecTest).
 */
public final class RandomCases {

    /** One case: a name that reproduces it, the input and the spec. */
    public record Case(String name, Tensor input, PoolSpec spec) {
        @Override
        public String toString() {
            return name;
        }
    }

    private RandomCases() {
    }

    public static List<Case> generate(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Case> out = new ArrayList<>();
        int attempt = 0;
        while (out.size() < count) {
            attempt++;
            Case c = one(r, seed, attempt);
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    private static Case one(SplittableRandom r, long seed, int attempt) {
        int n = 1 + r.nextInt(3);
        int h = 1 + r.nextInt(17);
        int w = 1 + r.nextInt(17);
        int c = r.nextInt(5) == 0 ? 1 + r.nextInt(130) : pickInt(r, 1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64);
        PoolMode mode = pick(r, PoolMode.MAX, PoolMode.MAX, PoolMode.AVG, PoolMode.AVG, PoolMode.LP);
        int kh;
        int kw;
        switch (r.nextInt(6)) {
            case 0: kh = h; kw = w; break;             // window = input
            case 1: kh = 1; kw = 1; break;             // 1x1
            default: kh = 1 + r.nextInt(Math.min(h, 5)); kw = 1 + r.nextInt(Math.min(w, 5)); break;
        }
        PoolSpec.Builder b = PoolSpec.builder(mode).window(kh, kw);
        if (r.nextInt(4) != 0) {
            b.stride(1 + r.nextInt(kh + 2), 1 + r.nextInt(kw + 2)); // sometimes larger than the window
        }
        int dh = 1;
        int dw = 1;
        if (r.nextInt(4) == 0) {
            dh = 1 + r.nextInt(3);
            dw = 1 + r.nextInt(3);
            b.dilation(dh, dw);
        }
        int eh = (kh - 1) * dh + 1;
        int ew = (kw - 1) * dw + 1;
        switch (r.nextInt(6)) {
            case 0: b.padding(Padding.SAME); break;
            case 1: b.padding(Padding.SAME_LOWER); break;
            case 2: case 3:
                b.padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)));
                break;
            default: break;
        }
        b.ceilMode(r.nextInt(3) == 0);
        if (mode == PoolMode.AVG) {
            b.countIncludePad(r.nextBoolean());
        }
        if (mode == PoolMode.LP) {
            b.p(pick(r, 1.0, 2.0, 3.0, 0.5, 7.5));
        }
        PoolSpec spec;
        try {
            spec = b.build();
        } catch (IllegalArgumentException e) {
            return null;
        }
        Shape shape = Shape.of(n, h, w, c);
        if (spec.check(shape).isPresent()) {
            return null;
        }
        Tensor x = values(r, shape, r.nextInt(8) == 0);
        return new Case("seed" + seed + "#" + attempt + " " + spec + " on " + shape, x, spec);
    }

    /**
     * Values in [-8, 8): half on a coarse grid of 1/64 (so windows hold ties), half arbitrary,
     * a few signed zeros, and where {@code special} a sprinkle of NaN and infinities.
     */
    public static Tensor values(SplittableRandom r, Shape s, boolean special) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(40);
            if (special && k == 0) {
                v[i] = Float.NaN;
            } else if (special && k == 1) {
                v[i] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            } else if (k == 2) {
                v[i] = r.nextBoolean() ? 0.0f : -0.0f;
            } else if (k < 20) {
                v[i] = (r.nextInt(1024) - 512) / 64f;
            } else {
                v[i] = (float) (r.nextDouble() * 16 - 8);
            }
        }
        return Tensor.of(s, v);
    }

    @SafeVarargs
    private static <T> T pick(SplittableRandom r, T... options) {
        return options[r.nextInt(options.length)];
    }

    private static int pickInt(SplittableRandom r, int... options) {
        return options[r.nextInt(options.length)];
    }
}
