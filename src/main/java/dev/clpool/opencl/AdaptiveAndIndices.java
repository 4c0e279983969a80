package dev.clpool.opencl;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;

/**
 * Adaptive pooling ({@code adaptive_nhwc.cl}) and max pooling with indices
 * ({@code pool2d_indices_nhwc.cl}) on an {@link OpenClBackend}'s device, with the backend's
 * context, queue, program cache and lock (as {@link OpenClBackward} does).
 *
 * <p>Like {@code pool}, tensors are uploaded, pooled and downloaded per call, in slices of whole
 * batch items whose every buffer (input, values and, for indices, the int64 array, twice the
 * values' size) fits in one device allocation.
 */
final class AdaptiveAndIndices {
    static final String ADAPTIVE_FILE = "adaptive_nhwc.cl";
    static final String INDICES_FILE = "pool2d_indices_nhwc.cl";

    private AdaptiveAndIndices() {
    }

    /** Build options of adaptive_nhwc.cl: mode, vector width and accumulator; sizes are arguments. */
    static String adaptiveOptions(PoolMode mode, int vec, boolean accDouble) {
        return "-D MODE_" + mode.name() + " -D VEC=" + vec + " -D ACC_DOUBLE=" + (accDouble ? 1 : 0);
    }

    /** Build options of pool2d_indices_nhwc.cl: pool2d's options plus the index convention. */
    static String indicesOptions(PoolGeometry g, int vec, Indices indices) {
        return KernelOptions.pool(g, vec, false) + " -D INDEX_CONVENTION=" + indices.convention().ordinal();
    }

    static void adaptive(OpenClBackend backend, AdaptiveGeometry g, Tensor in, Tensor out) {
        Shape is = g.input();
        Shape os = g.output();
        int vec = KernelOptions.vectorWidth(is.c());
        String opts = adaptiveOptions(g.mode(), vec, backend.accDouble()) + KernelOptions.storage(in.dtype());
        backend.locked(() -> {
            ClContext context = backend.context();
            ClKernel kernel = backend.programs().kernel(ADAPTIVE_FILE, opts, "adaptive2d");
            backend.forEachBatchChunk(in, out, (n0, nb, src, dst) -> {
                try (ClBuffer din = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, src);
                     ClBuffer dout = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, dst.remaining())) {
                    kernel.args(din, dout, is.h(), is.w(), is.c(), os.h(), os.w());
                    backend.queue().run(kernel, new long[] {is.c() / vec, os.w(), (long) nb * os.h()}, null);
                    backend.queue().read(dout, dst, true);
                }
            });
        });
    }

    static void maxWithIndices(OpenClBackend backend, PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        Shape is = g.input();
        Shape os = g.output();
        int vec = KernelOptions.vectorWidth(is.c());
        String opts = indicesOptions(g, vec, indices) + KernelOptions.storage(in.dtype());
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        ByteBuffer idx = indices.buffer();
        long inItem = in.byteSize() / is.n();
        long outItem = out.byteSize() / is.n();
        long idxItem = os.itemSize() * Long.BYTES;
        int step = itemsPerLaunch(is.n(), backend.maxAlloc(), inItem, outItem, idxItem);
        backend.locked(() -> {
            ClContext context = backend.context();
            ClKernel kernel = backend.programs().kernel(INDICES_FILE, opts, "pool2d_indices");
            for (int n0 = 0; n0 < is.n(); n0 += step) {
                int nb = Math.min(step, is.n() - n0);
                try (ClBuffer din = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR,
                             OpenClBackend.slice(src, n0 * inItem, nb * inItem));
                     ClBuffer dout = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, nb * outItem);
                     ClBuffer didx = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, nb * idxItem)) {
                    // n0: ONNX indices count batch items from the start of the whole tensor.
                    kernel.args(din, dout, didx, is.h(), is.w(), is.c(), os.h(), os.w(), n0);
                    backend.queue().run(kernel, new long[] {is.c() / vec, os.w(), (long) nb * os.h()}, null);
                    backend.queue().read(dout, OpenClBackend.slice(dst, n0 * outItem, nb * outItem), true);
                    backend.queue().read(didx, OpenClBackend.slice(idx, n0 * idxItem, nb * idxItem), true);
                }
            }
        });
    }

    /** Whole batch items per launch such that each buffer of {@code itemBytes} per item fits one allocation. */
    private static int itemsPerLaunch(int n, long maxAlloc, long... itemBytes) {
        long per = n;
        long largest = 0;
        for (long b : itemBytes) {
            per = Math.min(per, maxAlloc / Math.max(b, 1));
            largest = Math.max(largest, b);
        }
        if (per < 1) {
            throw new ClException("clCreateBuffer", -61 /* CL_INVALID_BUFFER_SIZE */,
                    "one batch item (" + largest + " bytes) exceeds the device's largest allocation ("
                            + maxAlloc + " bytes)");
        }
        return (int) per;
    }
}
