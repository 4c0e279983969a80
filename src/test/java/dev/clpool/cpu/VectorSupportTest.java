package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The test JVMs run the Vector API kernels (the pom adds the module), and say so where it is reported. */
class VectorSupportTest {
    @Test
    void testJvmsHaveTheModuleSoTheVectorKernelsAreTested() {
        assertTrue(ModuleLayer.boot().findModule(VectorSupport.MODULE).isPresent(),
                "the pom's clpool.vector.jvm.options must reach the test JVM");
    }

    @Test
    void enabledWhereTheVectorsAreWideEnough() {
        boolean wide = VecWidth.bits() >= VectorSupport.MIN_BITS;
        boolean off = "off".equalsIgnoreCase(System.getProperty(VectorSupport.PROPERTY, "").trim());
        assertEquals(wide && !off, VectorSupport.enabled());
        assertEquals(VectorSupport.enabled(), VectorSupport.describe().startsWith("Vector API kernels ("),
                VectorSupport.describe());
        assertEquals(VectorSupport.enabled(), new CpuBackend(1).description().contains("-bit Vector API kernels"));
    }
}
