package dev.clpool.cli;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.npy.Npy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code clpool unpool}: max unpooling, the inverse of {@code clpool pool --mode max --indices}. */
@Command(name = "unpool", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Max unpooling: a zero tensor with each value of Y written where its index points (decoded in"
                + " the output's shape); of several values naming one element, the last in channels-last order wins.",
                "Default output size per axis: (in-1)*stride + window - begin - end."},
        footer = {"", "Example:", "  clpool pool --input x.npy --output y.npy --mode max --window 2 --indices idx.npy",
                "  clpool unpool --input y.npy --indices idx.npy --output x2.npy --window 2 --output-size 5,5"})
final class UnpoolCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(UnpoolCommand.class);

    @Mixin
    TensorIo io;

    @Option(names = "--indices", required = true, paramLabel = "IDX.npy",
            description = "The int64 indices of Y's values (.npy <i8 of Y's shape and layout), as pool --indices writes them.")
    Path indices;

    @Option(names = "--window", required = true, paramLabel = "K[,K...]",
            description = "The pooling's window: one number for every spatial axis, or one per axis, outermost first.")
    String window;

    @Option(names = "--stride", paramLabel = "S[,S...]", description = "The pooling's stride (default: the window).")
    String stride;

    @Option(names = "--pad", paramLabel = "P|P,P..|B,E,B,E..|valid", defaultValue = "valid",
            description = "The pooling's explicit padding, as for pool (default: valid; same and same-lower are refused).")
    String pad;

    @Option(names = "--output-size", paramLabel = "O[,O...]",
            description = "The output's spatial size: at least the default and less than it plus the stride, per axis"
                    + " (default: the default).")
    String outputSize;

    @Option(names = "--index-convention", paramLabel = "nhwc|pytorch|onnx|onnx-column-major",
            converter = IndexOptions.ConventionConverter.class,
            description = "How the indices number the output's elements (default: nhwc); see pool --help.")
    IndexConvention convention;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws Exception {
        AxisValues.parse("--window", window);
        if (stride != null) {
            AxisValues.parse("--stride", stride);
        }
        if (outputSize != null) {
            AxisValues.parse("--output-size", outputSize);
        }
        Tensor y = io.read();
        int k = y.tensorShape().rank();
        Indices idx = Npy.readIndices(TensorIo.requireFile(indices), io.layout,
                convention == null ? IndexConvention.NHWC : convention);
        if (!idx.tensorShape().equals(y.tensorShape())) {
            throw CliException.badInput(indices + ": shape " + idx.tensorShape() + " does not match the shape "
                    + y.tensorShape() + " of " + io.input + " (the indices belong to its values)");
        }
        PoolSpec.Builder b = PoolSpec.builder(PoolMode.MAX).window(AxisValues.expanded("--window", window, k));
        if (stride != null) {
            b.stride(AxisValues.expanded("--stride", stride, k));
        }
        PoolSpec spec = b.padding(AxisValues.padding(pad, k)).build();
        int[] size = outputSize == null ? null : AxisValues.expanded("--output-size", outputSize, k);
        try (PoolingEngine engine = backend.open()) {
            long t0 = System.nanoTime();
            Tensor x = engine.unpool(y, idx, spec, size); // an index out of range: exit 2, nothing written
            long ms = (System.nanoTime() - t0) / 1_000_000;
            io.write(x);
            LOG.info("unpool {} {} -> {} ({}) on {} in {} ms", spec, y.tensorShape(), x.tensorShape(),
                    idx.convention().word(), engine.backendDescription(), ms);
        }
        return ExitCodes.OK;
    }
}
