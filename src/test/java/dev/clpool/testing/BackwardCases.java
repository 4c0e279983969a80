package dev.clpool.testing;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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

    /** The forward case under a backward case: its name, input and spec. */
    public static RandomCases.Case forward(Case c) {
        return new RandomCases.Case(c.name(), c.input(), c.spec());
    }

    /**
     * What a backward case exercises: its forward case's {@link RandomCases#features} and whether
     * the output gradient holds NaN or infinities.
     */
    public static List<String> features(Case c) {
        List<String> f = new ArrayList<>(RandomCases.features(forward(c)));
        boolean special = false;
        for (float v : c.gradOutput().toArray()) {
            special |= Float.isNaN(v) || Float.isInfinite(v);
        }
        f.add("dySpecial=" + special);
        return f;
    }

    /** Every pair of the cases' feature values ({@link #features}). */
    public static Set<String> pairs(List<Case> cases) {
        Set<String> out = new HashSet<>();
        for (Case c : cases) {
            RandomCases.addPairs(features(c), out);
        }
        return out;
    }

    /**
     * Cases in groups that share a spec and a channel vector class (one kernel build serves a
     * group on a device) and exercise every pair of feature values ({@link #features}) that
     * {@code target} exercises: {@link RandomCases#covering}'s max and avg groups for the forward
     * features, each case with an ordinary gradient, plus a copy with a NaN and infinity gradient
     * wherever that adds a pair not yet exercised.
     */
    public static List<Case> covering(long seed, List<Case> target, int perGroup) {
        Set<String> missing = pairs(target);
        List<RandomCases.Case> groups = RandomCases.covering(seed, target.stream().map(BackwardCases::forward).toList(),
                perGroup, s -> s.mode() != PoolMode.LP);
        SplittableRandom r = new SplittableRandom(~seed);
        List<Case> out = new ArrayList<>();
        for (RandomCases.Case c : groups) {
            Shape os = c.spec().outputShape(c.input().shape());
            for (boolean special : new boolean[] {false, true}) {
                Case b = new Case(c.name() + (special ? " dy:nan/inf" : ""), c.input(), RandomCases.values(r, os, special),
                        c.spec());
                Set<String> adds = pairs(List.of(b));
                if (!special || adds.stream().anyMatch(missing::contains)) {
                    missing.removeAll(adds);
                    out.add(b);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the groups leave pairs uncovered: " + missing);
        }
        return out;
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
