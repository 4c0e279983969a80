package dev.clpool.spark;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import dev.clpool.PoolingEngine;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Spark stays in dev.clpool.spark, so the library and the CLI never load it; the JVM flags stay in step. */
class SparkArchitectureTest {
    @Test
    void sparkAndScala_areUsedOnlyByTheSparkIntegration() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.spark..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark..", "scala..")
                .check(new ClassFileImporter()
                        // The integration itself is left out: resolving Spark's classes is slow.
                        .withImportOption(location -> !location.contains("/dev/clpool/spark/"))
                        // The main classes' folder, not a package: a package import scans every jar on
                        // the classpath, and Spark's classpath has about 190.
                        .importUrl(PoolingEngine.class.getProtectionDomain().getCodeSource().getLocation()));
    }

    @Test
    void theJobsJvmOptions_areThoseTheTestJvmRunsWith() {
        // The pom's spark.jvm.options (surefire's argLine) and SparkJvm.OPTIONS must list the same flags.
        var args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String option : SparkJvm.OPTIONS) {
            assertTrue(args.contains(option), option + " is not in the test JVM's arguments " + args);
        }
        for (String arg : args) {
            assertTrue(!arg.startsWith("--add-opens") || SparkJvm.OPTIONS.contains(arg), arg + " is not in SparkJvm.OPTIONS");
        }
        assertTrue(SparkJvm.opened());
    }
}
