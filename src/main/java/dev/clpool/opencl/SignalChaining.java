package dev.clpool.opencl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns, once per JVM, when an OpenCL driver that compiles kernels with LLVM inside this process
 * (PoCL does) runs without the JDK's signal-chaining library; and the two steps every re-execution
 * with that library shares ({@link #preload}, {@link #runChild}).
 *
 * <p>Why: when LLVM compiles, it installs its own SIGSEGV and SIGBUS handlers over the JVM's
 * ({@code RemoveFileOnSignal}, for its temporary files). The JVM takes those signals on purpose,
 * for safepoints and implicit null checks; LLVM's handler (installed with {@code SA_RESETHAND})
 * gives the first one back to the JVM, but when several threads fault at once (a safepoint) the
 * second one meets the default action and the process dies with "Segmentation fault" and no
 * hs_err file. {@code libjsig} keeps the JVM's handlers installed and chains to LLVM's:
 * {@code LD_PRELOAD=$JAVA_HOME/lib/libjsig.so}. The CLI re-executes itself with it
 * ({@code dev.clpool.cli.SignalChainingLauncher}); the device tests get it from the pom.
 */
public final class SignalChaining {
    private static final Logger LOG = LoggerFactory.getLogger(SignalChaining.class);
    private static final Path MAPS = Path.of("/proc/self/maps");
    /** Set once the check has run (the answer cannot change for the rest of the JVM). */
    private static final AtomicBoolean CHECKED = new AtomicBoolean();

    private SignalChaining() {
    }

    /** The JDK's signal-chaining library for this JVM, if it has one (Linux). */
    public static Optional<Path> library() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.empty();
        }
        Path lib = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");
        return Files.isRegularFile(lib) ? Optional.of(lib) : Optional.empty();
    }

    /** Puts {@code lib} first in {@code env}'s {@code LD_PRELOAD}, keeping what it preloads already. */
    public static void preload(Map<String, String> env, Path lib) {
        String preload = env.get("LD_PRELOAD");
        env.put("LD_PRELOAD", preload == null || preload.isBlank() ? lib.toString() : lib + ":" + preload);
    }

    /**
     * Runs the child JVM of a re-execution (the CLI's, the Spark job's) and waits for its exit code;
     * whatever ends this JVM ends the child too (Ctrl-C reaches both; a kill reaches only this one).
     * Empty when the child could not be started (the caller then runs in this JVM, as it is);
     * {@code interrupted} when this thread is interrupted while waiting.
     */
    public static OptionalInt runChild(ProcessBuilder child, int interrupted) {
        Process process;
        try {
            process = child.start();
        } catch (IOException e) {
            return OptionalInt.empty();
        }
        Thread stop = new Thread(process::destroy, "clpool-child-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            int rc = process.waitFor();
            Runtime.getRuntime().removeShutdownHook(stop);
            return OptionalInt.of(rc);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
            return OptionalInt.of(interrupted);
        }
    }

    /** Whether {@code libjsig} is loaded into this process; empty where that cannot be read. */
    public static Optional<Boolean> loaded() {
        return mappedLibraries().map(maps -> maps.stream().anyMatch(l -> l.contains("/libjsig")));
    }

    /**
     * Called after each program build from source: the first time LLVM is found loaded without
     * {@code libjsig}, logs a warning saying what to do.
     */
    static void checkAfterSourceBuild() {
        if (CHECKED.get()) {
            return;
        }
        Optional<List<String>> maps = mappedLibraries();
        if (maps.isEmpty()) {
            CHECKED.set(true); // not Linux, or /proc unreadable: nothing to say
            return;
        }
        if (llvmLoaded(maps.get()) && CHECKED.compareAndSet(false, true)) {
            advice(maps.get()).ifPresent(LOG::warn);
        } // else no in-process LLVM (yet): look again after the next build
    }

    static boolean llvmLoaded(List<String> maps) {
        return maps.stream().anyMatch(l -> l.contains("/libLLVM"));
    }

    /**
     * What to tell the user of a process whose memory map is {@code maps} (lines of
     * {@code /proc/self/maps}): empty unless LLVM is loaded and {@code libjsig} is not.
     */
    static Optional<String> advice(List<String> maps) {
        if (!llvmLoaded(maps) || maps.stream().anyMatch(l -> l.contains("/libjsig"))) {
            return Optional.empty();
        }
        return Optional.of("the OpenCL driver compiles kernels with LLVM inside this JVM, and LLVM replaces the"
                + " JVM's signal handlers: the JVM can crash (SIGSEGV) at a safepoint. Start java with LD_PRELOAD="
                + library().map(Path::toString).orElse("$JAVA_HOME/lib/libjsig.so")
                + " (signal chaining; docs/pocl-signals.md)");
    }

    private static Optional<List<String>> mappedLibraries() {
        if (!Files.isReadable(MAPS)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readAllLines(MAPS));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
