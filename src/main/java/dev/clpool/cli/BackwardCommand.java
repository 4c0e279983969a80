package dev.clpool.cli;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code clpool backward}: the gradient of windowed max or avg pooling with respect to its input. */
@Command(name = "backward", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Backward of windowed max or avg pooling: given the forward input X and the gradient DY"
                + " of the pooled output, writes DX, the gradient with respect to X (same shape as X).",
        footer = {"", "Example:", "  clpool backward --input x.npy --grad-output dy.npy --output dx.npy --mode max"
                + " --window 3 --stride 2 --pad 1"})
final class BackwardCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(BackwardCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--grad-output", required = true, paramLabel = "DY.npy",
            description = "Gradient of the pooled output: .npy of X's dtype and layout, shape of `clpool pool`'s output for X.")
    Path gradOutput;

    @Mixin
    SpecOptions spec;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        spec.check();
        if (spec.mode == PoolMode.LP) {
            throw CliException.badInput("--mode lp: backward supports max and avg");
        }
        Tensor x = io.read();
        Tensor dy = io.read(gradOutput);
        PoolSpec s = spec.spec(x.tensorShape().rank());
        TensorShape out = s.outputShape(x.tensorShape()); // refuse before any device work
        if (!dy.tensorShape().equals(out)) {
            throw CliException.badInput(gradOutput + ": shape " + dy.tensorShape() + " does not match the pooled output shape "
                    + out + " of " + io.input + " (" + s + ")");
        }
        if (dy.dtype() != x.dtype()) {
            throw CliException.badInput(gradOutput + ": dtype " + dy.dtype().npyDescr().orElseThrow() + " does not match "
                    + io.input + "'s " + x.dtype().npyDescr().orElseThrow() + " (the gradient DX gets X's dtype)");
        }
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor dx = engine.backward(x, dy, s);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(dx);
            LOG.info("backward {} {} <- {} on {} in {} ms", s, x.tensorShape(), dy.tensorShape(), engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
