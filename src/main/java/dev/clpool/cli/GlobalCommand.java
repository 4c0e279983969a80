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

/** {@code clpool global}: average, maximum or lp over each plane (line, volume). */
@Command(name = "global", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Global pooling: avg, max or lp over all spatial positions; every spatial size of the"
                + " output is 1 (for example (N, 1, 1, C)).",
        footer = {"", "Examples:", "  clpool global --input x.npy --output y.npy --mode avg",
                "  clpool global --input x.npy --output y.npy --mode lp --p 3 --layout channels-first"})
final class GlobalCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(GlobalCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--mode", required = true, paramLabel = "avg|max|lp", converter = Converters.Mode.class,
            description = "avg, max or lp ((sum |x|^p)^(1/p), ONNX GlobalLpPool).")
    PoolMode mode;

    @Option(names = "--p", paramLabel = "P", description = "lp: the exponent, > 0 (default: 2).")
    Double p;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        if (p != null && mode != PoolMode.LP) {
            throw CliException.badInput("--p " + p + ": applies to --mode lp only");
        }
        if (p != null && (!(p > 0) || p.isInfinite())) {
            throw CliException.badInput("--p " + p + ": must be a finite number > 0");
        }
        Tensor x = io.read();
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor y = p != null ? engine.globalLp(x, p) : engine.global(mode, x);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(y);
            LOG.info("global {} {} -> {} on {} in {} ms", mode.word(), x.tensorShape(), y.tensorShape(),
                    engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
