package dev.clpool.spark;

import dev.clpool.opencl.SignalChaining;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Starts {@link PoolJob} again in a JVM set up as Spark and PoCL need, when it was started with a
 * plain {@code java -cp ...} (local mode without a Spark installation): with {@link #OPTIONS}, the
 * {@code java.base} packages Spark reaches into on JDK 17 (what Spark's own launcher adds), and
 * with the JDK's signal-chaining library preloaded when the OpenCL driver may be PoCL (docs/pocl-signals.md). Under {@code spark-submit} (the {@code spark.master} property is
 * set) nothing happens: Spark's launcher has already set up the driver and the executors.
 */
final class SparkJvm {
    /** Set in the child, and by users: any value runs the job in this JVM as it is. */
    static final String ENV = "CLPOOL_SPARK_JVM";

    /** Spark's JDK 17 module openings (its launcher's {@code JavaModuleOptions}; the pom's {@code spark.jvm.options}). */
    static final List<String> OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "-Dio.netty.tryReflectionSetAccessible=true");

    private SparkJvm() {
    }

    /** Whether this JVM already opens what Spark needs (checked on {@code sun.nio.ch}, which Spark uses first). */
    static boolean opened() {
        return Object.class.getModule().isOpen("sun.nio.ch", SparkJvm.class.getModule());
    }

    /**
     * Runs {@code main} with {@code args} in a child JVM set up for Spark, when this one is not;
     * returns the child's exit code, or empty when this JVM should run the job itself.
     */
    static OptionalInt relaunch(Class<?> main, String[] args) {
        if (System.getenv(ENV) != null || System.getProperty("spark.master") != null) {
            return OptionalInt.empty();
        }
        Optional<Path> jsig = SignalChaining.library();
        boolean chain = jsig.isPresent() && !SignalChaining.loaded().orElse(true);
        boolean open = opened();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (open && !chain || !Files.isExecutable(java)) {
            return OptionalInt.empty();
        }
        // Rebuilt from what this JVM knows: ProcessHandle gives no arguments for a long command line.
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (!open) {
            command.addAll(OPTIONS);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        if (chain) {
            SignalChaining.preload(pb.environment(), jsig.get());
        }
        pb.environment().put(ENV, "child");
        return SignalChaining.runChild(pb, PoolJob.FAILED);
    }
}
