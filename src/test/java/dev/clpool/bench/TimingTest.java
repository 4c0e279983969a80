package dev.clpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BindingChoice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The order of {@link Timing}'s runs (what is timed when), not how long anything takes: the
 * operations advance a clock of the test's own by exactly their cost, so a loaded machine cannot
 * change what is asserted.
 */
class TimingTest {
    /** A quick run's warm-up and repetition rules, three timed repetitions. */
    private static final Benchmark.Config QUICK = new Benchmark.Config(true, true, false, BindingChoice.AUTO, -1, 3);

    @Test
    void interleaved_timesOneRepetitionOfEachPerRound_inOrder() {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        // Each run outlasts the quick run's 2 ms repetition target: one run per repetition.
        List<Timing.Result> r = interleaved(List.of(spin("a", 3, log), spin("b", 3, log), spin("c", 3, log)), 0);
        assertEquals(List.of("a", "b", "c", "a", "b", "c", "a", "b", "c"), log.subList(log.size() - 9, log.size()));
        for (Timing.Result t : r) {
            assertEquals(3, t.reps());
            assertEquals(1, t.opsPerRep());
        }
        // Before the rounds, each was warmed up on its own, in order.
        assertEquals("a", log.get(0));
        assertEquals(List.of("c", "a"), log.subList(log.size() - 10, log.size() - 8));
    }

    @Test
    void interleaved_eachKeepsItsOwnRunsPerRepetition_andAllGetTheSameRepetitions() {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        List<Timing.Result> r = interleaved(List.of(spin("fast", 0.2, log), spin("slow", 3, log)), 0);
        int k = r.get(0).opsPerRep();
        assertEquals(1, r.get(1).opsPerRep());
        assertEquals(10, k, "runs per repetition of a 0.2 ms operation against a 2 ms target");
        List<String> rounds = log.subList(log.size() - 3 * (k + 1), log.size());
        for (int round = 0; round < 3; round++) {
            List<String> one = rounds.subList(round * (k + 1), (round + 1) * (k + 1));
            assertEquals(Collections.nCopies(k, "fast"), one.subList(0, k), "round " + round);
            assertEquals("slow", one.get(k), "round " + round);
        }
        assertEquals(r.get(0).reps(), r.get(1).reps());
    }

    @Test
    void aBudget_cutsEveryOperationsRepetitions_toWhatTheSlowestAffords() {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        // 3 ms a repetition: a budget of 8 ms affords two of the slow one's three (the fast one alone, all three).
        List<Timing.Result> r = interleaved(List.of(spin("fast", 0.5, log), spin("slow", 3, log)), 8);
        assertEquals(2, r.get(0).reps());
        assertEquals(2, r.get(1).reps());
    }

    /** Time as the operations spend it, and a JIT that compiled everything before the test. */
    private final AtomicLong now = new AtomicLong();
    private final Timing.Clock clock = new Timing.Clock() {
        @Override
        public long nanoTime() {
            return now.get();
        }

        @Override
        public long jitMs() {
            return 0;
        }
    };

    /** An operation that takes {@code ms} of the test's clock and logs its name. */
    private Runnable spin(String name, double ms, List<String> log) {
        return () -> {
            now.addAndGet((long) (ms * 1e6));
            log.add(name);
        };
    }

    private List<Timing.Result> interleaved(List<Runnable> ops, double budgetMs) {
        return Timing.interleaved(ops, () -> { }, QUICK, budgetMs, clock);
    }
}
