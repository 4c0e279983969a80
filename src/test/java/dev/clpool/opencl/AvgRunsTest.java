package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/** Which interior form of avg {@code pool2d_nhwc.cl} gets on CPU devices ({@link KernelOptions#avgRuns}). */
class AvgRunsTest {
    private static PoolGeometry avg2(Shape s) {
        return PoolSpec.avg(2, 2).stride(2).build().geometry(s);
    }

    private static PoolGeometry box3(Shape s) {
        return PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build().geometry(s);
    }

    @Test
    void multiplesOfSixtyFourChannels_inChunksOfFourVectors_onCpuDevicesOnly() {
        // DenseNet's transition, Inception's 3x3 include-pad: four vectors a tap
        assertEquals(" -D CHUNK=4", KernelOptions.avgRuns(avg2(Shape.of(16, 56, 56, 128)), 16, true));
        PoolGeometry inception = PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build()
                .geometry(Shape.of(32, 35, 35, 256));
        assertEquals(" -D CHUNK=4", KernelOptions.avgRuns(inception, 16, true));
        assertEquals(" -D CHUNK=4", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 64)), 16, true));
        // neither: the guided filter's box (512 channels), GPUs' channel lanes, 48 or 80 channels, vectors of 8, max and LP, windows past the unrolling
        assertEquals("", KernelOptions.avgRuns(box3(Shape.of(8, 19, 19, 512)), 16, true));
        assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 320)), 16, true));
        assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(16, 56, 56, 128)), 16, false));
        assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 48)), 16, true));
        assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 80)), 16, true));
        assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 136)), 8, true));
        PoolGeometry max = PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(16, 56, 56, 128));
        assertEquals("", KernelOptions.avgRuns(max, 16, true));
        PoolGeometry lp = PoolSpec.builder(dev.clpool.PoolMode.LP).window(2, 2).stride(2).p(2).build()
                .geometry(Shape.of(16, 56, 56, 128));
        assertEquals("", KernelOptions.avgRuns(lp, 16, true));
        PoolGeometry huge = PoolSpec.avg(17, 17).stride(1).padding(Padding.of(8)).build().geometry(Shape.of(1, 20, 20, 128));
        assertEquals("", KernelOptions.avgRuns(huge, 16, true));
    }

    @Test
    void property_forcesEitherForm_butNeverAnUnsupportedOne() {
        PoolGeometry densenet = avg2(Shape.of(16, 56, 56, 128));
        try {
            System.setProperty(KernelOptions.AVG_CHUNKS, "never");
            assertEquals("", KernelOptions.avgRuns(densenet, 16, true));
            System.setProperty(KernelOptions.AVG_CHUNKS, "always");
            assertEquals(" -D CHUNK=4", KernelOptions.avgRuns(densenet, 16, true));
            assertEquals(" -D CHUNK=4", KernelOptions.avgRuns(box3(Shape.of(8, 19, 19, 512)), 16, true));
            assertEquals("", KernelOptions.avgRuns(avg2(Shape.of(2, 8, 8, 48)), 16, true));
            assertEquals("", KernelOptions.avgRuns(densenet, 16, false));
        } finally {
            System.clearProperty(KernelOptions.AVG_CHUNKS);
        }
    }
}
