package dev.clpool.opencl;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
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
 * values' size) fits in one device allocation and the kernels' 32-bit offsets. Max pooling with
 * indices splits a batch item that does not fit into row bands, as {@code pool} does; adaptive
 * pooling refuses it.
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
    static String indicesOptions(PoolGeometry g, int vec, IndexConvention convention) {
        return KernelOptions.pool(g, vec, false) + " -D INDEX_CONVENTION=" + convention.ordinal();
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

    /**
     * Max pooling with indices, in chunks of whole batch items, or where one item does not fit,
     * item by item in row bands ({@link RowBands}): the kernel then turns a band's positions into
     * the item's by the band's first row.
     */
    static void maxWithIndices(OpenClBackend backend, PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        Shape is = g.input();
        Shape os = g.output();
        int inBytes = in.dtype().byteSize();
        int outBytes = out.dtype().byteSize();
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        ByteBuffer idx = indices.buffer();
        long step = backend.chunkItems(Math.max(is.itemSize(), os.itemSize()), is.itemSize() * inBytes,
                os.itemSize() * outBytes, os.itemSize() * Long.BYTES);
        backend.locked(() -> {
            if (step < 1) {
                for (RowBands.Band b : backend.rowBands(g, inBytes, Long.BYTES)) {
                    for (int n = 0; n < is.n(); n++) {
                        indicesLaunch(backend, b.geometry(), in.dtype(), indices.convention(), n, 1, b.inFrom(), is.h(),
                                RowBands.rows(src, is, inBytes, n, b.inFrom(), b.inTo()),
                                RowBands.rows(dst, os, outBytes, n, b.outFrom(), b.outTo()),
                                RowBands.rows(idx, os, Long.BYTES, n, b.outFrom(), b.outTo()));
                    }
                }
                return;
            }
            long inItem = is.itemSize() * inBytes;
            long outItem = os.itemSize() * outBytes;
            long idxItem = os.itemSize() * Long.BYTES;
            for (int n0 = 0; n0 < is.n(); n0 += (int) step) {
                int nb = (int) Math.min(step, is.n() - n0);
                indicesLaunch(backend, g, in.dtype(), indices.convention(), n0, nb, 0, is.h(),
                        OpenClBackend.slice(src, n0 * inItem, nb * inItem),
                        OpenClBackend.slice(dst, n0 * outItem, nb * outItem),
                        OpenClBackend.slice(idx, n0 * idxItem, nb * idxItem));
            }
        });
    }

    /**
     * One launch of pool2d_indices over {@code nb} items of {@code g.input()}'s height in {@code src}
     * (the whole items of a chunk, or one band of an item): the first is batch item {@code n0}, and
     * their first row is row {@code y0} of items of {@code itemH} rows.
     */
    private static void indicesLaunch(OpenClBackend backend, PoolGeometry g, DType dtype, IndexConvention convention,
                                      int n0, int nb, int y0, int itemH, ByteBuffer src, ByteBuffer dst, ByteBuffer idx) {
        Shape is = g.input();
        Shape os = g.output();
        int vec = KernelOptions.vectorWidth(is.c());
        ClContext context = backend.context();
        ClKernel kernel = backend.programs().kernel(INDICES_FILE, indicesOptions(g, vec, convention)
                + KernelOptions.storage(dtype), "pool2d_indices");
        try (ClBuffer din = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, src);
             ClBuffer dout = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, dst.remaining());
             ClBuffer didx = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, idx.remaining())) {
            // n0: ONNX indices count batch items from the start of the whole tensor.
            kernel.args(din, dout, didx, is.h(), is.w(), is.c(), os.h(), os.w(), n0, y0, itemH);
            backend.queue().run(kernel, new long[] {is.c() / vec, os.w(), (long) nb * os.h()}, null);
            backend.queue().read(dout, dst, true);
            backend.queue().read(didx, idx, true);
        }
    }
}
