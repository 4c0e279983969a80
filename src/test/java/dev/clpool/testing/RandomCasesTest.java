package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.PoolMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The device sweep runs {@link RandomCases#covering} cases (one kernel per group of cases) where it
 * used to run 300 {@link RandomCases#generate} cases (one kernel each). This checks that nothing was
 * lost: every pair of feature values ({@link RandomCases#features}) that the 300 exercise, the
 * grouped cases exercise too, and each group really shares one spec and one channel vector class.
 */
class RandomCasesTest {
    /** The device sweep's seed (DeviceSweepIT, the same as the CPU sweep's). */
    private static final long SEED = 20261128L;
    private static final List<RandomCases.Case> UNGROUPED = RandomCases.generate(SEED, 300);
    private static final List<RandomCases.Case> GROUPED = RandomCases.covering(SEED, UNGROUPED, 6);

    @Test
    void groupedCases_coverEveryFeaturePairOfTheUngroupedSweep() {
        List<RandomCases.Case> ungrouped = UNGROUPED;
        List<RandomCases.Case> grouped = GROUPED;
        Set<String> missing = new TreeSet<>(RandomCases.pairs(ungrouped));
        missing.removeAll(RandomCases.pairs(grouped));
        assertEquals(Set.of(), missing, "feature pairs of the ungrouped sweep that the grouped one lacks");
        long groups = grouped.stream().map(c -> c.name().split("[ .]")[0]).distinct().count();
        assertTrue(groups < ungrouped.size() / 2, "groups: " + groups);
        System.out.println("random cases: " + grouped.size() + " grouped cases in " + groups + " groups cover all "
                + RandomCases.pairs(ungrouped).size() + " feature pairs of " + ungrouped.size() + " ungrouped cases");
    }

    @Test
    void floatAccumulationCases_coverTheirUngroupedPairs() {
        List<RandomCases.Case> avgLp = UNGROUPED.stream()
                .filter(c -> c.spec().mode() != PoolMode.MAX).limit(60).toList();
        List<RandomCases.Case> grouped = RandomCases.covering(SEED + 1, avgLp, 3, s -> s.mode() != PoolMode.MAX);
        assertTrue(grouped.stream().noneMatch(c -> c.spec().mode() == PoolMode.MAX));
        assertTrue(RandomCases.pairs(grouped).containsAll(RandomCases.pairs(avgLp)));
        System.out.println("random cases: float accumulation " + grouped.size() + " cases in " + specs(grouped)
                + " specs cover the pairs of 60 ungrouped");
    }

    /** StorageDeviceIT's cases: its seed and count. */
    @Test
    void spanningCases_keepEveryFeatureAndModePair_inHalfTheKernels() {
        List<RandomCases.Case> all = RandomCases.generate(20261210L, 36);
        List<RandomCases.Case> kept = RandomCases.spanning(all);
        Set<String> want = new TreeSet<>();
        all.forEach(c -> want.addAll(RandomCases.modePairs(c)));
        Set<String> got = new TreeSet<>();
        kept.forEach(c -> got.addAll(RandomCases.modePairs(c)));
        assertEquals(want, got, "features and mode pairs of the 36 that the kept cases lack");
        assertTrue(all.containsAll(kept));
        assertTrue(kept.size() <= all.size() / 2, "kept " + kept.size() + " of " + all.size());
    }

    private static long specs(List<RandomCases.Case> cases) {
        return cases.stream().map(c -> c.spec().toString()).distinct().count();
    }

    @Test
    void aGroup_sharesItsSpecAndChannelVectorClass() {
        assertGroupsShareSpecAndVectorClass(GROUPED);
    }

    /** Each group of {@code grouped} (named seedS#attempt...) has one spec and one channel vector class. */
    static void assertGroupsShareSpecAndVectorClass(List<RandomCases.Case> grouped) {
        Map<String, List<RandomCases.Case>> groups = new LinkedHashMap<>();
        for (RandomCases.Case c : grouped) {
            groups.computeIfAbsent(c.name().split("[ .]")[0], k -> new ArrayList<>()).add(c); // seedS#attempt
        }
        for (List<RandomCases.Case> g : groups.values()) {
            Set<String> classes = g.stream().map(c -> c.spec() + " vec " + RandomCases.vectorClass(c.input().shape().c()))
                    .collect(Collectors.toSet());
            assertEquals(1, classes.size(), "one spec and one vector class per group: " + classes);
            g.forEach(c -> assertTrue(c.spec().check(c.input().shape()).isEmpty(), c.name()));
        }
    }
}
