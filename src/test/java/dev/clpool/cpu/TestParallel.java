package dev.clpool.cpu;

import java.util.stream.IntStream;

/** How the CPU kernels' tests run a kernel's tasks: one after another, or on the common fork-join pool. */
final class TestParallel {
    /** Every task in order on the calling thread. */
    static final CpuBackward.Parallel ONE_THREAD = (tasks, body) -> {
        for (int t = 0; t < tasks; t++) {
            body.accept(t);
        }
    };

    /** The tasks on the common fork-join pool (as the engine's threads would, in any order). */
    static final CpuBackward.Parallel FORK_JOIN = (tasks, body) -> IntStream.range(0, tasks).parallel().forEach(body);

    private TestParallel() {
    }
}
