package dev.clpool.testing;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random backward cases shared by the CPU sweep and the device sweep: {@link RandomCases}'s
 * max and avg cases (every padding rule, stride, dilation, ceil mode, count_include_pad, ties, NaN
 * and infinities in the input), each with a seeded output gradient; one in eight gradients holds
 * NaN and infinities too.
 */
public final class BackwardCases {

    /** One case: a name that reproduces it, the forward input, the output gradient and the spec. */
    public record Case(String name, Tensor input, Tensor gradOutput, PoolSpec spec) {
        /** The float64 reference dX. */
        public double[] reference() {
            return NaiveBackward.backward(input.toArray(), input.shape(), gradOutput.toArray(), spec);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The seed of the backward sweeps: CpuBackwardTest and BackwardDeviceIT run the same cases. */
    public static final long SEED = 20261205L;

    private BackwardCases() {
    }

    public static List<Case> generate(long seed, int count) {
        List<Case> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(~seed);
        for (RandomCases.Case c : RandomCases.generate(seed, 2 * count)) {
            if (out.size() == count) {
                break;
            }
            if (c.spec().mode() == PoolMode.LP) {
                continue;
            }
            Shape os = c.spec().outputShape(c.input().shape());
            boolean special = r.nextInt(8) == 0;
            Tensor dy = RandomCases.values(r, os, special);
            out.add(new Case(c.name() + (special ? " dy:nan/inf" : ""), c.input(), dy, c.spec()));
        }
        return out;
    }
}
