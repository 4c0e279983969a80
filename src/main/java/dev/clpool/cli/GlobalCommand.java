package dev.clpool.cli;

import dev.clpool.PoolMode;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code clpool global}: average or maximum over each H×W plane. */
@Command(name = "global", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Global pooling: avg or max over each H x W plane; output shape (N, 1, 1, C).",
        footer = {"", "Example:", "  clpool global --input x.npy --output y.npy --mode avg"})
final class GlobalCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(GlobalCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--mode", required = true, paramLabel = "avg|max", converter = Converters.Mode.class,
            description = "avg or max.")
    PoolMode mode;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        if (mode == PoolMode.LP) {
            throw CliException.badInput("--mode lp: global pooling supports avg and max");
        }
        Tensor x = io.read();
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor y = engine.global(mode, x);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(y);
            LOG.info("global {} {} -> {} on {} in {} ms", mode.word(), x.shape(), y.shape(),
                    engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
