package dev.clpool.opencl;

import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.backend.BackendLimitException;
import java.util.List;

/**
 * What one device allocation and the kernels' 32-bit offsets hold, and the plans that follow from
 * it: how many batch items one chunk of a host operation may hold, the row bands of an item too
 * large for one chunk, the pixel ranges of a plane too large for one. Pure arithmetic, no device:
 * the routines ask it before any device work, so a refusal ({@link BackendLimitException}) leaves
 * the device untouched and the engine free to run the request on the CPU path.
 *
 * @param maxAlloc          the device's largest allocation in bytes (or the tests' override)
 * @param maxKernelElements the most elements one buffer may hold for the kernels' int offsets
 */
record Limits(long maxAlloc, long maxKernelElements) {

    /**
     * The most batch items one chunk may hold such that each of its buffers ({@code itemBytes} per
     * item, one number per buffer) fits in one device allocation and holds at most
     * {@link #maxKernelElements} elements ({@code itemElements}: the most of any buffer, per
     * item); 0 when not even one item fits.
     */
    long chunkItems(long itemElements, long... itemBytes) {
        long items = maxKernelElements / Math.max(itemElements, 1);
        for (long b : itemBytes) {
            items = Math.min(items, maxAlloc / Math.max(b, 1));
        }
        return items;
    }

    /** As {@link #chunkItems}, but refuses (naming the largest buffer of an item) when not even one item fits. */
    long requireChunkItems(long itemElements, long... itemBytes) {
        long items = chunkItems(itemElements, itemBytes);
        if (items < 1) {
            long most = 0;
            for (long b : itemBytes) {
                most = Math.max(most, b);
            }
            throw tooLarge("one batch item", "", most, itemElements);
        }
        return items;
    }

    /**
     * The row bands one batch item of {@code g} is split into when it does not fit whole: each
     * band's input ({@code inBytes} per element) and each of its outputs ({@code outBytes} per
     * element: the widest output's) fit in one device allocation and hold at most
     * {@link #maxKernelElements} elements.
     *
     * @throws BackendLimitException when not even the band of one output row fits
     */
    List<RowBands.Band> rowBands(PoolGeometry g, int inBytes, int outBytes) {
        long inRow = (long) g.input().w() * g.input().c();
        long outRow = (long) g.output().w() * g.output().c();
        long maxIn = Math.min(maxAlloc / (inRow * inBytes), maxKernelElements / inRow);
        long maxOut = Math.min(maxAlloc / (outRow * outBytes), maxKernelElements / outRow);
        int least = RowBands.inputRowsOfOneOutputRow(g.rows());
        if (least > maxIn || maxOut < 1) {
            throw tooLarge("the smallest row band of a batch item", ": one output row and the " + least
                    + " input rows its window reads", Math.max(least * inRow * inBytes, outRow * outBytes),
                    Math.max(least * inRow, outRow));
        }
        return RowBands.split(g, maxIn, maxOut);
    }

    /**
     * Pixels of one plane (of {@code c} channels, {@code elementBytes} each) that one piece of
     * global pooling may hold, at most {@code hw}.
     *
     * @throws BackendLimitException when not even one pixel fits
     */
    long pixelsPerRange(int hw, int c, int elementBytes) {
        long pixelBytes = (long) c * elementBytes;
        long perRange = Math.min(hw, Math.min(maxAlloc / pixelBytes, maxKernelElements / c));
        if (perRange < 1) {
            throw tooLarge("one pixel of a batch item", "", pixelBytes, c);
        }
        return perRange;
    }

    /**
     * Refuses a device tensor of shape {@code s} ({@code elementBytes} per element) that does not
     * fit in one allocation or the kernels' offsets; unlike a host tensor, a device tensor is not
     * limited to 2<sup>31</sup>−1 bytes.
     */
    void checkResident(Shape s, int elementBytes) {
        long bytes = s.elementCount() * elementBytes;
        if (s.elementCount() > maxKernelElements || bytes > maxAlloc) {
            throw tooLarge("a device tensor " + s, "", bytes, s.elementCount());
        }
    }

    /**
     * The refusal of a piece of work ({@code piece}, {@code detail} said after its size) of
     * {@code bytes} and {@code elements} that exceeds a device allocation (checked first) or the
     * kernels' 32-bit offsets.
     */
    BackendLimitException tooLarge(String piece, String detail, long bytes, long elements) {
        String why = bytes > maxAlloc
                ? piece + " (" + bytes + " bytes" + detail + ") exceeds the device's largest allocation (" + maxAlloc + " bytes)"
                : piece + " (" + elements + " elements" + detail + ") exceeds the " + maxKernelElements
                        + " elements the kernels' 32-bit offsets reach";
        return new BackendLimitException(why);
    }

    /** Below this many bytes (inputs + outputs) per chunk, a chunk's launch and event costs outweigh the overlap. */
    static final long PIPELINE_MIN_CHUNK_BYTES = 1L << 20;
    /** Chunks a large batch is split into, when the batch items are small enough. */
    static final int PIPELINE_TARGET_CHUNKS = 8;

    /**
     * Batch items per pipeline chunk for {@code n} items of {@code itemBytes} (inputs + outputs):
     * about {@link #PIPELINE_TARGET_CHUNKS} chunks, each at least {@link #PIPELINE_MIN_CHUNK_BYTES}
     * (or one item), and never more than {@code limit} items (the allocation and offset limits).
     */
    static int pipelineChunkItems(int n, long itemBytes, long limit) {
        long byCount = (n + (long) PIPELINE_TARGET_CHUNKS - 1) / PIPELINE_TARGET_CHUNKS;
        long byBytes = (PIPELINE_MIN_CHUNK_BYTES + Math.max(itemBytes, 1) - 1) / Math.max(itemBytes, 1);
        return (int) Math.max(1, Math.min(limit, Math.min(n, Math.max(byCount, byBytes))));
    }
}
