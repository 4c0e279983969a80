package dev.clpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.DType;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Run;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which figures the workload bench times together, round by round. */
class WorkloadBenchmarkTest {

    @Test
    void oneLayersStorageType_allocatingAndIntoExisting_timedTogether() {
        List<Run> runs = new ArrayList<>(WorkloadSuite.fullRuns(WorkloadSuite.named("resnet50-head-gap")));
        runs.addAll(WorkloadSuite.fullRuns(WorkloadSuite.named("mobilenetv2-head-gap")));

        List<List<Run>> groups = new ArrayList<>();
        for (int i = 0; i < runs.size(); ) {
            List<Run> g = WorkloadBenchmark.sameLayerAndStorage(runs, i);
            groups.add(g);
            i += g.size();
        }

        assertEquals(4, groups.size(), "one group per layer and storage type");
        for (int layer = 0; layer < 2; layer++) {
            List<Run> f32 = groups.get(2 * layer);
            assertEquals(6, f32.size(), "float32: random allocating and five kinds of data into an existing output");
            assertEquals(1, f32.stream().filter(r -> r.variant().api() == Api.ALLOCATING).count());
            f32.forEach(r -> assertEquals(DType.FLOAT32, r.variant().dtype()));
            assertEquals(2, groups.get(2 * layer + 1).size(), "float16 on its own");
            groups.get(2 * layer + 1).forEach(r -> assertEquals(DType.FLOAT16, r.variant().dtype()));
        }
    }
}
