package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.DType;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/**
 * Which interior form of max {@code pool2d_nhwc.cl} gets on CPU devices ({@link KernelOptions#maxRuns}),
 * and which 16-bit max windows run {@code pool2d_stored.cl} ({@link KernelOptions#maxStored}).
 */
class MaxRunsTest {
    private static PoolGeometry max2(Shape s) {
        return PoolSpec.max(2, 2).stride(2).build().geometry(s);
    }

    @Test
    void manyChannels_goTapByTap_sixtyFour_inChunks_onCpuDevicesOnly() {
        // VGG-16 block 4 and DenseNet-sized 128 channels: tap by tap; block 1 and the stem: chunks of four vectors
        assertEquals(" -D TAP_MAJOR=1", KernelOptions.maxRuns(max2(Shape.of(32, 28, 28, 512)), 16, DType.FLOAT32, true));
        assertEquals(" -D TAP_MAJOR=1", KernelOptions.maxRuns(max2(Shape.of(16, 56, 56, 128)), 16, DType.FLOAT32, true));
        assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(max2(Shape.of(8, 224, 224, 64)), 16, DType.FLOAT32, true));
        PoolGeometry stem = PoolSpec.max(3, 3).stride(2).build().geometry(Shape.of(8, 147, 147, 64));
        assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(stem, 16, DType.FLOAT32, true));
        // 16-bit storage keeps its partial maxima out of the output: on the stored patterns
        // (pool2d_stored.cl), chunks wherever C is a multiple of 64, else a vector at a time
        assertEquals(" -D STORED_MAX=1 -D CHUNK=4", KernelOptions.maxRuns(max2(Shape.of(8, 224, 224, 64)), 16, DType.FLOAT16, true));
        assertEquals(" -D STORED_MAX=1 -D CHUNK=4", KernelOptions.maxRuns(max2(Shape.of(32, 28, 28, 512)), 16, DType.FLOAT16, true));
        assertEquals(" -D STORED_MAX=1", KernelOptions.maxRuns(max2(Shape.of(2, 8, 8, 136)), 8, DType.BFLOAT16, true));
        assertEquals(" -D STORED_MAX=1", KernelOptions.maxRuns(max2(Shape.of(2, 8, 8, 48)), 16, DType.BFLOAT16, true));
        // without it (forced off), the float form as before: chunks at 64 channels only
        assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(max2(Shape.of(8, 224, 224, 64)), 16, DType.FLOAT16, true, false));
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(32, 28, 28, 512)), 16, DType.FLOAT16, true, false));
        // neither: GPUs' channel lanes, 48 channels (three vectors), vectors of 8, averages, windows past the unrolling
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(32, 28, 28, 512)), 16, DType.FLOAT32, false));
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(2, 8, 8, 48)), 16, DType.FLOAT32, true));
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(2, 8, 8, 40)), 8, DType.FLOAT32, true));
        PoolGeometry avg = PoolSpec.avg(2, 2).stride(2).build().geometry(Shape.of(32, 28, 28, 512));
        assertEquals("", KernelOptions.maxRuns(avg, 16, DType.FLOAT32, true));
        PoolGeometry huge = PoolSpec.max(17, 17).stride(1).padding(Padding.of(8)).build().geometry(Shape.of(1, 20, 20, 512));
        assertEquals("", KernelOptions.maxRuns(huge, 16, DType.FLOAT32, true));
    }

    @Test
    void stored16BitMax_onlyForMaxOver16BitStorage_inTheUnrolledChannelLoop() {
        PoolGeometry block1 = max2(Shape.of(8, 224, 224, 64));
        PoolGeometry stem = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build().geometry(Shape.of(32, 112, 112, 64));
        assertTrue(KernelOptions.maxStored(block1, DType.FLOAT16, true));
        assertTrue(KernelOptions.maxStored(stem, DType.BFLOAT16, true));
        assertTrue(KernelOptions.maxStored(max2(Shape.of(1, 4, 4, 3)), DType.FLOAT16, true));
        // not: float32, GPUs' channel lanes, averages, windows past the unrolling
        assertFalse(KernelOptions.maxStored(block1, DType.FLOAT32, true));
        assertFalse(KernelOptions.maxStored(block1, DType.FLOAT16, false));
        assertFalse(KernelOptions.maxStored(PoolSpec.avg(2, 2).stride(2).build().geometry(Shape.of(8, 224, 224, 64)), DType.FLOAT16, true));
        PoolGeometry huge = PoolSpec.max(17, 17).stride(1).padding(Padding.of(8)).build().geometry(Shape.of(1, 20, 20, 64));
        assertFalse(KernelOptions.maxStored(huge, DType.FLOAT16, true));
        try {
            System.setProperty(KernelOptions.MAX_STORED, "never");
            assertFalse(KernelOptions.maxStored(block1, DType.FLOAT16, true));
            assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(block1, 16, DType.FLOAT16, true));
            System.setProperty(KernelOptions.MAX_STORED, "always");
            assertFalse(KernelOptions.maxStored(block1, DType.FLOAT32, true));
            assertFalse(KernelOptions.maxStored(block1, DType.FLOAT16, false));
        } finally {
            System.clearProperty(KernelOptions.MAX_STORED);
        }
    }

    @Test
    void properties_forceEitherForm() {
        PoolGeometry block1 = max2(Shape.of(8, 224, 224, 64));
        PoolGeometry block4 = max2(Shape.of(32, 28, 28, 512));
        try {
            System.setProperty("clpool.opencl.maxTapMajor", "always");
            assertEquals(" -D TAP_MAJOR=1", KernelOptions.maxRuns(block1, 16, DType.FLOAT32, true));
            assertEquals(" -D STORED_MAX=1 -D CHUNK=4", KernelOptions.maxRuns(block1, 16, DType.FLOAT16, true));
            System.setProperty("clpool.opencl.maxTapMajor", "never");
            assertEquals("", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            System.setProperty("clpool.opencl.maxChunks", "always");
            assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            System.setProperty("clpool.opencl.maxChunks", "never");
            assertEquals("", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            assertEquals("", KernelOptions.maxRuns(block1, 16, DType.FLOAT32, true));
            assertEquals(" -D STORED_MAX=1", KernelOptions.maxRuns(block1, 16, DType.FLOAT16, true));
        } finally {
            System.clearProperty("clpool.opencl.maxTapMajor");
            System.clearProperty("clpool.opencl.maxChunks");
        }
    }
}
