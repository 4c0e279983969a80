package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.PoolMode;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The backward device sweep runs {@link BackwardCases#covering} cases (one kernel per group of
 * cases) where it used to run the CPU sweep's first 120 cases (one kernel each). This checks that
 * nothing was lost: every pair of feature values ({@link BackwardCases#features}, the gradient's
 * NaN and infinities included) that the CPU sweep's 300 cases exercise, the grouped cases exercise
 * too, for the float accumulation path the pairs of the first 40; and each group really shares one
 * spec and one channel vector class.
 */
class BackwardCasesTest {
    private static final List<BackwardCases.Case> UNGROUPED = BackwardCases.generate(BackwardCases.SEED, 300);

    @Test
    void groupedCases_coverEveryFeaturePairOfTheCpuSweep() {
        List<BackwardCases.Case> grouped = BackwardCases.covering(BackwardCases.SEED, UNGROUPED, 6);
        assertCovers(grouped, UNGROUPED);
        assertTrue(specs(grouped) < 120 / 2, "specs: " + specs(grouped));
        System.out.println("backward cases: " + grouped.size() + " grouped cases in " + specs(grouped)
                + " specs cover all " + BackwardCases.pairs(UNGROUPED).size() + " feature pairs of 300 ungrouped");
    }

    @Test
    void floatAccumulationCases_coverTheirUngroupedPairs() {
        List<BackwardCases.Case> first = UNGROUPED.subList(0, 40);
        List<BackwardCases.Case> grouped = BackwardCases.covering(BackwardCases.SEED + 1, first, 3);
        assertCovers(grouped, first);
        System.out.println("backward cases: float accumulation " + grouped.size() + " cases in " + specs(grouped)
                + " specs cover the pairs of 40 ungrouped");
    }

    private static void assertCovers(List<BackwardCases.Case> grouped, List<BackwardCases.Case> ungrouped) {
        Set<String> missing = new TreeSet<>(BackwardCases.pairs(ungrouped));
        missing.removeAll(BackwardCases.pairs(grouped));
        assertEquals(Set.of(), missing, "feature pairs of the ungrouped cases that the grouped ones lack");
        assertTrue(BackwardCases.pairs(ungrouped).stream().anyMatch(p -> p.contains("dySpecial=true")),
                "the ungrouped cases have NaN gradients");
        assertTrue(grouped.stream().noneMatch(c -> c.spec().mode() == PoolMode.LP), "backward has no lp");
        RandomCasesTest.assertGroupsShareSpecAndVectorClass(grouped.stream().map(BackwardCases::forward).toList());
        grouped.forEach(c -> assertEquals(c.spec().outputShape(c.input().shape()), c.gradOutput().shape(), c.name()));
    }

    private static long specs(List<BackwardCases.Case> cases) {
        return cases.stream().map(c -> c.spec().toString()).distinct().count();
    }
}
