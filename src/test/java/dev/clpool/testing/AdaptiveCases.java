package dev.clpool.testing;

import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random adaptive-pooling cases shared by the CPU sweep and the device sweep: batches up
 * to 3, sizes 1..20, output sizes from 1 to 5 beyond the input (so regions overlap, and repeat
 * when the output is larger), odd channel counts up to 130, and now and then NaN and infinities.
 */
public final class AdaptiveCases {

    /** One case: a name that reproduces it, the input, the mode (MAX or AVG) and the output size. */
    public record Case(String name, Tensor input, PoolMode mode, int oh, int ow) {
        @Override
        public String toString() {
            return name;
        }
    }

    private AdaptiveCases() {
    }

    public static List<Case> generate(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] channels = {1, 2, 3, 4, 5, 7, 8, 16, 17, 33, 64};
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 1 + r.nextInt(3);
            int h = 1 + r.nextInt(20);
            int w = 1 + r.nextInt(20);
            int c = r.nextInt(5) == 0 ? 1 + r.nextInt(130) : channels[r.nextInt(channels.length)];
            int oh = 1 + r.nextInt(h + 5);
            int ow = 1 + r.nextInt(w + 5);
            PoolMode mode = r.nextBoolean() ? PoolMode.MAX : PoolMode.AVG;
            Shape s = Shape.of(n, h, w, c);
            Tensor x = RandomCases.values(r, s, r.nextInt(6) == 0);
            out.add(new Case("seed" + seed + "#" + i + " adaptive " + mode.word() + " " + s + " -> " + oh + "x" + ow,
                    x, mode, oh, ow));
        }
        return out;
    }
}
