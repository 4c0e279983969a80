package dev.clpool.cli;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import picocli.CommandLine.Option;

/** The pooling flags of SEMANTICS.md's command line, turned into a {@link PoolSpec}. */
final class SpecOptions {
    @Option(names = "--mode", required = true, paramLabel = "max|avg|lp", converter = Converters.Mode.class,
            description = "What each window computes.")
    PoolMode mode;

    @Option(names = "--window", required = true, paramLabel = "KH[,KW]",
            description = "Window size; one number means both axes.")
    String window;

    @Option(names = "--stride", paramLabel = "SH[,SW]", description = "Stride (default: the window).")
    String stride;

    @Option(names = "--pad", paramLabel = "P|PH,PW|T,B,L,R|same|same-lower|valid", defaultValue = "valid",
            description = "Padding: all sides, per axis, each side, or a rule (default: valid).")
    String pad;

    @Option(names = "--dilation", paramLabel = "DH[,DW]", description = "Dilation (default: 1).")
    String dilation;

    @Option(names = "--ceil-mode", description = "Round the output size up (PyTorch's rule for the last window).")
    boolean ceilMode;

    @Option(names = "--count-include-pad", description = "avg: divide by the window's extent including padding.")
    boolean countIncludePad;

    @Option(names = "--p", paramLabel = "P", description = "lp: the exponent, > 0 (default: 2).")
    Double p;

    PoolSpec spec() {
        if (p != null && mode != PoolMode.LP) {
            throw CliException.badInput("--p " + p + ": applies to --mode lp only");
        }
        if (countIncludePad && mode != PoolMode.AVG) {
            throw CliException.badInput("--count-include-pad: applies to --mode avg only");
        }
        int[] k = PoolSpec.pair("window", window);
        PoolSpec.Builder b = PoolSpec.builder(mode).window(k[0], k[1]);
        if (stride != null) {
            int[] s = PoolSpec.pair("stride", stride);
            b.stride(s[0], s[1]);
        }
        if (dilation != null) {
            int[] d = PoolSpec.pair("dilation", dilation);
            b.dilation(d[0], d[1]);
        }
        b.padding(Padding.parse(pad)).ceilMode(ceilMode).countIncludePad(countIncludePad);
        if (p != null) {
            b.p(p);
        }
        return b.build();
    }
}
