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

/** {@code clpool adaptive}: average or maximum over adaptive regions, to a given output size. */
@Command(name = "adaptive", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Adaptive pooling (avg, max) to an output size per spatial axis, for example (N, OH, OW, C).",
                "Output i of an axis covers inputs floor(i*in/out) .. ceil((i+1)*in/out)-1; out may exceed in."},
        footer = {"", "Examples:", "  clpool adaptive --input x.npy --output y.npy --mode avg --output-size 7,7",
                "  clpool adaptive --input clip.npy --output y.npy --mode max --output-size 1,7,7 --layout channels-first"})
final class AdaptiveCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AdaptiveCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--mode", required = true, paramLabel = "avg|max", converter = Converters.Mode.class,
            description = "avg or max.")
    PoolMode mode;

    @Option(names = "--output-size", required = true, paramLabel = "O[,O...]",
            description = "Output size, each >= 1: one number for every spatial axis, or one per axis, outermost first.")
    String outputSize;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        if (mode == PoolMode.LP) {
            throw CliException.badInput("--mode lp: adaptive pooling supports avg and max");
        }
        if (mode == PoolMode.LP) {
            throw CliException.badInput("--mode lp: adaptive pooling supports avg and max");
        }
        AxisValues.parse("--output-size", outputSize);
        Tensor x = io.read();
        int[] size = AxisValues.expanded("--output-size", outputSize, x.tensorShape().rank());
        for (int o : size) {
            if (o < 1) {
                throw CliException.badInput("--output-size " + outputSize + ": the output size must be >= 1 on each axis");
            }
        }
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor y = engine.adaptive(mode, x, size);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(y);
            LOG.info("adaptive {} {} -> {} on {} in {} ms", mode.word(), x.tensorShape(), y.tensorShape(),
                    engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
