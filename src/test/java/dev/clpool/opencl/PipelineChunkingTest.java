package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How the pipelined copy path splits a batch, and which devices can order queues with events. */
class PipelineChunkingTest {
    private static final long MIB = 1L << 20;

    @Test
    void largeItems_giveAboutEightChunks() {
        // 32x112x112x64 float max 3x3 s2: 3.2 MB + 0.8 MB per item -> 4 items per chunk, 8 chunks
        assertEquals(4, Limits.pipelineChunkItems(32, 112 * 112 * 64 * 4 + 56 * 56 * 64 * 4, Integer.MAX_VALUE));
        // 8x224x224x64 global: one item per chunk
        assertEquals(1, Limits.pipelineChunkItems(8, 224 * 224 * 64 * 4 + 64 * 4, Integer.MAX_VALUE));
    }

    @Test
    void smallItems_makeChunksOfAtLeastOneMebibyte() {
        // 40 items of 64 KiB: an eighth would be 5 items (320 KiB); 16 items (1 MiB) instead, 3 chunks
        assertEquals(16, Limits.pipelineChunkItems(40, 64 * 1024, Integer.MAX_VALUE));
        // 1000 such items: an eighth each (8 MB)
        assertEquals(125, Limits.pipelineChunkItems(1000, 64 * 1024, Integer.MAX_VALUE));
        // the whole batch when it is smaller than that: one chunk, so not pipelined
        assertEquals(10, Limits.pipelineChunkItems(10, 1024, Integer.MAX_VALUE));
    }

    @Test
    void theAllocationAndOffsetLimit_capsTheChunk_andOneItemIsTheLeast() {
        assertEquals(3, Limits.pipelineChunkItems(1000, 64 * 1024, 3));
        assertEquals(1, Limits.pipelineChunkItems(1, 512 * MIB, Integer.MAX_VALUE));
        assertEquals(1, Limits.pipelineChunkItems(5, 0, 1));
    }

    @Test
    void finishSync_onlyOnPoclCpuDevices() {
        assertTrue(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_CPU, "Portable Computing Language"));
        assertTrue(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_CPU | Cl.CL_DEVICE_TYPE_DEFAULT, "Portable Computing Language"));
        assertFalse(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_GPU, "Portable Computing Language"));
        assertFalse(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_CPU, "Intel(R) OpenCL"));
        assertFalse(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_GPU, "NVIDIA CUDA"));
        assertFalse(DeviceSession.inPlace(Cl.CL_DEVICE_TYPE_CPU, null));
    }

    @Test
    void markersAndBarriers_needOpenCl12() {
        assertTrue(DeviceSession.atLeastOpenCl12("OpenCL 1.2 pocl 3.1+debian  Linux, None+Asserts, RELOC, LLVM 15.0.6"));
        assertTrue(DeviceSession.atLeastOpenCl12("OpenCL 3.0 CUDA"));
        assertTrue(DeviceSession.atLeastOpenCl12("OpenCL 2.0 "));
        assertFalse(DeviceSession.atLeastOpenCl12("OpenCL 1.1 "));
        assertFalse(DeviceSession.atLeastOpenCl12("OpenCL 1.0"));
        assertFalse(DeviceSession.atLeastOpenCl12(""));
        assertFalse(DeviceSession.atLeastOpenCl12(null));
    }
}
