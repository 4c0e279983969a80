package dev.clpool.bench;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import java.util.List;

/** The standard benchmark suite of {@code clpool bench} (issue 6): fixed shapes, never scaled down. */
public final class BenchSuite {
    private BenchSuite() {
    }

    public static List<BenchCase> standard() {
        return List.of(
                BenchCase.pool(PoolSpec.max(2, 2).stride(2).build(), Shape.of(1, 512, 512, 64)),
                BenchCase.pool(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(32, 112, 112, 64)),
                BenchCase.pool(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), Shape.of(8, 56, 56, 64)),
                BenchCase.global(PoolMode.AVG, Shape.of(32, 7, 7, 2048)),
                BenchCase.global(PoolMode.AVG, Shape.of(8, 224, 224, 64)),
                BenchCase.pool(PoolSpec.max(2, 2).stride(2).build(), Shape.of(1, 8, 8, 16)));
    }
}
