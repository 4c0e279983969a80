package dev.clpool.opencl;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;

/**
 * Backward of windowed max and avg pooling on an {@link OpenClBackend}'s device: runs
 * {@code backward_nhwc.cl} (a gather over the outputs whose windows contain each input element,
 * so no atomics) with the backend's context, queue, program cache, lock and batch chunking.
 * The kernel is specialised with the same {@code -D} set as forward pooling.
 */
final class OpenClBackward {
    static final String FILE = "backward_nhwc.cl";
    static final String KERNEL = "pool2d_backward";

    private OpenClBackward() {
    }

    static void run(OpenClBackend backend, PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("backward pooling supports max and avg, not " + g.mode().word());
        }
        Shape is = g.input();
        Shape os = g.output();
        int vec = KernelOptions.vectorWidth(is.c());
        String opts = KernelOptions.pool(g, vec, backend.accDouble()) + KernelOptions.storage(in.dtype());
        boolean readsInput = g.mode() == PoolMode.MAX;
        long inItem = gradIn.byteSize() / is.n();
        ByteBuffer dx = gradIn.buffer();
        backend.locked(() -> {
            ClContext context = backend.context();
            ClKernel kernel = backend.programs().kernel(FILE, opts, KERNEL);
            // Chunks of whole batch items in which the input and the output gradient each fit one
            // allocation; the input gradient has the input's size, so it fits too.
            backend.forEachBatchChunk(in, gradOut, (n0, nb, x, dy) -> {
                ByteBuffer dxChunk = OpenClBackend.slice(dx, n0 * inItem, nb * inItem);
                try (ClBuffer ddy = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, dy);
                     // avg never reads the input: the gradient buffer stands in for it, nothing is uploaded.
                     ClBuffer dinput = readsInput
                             ? context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, x) : null;
                     ClBuffer ddx = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, dxChunk.remaining())) {
                    kernel.args(readsInput ? dinput : ddy, ddy, ddx, is.h(), is.w(), is.c(), os.h(), os.w());
                    backend.queue().run(kernel, new long[] {is.c() / vec, is.w(), (long) nb * is.h()}, null);
                    backend.queue().read(ddx, dxChunk, true);
                }
            });
        });
    }
}
