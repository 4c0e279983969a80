package dev.clpool;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the package layout honest: each binding stays in its package, the library never prints,
 * the public API does not reach into the backends.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        // The library's own classes only (target/classes): importPackages would scan every jar on the
        // test classpath, Spark's ~190 included, for a package prefix they never contain.
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importUrl(PoolingEngine.class.getProtectionDomain().getCodeSource().getLocation());
    }

    @Test
    void jocl_isUsedOnlyByItsBinding() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.opencl.jocl..")
                .should().dependOnClassesThat().resideInAPackage("org.jocl..")
                .check(classes);
    }

    /**
     * LWJGL's OpenCL stays in its binding. The one other user is {@code dev.clpool.RootBuffers},
     * which calls only LWJGL's core JNI functions ({@code NewDirectByteBuffer}) for the host memory
     * pool, and falls back when they do not load.
     */
    @Test
    void lwjgl_isUsedOnlyByItsBinding() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.opencl.lwjgl..")
                .and().doNotHaveFullyQualifiedName("dev.clpool.RootBuffers")
                .should().dependOnClassesThat().resideInAPackage("org.lwjgl..")
                .check(classes);
        noClasses().that().haveFullyQualifiedName("dev.clpool.RootBuffers")
                .should().dependOnClassesThat(DescribedPredicate.describe("LWJGL outside org.lwjgl.system.jni",
                        c -> c.getPackageName().startsWith("org.lwjgl")
                                && !c.getPackageName().equals("org.lwjgl.system.jni")))
                .check(classes);
    }

    @Test
    void commandLineLibraries_stayInTheCli() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.cli..")
                .should().dependOnClassesThat().resideInAnyPackage("picocli..", "com.google.gson..", "org.slf4j.simple..")
                .check(classes);
    }

    @Test
    void library_neverWritesToStdoutOrStderr() {
        // dev.clpool.bench exists only in -Pbench builds (src/jmh): its report prints the table.
        noClasses().that().resideOutsideOfPackages("dev.clpool.cli..", "dev.clpool.bench..")
                .should().accessField(System.class, "out")
                .orShould().accessField(System.class, "err")
                .orShould().callMethod(Throwable.class, "printStackTrace")
                .check(classes);
    }

    @Test
    void backendsDoNotDependOnTheCli() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.cli..")
                .should().dependOnClassesThat().resideInAPackage("dev.clpool.cli..")
                .check(classes);
    }

    /**
     * The root package (the public API and the engine) sees backends only through
     * {@code dev.clpool.backend}: it does not depend on the CPU path or the OpenCL backend. The one
     * exception is configuration: {@code PoolingEngine.Builder}'s public methods have taken an
     * OpenCL device ({@code ClDevice}) and the OpenCL backend's {@code Options} and {@code Tuning}
     * records since before this rule, and public API must keep compiling, so exactly those value
     * types are allowed (they are data, and the engine only hands them to
     * {@code dev.clpool.backend.BackendSelector}).
     */
    @Test
    void rootPackage_doesNotDependOnCpuOrOpenCl() {
        DescribedPredicate<JavaClass> builderConfiguration = DescribedPredicate.describe(
                "OpenCL configuration types taken by PoolingEngine.Builder",
                c -> c.getName().equals("dev.clpool.opencl.ClDevice")
                        || c.getName().equals("dev.clpool.opencl.OpenClBackend$Options")
                        || c.getName().equals("dev.clpool.opencl.OpenClBackend$Tuning"));
        noClasses().that().resideInAPackage("dev.clpool")
                .should().dependOnClassesThat(DescribedPredicate.and(
                        JavaClass.Predicates.resideInAnyPackage("dev.clpool.cpu..", "dev.clpool.opencl.."),
                        DescribedPredicate.not(builderConfiguration)))
                .check(classes);
    }
}
