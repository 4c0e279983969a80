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

    @Option(names = "--window", required = true, paramLabel = "K[,K...]",
            description = "Window size: one number for every spatial axis, or one per axis, outermost first.")
    String window;

    @Option(names = "--stride", paramLabel = "S[,S...]", description = "Stride, like --window (default: the window).")
    String stride;

    @Option(names = "--pad", paramLabel = "P|P,P..|B,E,B,E..|same|same-lower|valid", defaultValue = "valid",
            description = "Padding: every side; both sides of each axis; begin,end of each axis in turn"
                    + " (T,B,L,R in 2-D); or a rule (default: valid).")
    String pad;

    @Option(names = "--dilation", paramLabel = "D[,D...]", description = "Dilation, like --window (default: 1).")
    String dilation;

    @Option(names = "--ceil-mode", description = "Round the output size up (PyTorch's rule for the last window).")
    boolean ceilMode;

    @Option(names = "--count-include-pad", description = "avg: divide by the window's extent including padding.")
    boolean countIncludePad;

    @Option(names = "--p", paramLabel = "P", description = "lp: the exponent, > 0 (default: 2).")
    Double p;

    /** Checks the flags that need no input (syntax, and flags that do not apply to the mode), before any file is read. */
    void check() {
        if (p != null && mode != PoolMode.LP) {
            throw CliException.badInput("--p " + p + ": applies to --mode lp only");
        }
        if (countIncludePad && mode != PoolMode.AVG) {
            throw CliException.badInput("--count-include-pad: applies to --mode avg only");
        }
        AxisValues.parse("--window", window);
        if (stride != null) {
            AxisValues.parse("--stride", stride);
        }
        if (dilation != null) {
            AxisValues.parse("--dilation", dilation);
        }
    }

    /** The spec for an input of spatial rank {@code k} (the input's rank less 2). */
    PoolSpec spec(int k) {
        check();
        // Always k numbers: the spec then has the input's rank and says so in its text (as 2-D always did).
        PoolSpec.Builder b = PoolSpec.builder(mode).window(AxisValues.expanded("--window", window, k));
        if (stride != null) {
            b.stride(AxisValues.expanded("--stride", stride, k));
        }
        if (dilation != null) {
            b.dilation(AxisValues.expanded("--dilation", dilation, k));
        }
        b.padding(AxisValues.padding(pad, k)).ceilMode(ceilMode).countIncludePad(countIncludePad);
        if (p != null) {
            b.p(p);
        }
        return b.build();
    }
}
