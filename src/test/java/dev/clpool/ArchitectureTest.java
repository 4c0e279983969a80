package dev.clpool;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keeps the package layout honest: each binding stays in its package, the library never prints. */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.clpool");
    }

    @Test
    void jocl_isUsedOnlyByItsBinding() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.opencl.jocl..")
                .should().dependOnClassesThat().resideInAPackage("org.jocl..")
                .check(classes);
    }

    @Test
    void lwjgl_isUsedOnlyByItsBinding() {
        noClasses().that().resideOutsideOfPackage("dev.clpool.opencl.lwjgl..")
                .should().dependOnClassesThat().resideInAPackage("org.lwjgl..")
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
}
