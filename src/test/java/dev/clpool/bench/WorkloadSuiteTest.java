package dev.clpool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.TensorShape;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Run;
import dev.clpool.bench.WorkloadSuite.Variant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The workload suite covers every operation, kind of data, storage type and API (issue 12). */
class WorkloadSuiteTest {

    @Test
    void suite_coversEveryOperationAndMode() {
        Set<String> kinds = WorkloadSuite.all().stream().map(w -> w.op() + " " + w.poolMode()).collect(Collectors.toSet());
        assertEquals(Set.of("POOL MAX", "POOL AVG", "POOL LP", "POOL_WITH_INDICES MAX", "BACKWARD MAX", "BACKWARD AVG",
                "GLOBAL AVG", "GLOBAL MAX", "ADAPTIVE AVG", "ADAPTIVE MAX"), kinds);
    }

    @Test
    void everyWorkload_hasAUniqueName_aSource_andAnInputOfAtMostAbout100MB() {
        Set<String> names = new HashSet<>();
        for (Workload w : WorkloadSuite.all()) {
            assertTrue(names.add(w.name()), "duplicate " + w.name());
            assertTrue(w.source().length() > 20, w.name() + ": " + w.source());
            assertTrue(w.tensorShape().elementCount() * 4 <= 110L << 20, w.name() + " " + w.dims());
            assertEquals(w, WorkloadSuite.named(w.name()));
        }
    }

    @Test
    void fullRuns_measureEveryKindOfDataStorageAndApi() {
        List<Run> runs = WorkloadSuite.all().stream().flatMap(w -> WorkloadSuite.fullRuns(w).stream()).toList();
        assertEquals(Set.of(Data.values()), runs.stream().map(r -> r.variant().data()).collect(Collectors.toSet()));
        assertEquals(Set.of(DType.FLOAT32, DType.FLOAT16), runs.stream().map(r -> r.variant().dtype())
                .collect(Collectors.toSet()));
        assertEquals(Set.of(Api.ALLOCATING, Api.INTO), runs.stream().map(r -> r.variant().api())
                .collect(Collectors.toSet()));
    }

    @Test
    void quickRuns_coverEveryOperationDataStorageAndApi_onceEach() {
        List<Run> quick = WorkloadSuite.quickRuns();
        assertEquals(Set.of(Op.values()), quick.stream().map(r -> r.workload().op()).collect(Collectors.toSet()));
        assertEquals(Set.of(Data.values()), quick.stream().map(r -> r.variant().data()).collect(Collectors.toSet()));
        assertEquals(Set.of(DType.FLOAT32, DType.FLOAT16), quick.stream().map(r -> r.variant().dtype())
                .collect(Collectors.toSet()));
        assertEquals(Set.of(Api.ALLOCATING, Api.INTO), quick.stream().map(r -> r.variant().api())
                .collect(Collectors.toSet()));
    }

    @Test
    void allocationCases_spanOneToOneHundredMiB_forEveryOperation() {
        List<Workload> all = WorkloadSuite.allocationCases(false);
        assertEquals(Set.of(Op.values()), all.stream().map(Workload::op).collect(Collectors.toSet()));
        for (Op op : List.of(Op.POOL, Op.POOL_WITH_INDICES, Op.BACKWARD, Op.ADAPTIVE)) {
            List<Long> mib = all.stream().filter(w -> w.op() == op)
                    .map(w -> w.resultShape().elementCount() * 4 >> 20).sorted().toList();
            assertEquals(List.of(1L, 10L, 100L), mib, op.toString());
        }
        assertTrue(WorkloadSuite.allocationCases(true).size() < all.size());
    }

    @Test
    void bytes_countWhatEachOperationMustMove() {
        Shape s = Shape.of(1, 4, 4, 2);
        Workload pool = Workload.windowed("a", "test source of some length", Op.POOL, "max k=2 s=2", s);
        assertEquals((32 + 8) * 4, pool.bytes(DType.FLOAT32));
        assertEquals((32 + 8) * 2, pool.bytes(DType.FLOAT16));
        Workload idx = Workload.windowed("b", "test source of some length", Op.POOL_WITH_INDICES, "max k=2 s=2", s);
        assertEquals((32 + 8) * 4 + 8 * 8, idx.bytes(DType.FLOAT32));
        Workload maxBack = Workload.windowed("c", "test source of some length", Op.BACKWARD, "max k=2 s=2", s);
        assertEquals((32 + 8 + 32) * 4, maxBack.bytes(DType.FLOAT32));
        assertEquals(TensorShape.of(s), maxBack.resultShape());
        Workload avgBack = Workload.windowed("d", "test source of some length", Op.BACKWARD, "avg k=2 s=2", s);
        assertEquals((8 + 32) * 4, avgBack.bytes(DType.FLOAT32));
        Workload adaptive = Workload.adaptive("e", "test source of some length", PoolMode.MAX, s, 3, 3);
        assertEquals(Shape.of(1, 3, 3, 2), adaptive.outputShape());
        assertEquals("adaptive max 3x3", adaptive.label());
        assertEquals("backward avg 2x2 s2", avgBack.label());
    }

    @Test
    void data_randomReluAndZero() {
        Shape s = Shape.of(1, 32, 32, 16);
        float[] relu = Data.RELU.tensor(s, DType.FLOAT32, 1).toArray();
        long zeros = 0;
        for (float v : relu) {
            assertTrue(v >= 0, "relu value " + v);
            zeros += Float.floatToRawIntBits(v) == 0 ? 1 : 0;
        }
        assertTrue(zeros > relu.length * 0.4 && zeros < relu.length * 0.6, zeros + " zeros of " + relu.length);
        for (float v : Data.ZERO.tensor(s, DType.FLOAT16, 1).toArray()) {
            assertEquals(0, Float.floatToRawIntBits(v));
        }
        Tensor half = Data.RANDOM.tensor(s, DType.FLOAT16, 1);
        assertEquals(DType.FLOAT16, half.dtype());
    }

    @Test
    void data_constantAndSorted() {
        Shape s = Shape.of(2, 8, 8, 4);
        for (float v : Data.CONSTANT.tensor(s, DType.FLOAT32, 1).toArray()) {
            assertEquals(1f, v);
        }
        float[] sorted = Data.SORTED.tensor(s, DType.FLOAT32, 1).toArray();
        assertEquals(-4f, sorted[0]);
        assertTrue(sorted[sorted.length - 1] > 3.9f && sorted[sorted.length - 1] < 4f, "last " + sorted[sorted.length - 1]);
        for (int i = 1; i < sorted.length; i++) {
            assertTrue(sorted[i] > sorted[i - 1], "rises at " + i);
        }
    }

    @Test
    void ops_runEveryWorkloadKind_throughEveryApi() {
        Shape s = Shape.of(1, 6, 6, 3);
        List<Workload> small = List.of(
                Workload.windowed("p", "test source of some length", Op.POOL, "avg k=3 s=1 pad=1", s),
                Workload.windowed("i", "test source of some length", Op.POOL_WITH_INDICES, "max k=2 s=2", s),
                Workload.windowed("b", "test source of some length", Op.BACKWARD, "max k=2 s=2", s),
                Workload.global("g", "test source of some length", PoolMode.MAX, s),
                Workload.adaptive("a", "test source of some length", PoolMode.AVG, s, 4, 4));
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (Workload w : small) {
                WorkloadOps ops = new WorkloadOps(w, new Variant(DType.FLOAT16, Data.RELU, Api.ALLOCATING));
                for (Api api : Api.values()) {
                    ops.call(cpu, api).run();
                }
            }
        }
    }
}
