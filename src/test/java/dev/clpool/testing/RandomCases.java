package dev.clpool.testing;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

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

    /**
     * Random cases in groups of up to {@code perGroup} that together exercise every pair of
     * {@link #features} values that the cases of {@code target} exercise. The cases of a group
     * share their spec and their channel vector class (C mod 16: what a kernel is specialised for)
     * and differ in batch, height, width and channel count, so a device builds one kernel per
     * group (one per padding, for same / same-lower, whose padding follows the input size) instead
     * of one per case. Specs and inputs are drawn as {@link #generate} draws them (a group whose
     * window covers the whole input keeps that height and width); of every 64 groups drawn, the one
     * that adds the most pairs not yet covered is kept, until none is left.
     */
    public static List<Case> covering(long seed, List<Case> target, int perGroup) {
        return covering(seed, target, perGroup, spec -> true);
    }

    /** As {@link #covering(long, List, int)}, drawing only groups whose spec {@code accept} accepts. */
    public static List<Case> covering(long seed, List<Case> target, int perGroup, Predicate<PoolSpec> accept) {
        Set<String> missing = pairs(target);
        SplittableRandom r = new SplittableRandom(seed);
        List<Case> out = new ArrayList<>();
        int attempt = 0;
        while (!missing.isEmpty()) {
            // Greedy set cover: of CANDIDATES drawn groups, keep the one that adds the most pairs
            // (judged from their drafts; only the kept group's inputs are made, and what they
            // really exercise is what counts as covered).
            List<Draft> best = null;
            int gain = 0;
            for (int k = 0; k < CANDIDATES; k++) {
                if (++attempt > 1_000_000) {
                    throw new IllegalStateException("no random group covers " + missing);
                }
                List<Draft> group = group(r, seed, attempt, perGroup);
                if (group != null && accept.test(group.get(0).spec())) {
                    Set<String> adds = new HashSet<>();
                    group.forEach(d -> addPairs(features(d.spec(), d.shape(), d.special()), adds));
                    adds.retainAll(missing);
                    if (adds.size() > gain) {
                        best = group;
                        gain = adds.size();
                    }
                }
            }
            if (best != null) {
                List<Case> made = best.stream().map(Draft::make).toList();
                missing.removeAll(pairs(made));
                out.addAll(made);
            }
        }
        return out;
    }

    /**
     * The fewest of {@code cases} (greedy, in their order) that together exercise every
     * {@link #features} value and every pair of the mode with another feature value that all of
     * them exercise: for suites whose subject is not the window arithmetic (16-bit storage, say:
     * its loads and stores differ by mode and channel vector class, while the float32 sweep covers
     * the pairs of window features), so each case left out is a kernel build saved.
     */
    public static List<Case> spanning(List<Case> cases) {
        // Each case's values once: features() scans its input for NaN and infinities.
        List<Set<String>> values = cases.stream().map(RandomCases::modePairs).toList();
        Set<String> missing = new HashSet<>();
        values.forEach(missing::addAll);
        Set<Integer> kept = new java.util.TreeSet<>();
        while (!missing.isEmpty()) {
            int best = -1;
            int gain = 0;
            for (int i = 0; i < cases.size(); i++) {
                Set<String> adds = new HashSet<>(values.get(i));
                adds.retainAll(missing);
                if (adds.size() > gain) {
                    best = i;
                    gain = adds.size();
                }
            }
            missing.removeAll(values.get(best));
            kept.add(best);
        }
        return kept.stream().map(cases::get).toList();
    }

    /** A case's feature values and the pairs of its mode with each of them. */
    public static Set<String> modePairs(Case c) {
        List<String> f = features(c);
        Set<String> out = new HashSet<>(f);
        f.subList(1, f.size()).forEach(v -> out.add(f.get(0) + " & " + v));
        return out;
    }

    /** Groups drawn for each one {@link #covering} keeps. */
    private static final int CANDIDATES = 64;

    /** A case before its input is made: the input comes from {@code valueSeed}. */
    private record Draft(String name, PoolSpec spec, Shape shape, boolean special, long valueSeed) {
        Case make() {
            return new Case(name, values(new SplittableRandom(valueSeed), shape, special), spec);
        }
    }

    private static List<Draft> group(SplittableRandom r, long seed, int attempt, int perGroup) {
        Object[] first = spec(r);
        if (first == null) {
            return null;
        }
        PoolSpec spec = (PoolSpec) first[0];
        Shape s0 = (Shape) first[1];
        List<Draft> group = new ArrayList<>();
        group.add(new Draft("seed" + seed + "#" + attempt + " " + spec + " on " + s0, spec, s0, r.nextInt(8) == 0,
                r.nextLong()));
        boolean wholeInput = spec.windowH() == s0.h() && spec.windowW() == s0.w();
        for (int tries = 0; group.size() < perGroup && tries < 50; tries++) {
            Shape s = Shape.of(1 + r.nextInt(3), wholeInput ? s0.h() : 1 + r.nextInt(17),
                    wholeInput ? s0.w() : 1 + r.nextInt(17), sameVectorClass(r, s0.c()));
            if (spec.check(s).isEmpty()) {
                group.add(new Draft("seed" + seed + "#" + attempt + "." + (group.size() + 1) + " " + spec + " on " + s,
                        spec, s, r.nextInt(8) == 0, r.nextLong()));
            }
        }
        return group;
    }

    /** Every pair of the cases' feature values, as "name=value & name=value". */
    public static Set<String> pairs(List<Case> cases) {
        Set<String> out = new HashSet<>();
        for (Case c : cases) {
            addPairs(features(c), out);
        }
        return out;
    }

    static void addPairs(List<String> f, Set<String> out) {
        for (int i = 0; i < f.size(); i++) {
            for (int j = i + 1; j < f.size(); j++) {
                out.add(f.get(i) + " & " + f.get(j));
            }
        }
    }

    /**
     * What a case exercises, as "name=value": mode, padding rule, window class, stride against
     * the window, dilation, ceil mode, count_include_pad (avg), p (lp), channel vector class, an
     * odd channel count above 64, batch, and NaN or infinity in the input.
     */
    public static List<String> features(Case c) {
        boolean special = false;
        for (float v : c.input().toArray()) {
            special |= Float.isNaN(v) || Float.isInfinite(v);
        }
        return features(c.spec(), c.input().shape(), special);
    }

    private static List<String> features(PoolSpec s, Shape x, boolean special) {
        Padding p = s.padding();
        String padding = p.kind() != Padding.Kind.EXPLICIT ? p.kind().name()
                : p.top() + p.bottom() + p.left() + p.right() == 0 ? "none"
                : p.top() == p.bottom() && p.left() == p.right() ? "symmetric" : "asymmetric";
        String window = s.windowH() == 1 && s.windowW() == 1 ? "1x1"
                : s.windowH() == x.h() && s.windowW() == x.w() ? "input" : "general";
        String stride = s.strideH() > s.windowH() || s.strideW() > s.windowW() ? "above window"
                : s.strideH() == s.windowH() && s.strideW() == s.windowW() ? "window" : "below window";
        List<String> f = new ArrayList<>(List.of("mode=" + s.mode(), "padding=" + padding, "window=" + window,
                "stride=" + stride, "dilation=" + (s.dilationH() > 1 || s.dilationW() > 1),
                "ceil=" + s.ceilMode(), "vec=" + vectorClass(x.c()), "oddC>64=" + (x.c() % 2 == 1 && x.c() > 64),
                "n=" + x.n(), "special=" + special));
        if (s.mode() == PoolMode.AVG) {
            f.add("countIncludePad=" + s.countIncludePad());
        }
        if (s.mode() == PoolMode.LP) {
            f.add("p=" + s.p());
        }
        return f;
    }

    /** The widest of 16, 8, 4, 2, 1 channels that divides {@code c}: the kernels' vector class. */
    public static int vectorClass(int c) {
        return c % 16 == 0 ? 16 : c % 8 == 0 ? 8 : c % 4 == 0 ? 4 : c % 2 == 0 ? 2 : 1;
    }

    /** A channel count of 1..130 with the same remainder class as {@code c} for vectors of 16, 8, 4, 2. */
    private static int sameVectorClass(SplittableRandom r, int c) {
        int unit = vectorClass(c);
        int step = unit == 16 ? 16 : 2 * unit; // c = unit * odd, or a multiple of 16
        int count = (130 - unit) / step + 1;
        return unit + step * r.nextInt(count);
    }

    private static Case one(SplittableRandom r, long seed, int attempt) {
        Object[] drawn = spec(r);
        if (drawn == null) {
            return null;
        }
        PoolSpec spec = (PoolSpec) drawn[0];
        Shape shape = (Shape) drawn[1];
        Tensor x = values(r, shape, r.nextInt(8) == 0);
        return new Case("seed" + seed + "#" + attempt + " " + spec + " on " + shape, x, spec);
    }

    /** A random spec and an input shape it accepts ({spec, shape}), or null when the draw is invalid. */
    private static Object[] spec(SplittableRandom r) {
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
        return spec.check(shape).isPresent() ? null : new Object[] {spec, shape};
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
