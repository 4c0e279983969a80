package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.DType;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/** Which interior form of max {@code pool2d_nhwc.cl} gets on CPU devices ({@link KernelOptions#maxRuns}). */
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
        // 16-bit storage keeps its partial maxima out of the output: chunks at 64 channels, else as before
        assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(max2(Shape.of(8, 224, 224, 64)), 16, DType.FLOAT16, true));
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(32, 28, 28, 512)), 16, DType.FLOAT16, true));
        assertEquals("", KernelOptions.maxRuns(max2(Shape.of(2, 8, 8, 136)), 8, DType.BFLOAT16, true));
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
    void properties_forceEitherForm() {
        PoolGeometry block1 = max2(Shape.of(8, 224, 224, 64));
        PoolGeometry block4 = max2(Shape.of(32, 28, 28, 512));
        try {
            System.setProperty("clpool.opencl.maxTapMajor", "always");
            assertEquals(" -D TAP_MAJOR=1", KernelOptions.maxRuns(block1, 16, DType.FLOAT32, true));
            assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(block1, 16, DType.FLOAT16, true));
            System.setProperty("clpool.opencl.maxTapMajor", "never");
            assertEquals("", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            System.setProperty("clpool.opencl.maxChunks", "always");
            assertEquals(" -D CHUNK=4", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            System.setProperty("clpool.opencl.maxChunks", "never");
            assertEquals("", KernelOptions.maxRuns(block4, 16, DType.FLOAT32, true));
            assertEquals("", KernelOptions.maxRuns(block1, 16, DType.FLOAT32, true));
        } finally {
            System.clearProperty("clpool.opencl.maxTapMajor");
            System.clearProperty("clpool.opencl.maxChunks");
        }
    }
}
