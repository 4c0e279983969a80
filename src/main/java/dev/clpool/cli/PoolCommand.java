package dev.clpool.cli;

import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code clpool pool}: windowed max, avg or lp pooling of a .npy tensor. */
@Command(name = "pool", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Windowed pooling (max, avg, lp) of a float32 or float16 .npy file of spatial rank 1 to 3,",
                "channels-last (N, [D,] [H,] W, C) or channels-first (N, C, [D,] [H,] W)."},
        footer = {"", "Examples:", "  clpool pool --input x.npy --output y.npy --mode max --window 3 --stride 2 --pad 1",
                "  clpool pool --input video.npy --output y.npy --layout channels-first --mode avg --window 1,2,2"})
final class PoolCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(PoolCommand.class);

    @Mixin
    TensorIo io;

    @Mixin
    SpecOptions spec;

    @Mixin
    IndexOptions indices;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        spec.check();
        indices.check(spec.mode, io.output);
        Tensor x = io.read();
        PoolSpec s = spec.spec(x.tensorShape().rank());
        TensorShape out = s.outputShape(x.tensorShape()); // refuse before any device work
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            PooledWithIndices withIndices = indices.requested()
                    ? engine.poolWithIndices(x, s, indices.convention()) : null;
            Tensor y = withIndices != null ? withIndices.values() : engine.pool(x, s);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (withIndices != null) {
                indices.write(io.output, withIndices);
            } else {
                io.write(y);
            }
            LOG.info("{} {} -> {} ({}) on {} in {} ms", s, x.tensorShape(), out, out.describe(),
                    engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
