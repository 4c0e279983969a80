package dev.clpool.cli;

import dev.clpool.opencl.SignalChaining;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Runs the command line again in a JVM with the JDK's signal-chaining library preloaded, when this
 * one lacks it (Linux). An OpenCL driver that compiles with LLVM in-process (PoCL) replaces the
 * JVM's signal handlers, which can crash the JVM; see {@link SignalChaining}. The child gets the
 * same command line, standard streams and exit code; {@code CLPOOL_SIGNAL_CHAINING=off} skips this.
 */
final class SignalChainingLauncher {
    /** Set in the child (and settable by users: {@code off} runs in this JVM, as it is). */
    static final String ENV = "CLPOOL_SIGNAL_CHAINING";

    private SignalChainingLauncher() {
    }

    /** The child's exit code, or empty when this JVM should run the command itself. */
    static OptionalInt relaunch() {
        if (System.getenv(ENV) != null) {
            return OptionalInt.empty();
        }
        Optional<Path> lib = SignalChaining.library();
        if (lib.isEmpty() || SignalChaining.loaded().orElse(true)) {
            return OptionalInt.empty();
        }
        ProcessHandle.Info self = ProcessHandle.current().info();
        if (self.command().isEmpty() || self.arguments().isEmpty()) {
            return OptionalInt.empty();
        }
        List<String> command = new ArrayList<>();
        command.add(self.command().get());
        command.addAll(List.of(self.arguments().get()));
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        SignalChaining.preload(pb.environment(), lib.get());
        pb.environment().put(ENV, "on");
        return SignalChaining.runChild(pb, ExitCodes.UNEXPECTED);
    }
}
