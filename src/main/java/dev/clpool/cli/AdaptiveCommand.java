package dev.clpool.cli;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
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
        description = {"Adaptive pooling (avg, max) to an output size: output (N, OH, OW, C).",
                "Output i covers input rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1 (columns alike); OH may exceed H."},
        footer = {"", "Example:", "  clpool adaptive --input x.npy --output y.npy --mode avg --output-size 7,7"})
final class AdaptiveCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AdaptiveCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--mode", required = true, paramLabel = "avg|max", converter = Converters.Mode.class,
            description = "avg or max.")
    PoolMode mode;

    @Option(names = "--output-size", required = true, paramLabel = "OH[,OW]",
            description = "Output height and width, each >= 1; one number means both.")
    String outputSize;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        if (mode == PoolMode.LP) {
            throw CliException.badInput("--mode lp: adaptive pooling supports avg and max");
        }
        int[] size = PoolSpec.pair("output size", outputSize);
        Tensor x = io.read();
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, x.shape(), size[0], size[1]); // refuse before any device work
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor y = engine.adaptive(mode, x, size[0], size[1]);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(y);
            LOG.info("adaptive {} {} -> {} on {} in {} ms", mode.word(), x.shape(), g.output(),
                    engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
