package dev.clpool.opencl;

import dev.clpool.Tensor;
import java.nio.ByteBuffer;

/**
 * How every routine runs an operation on host tensors: over slices of whole batch items whose
 * every buffer fits in one device allocation and the kernels' 32-bit offsets (usually a single
 * slice, the whole batch), each through {@link Staging} (zero-copy on host-unified devices), or,
 * on devices that copy, as a {@link Pipeline} when the batch makes at least two chunks of
 * worthwhile size. A batch item too large for one chunk is the routine's to split (row bands,
 * pixel ranges) or refuse; here it is refused.
 */
final class HostBatches {
    private HostBatches() {
    }

    /** One host tensor of an operation: its bytes, {@code itemBytes} per batch item. */
    record Side(ByteBuffer buffer, long itemBytes) {
        static Side of(Tensor t) {
            return new Side(t.buffer(), t.byteSize() / t.shape().n());
        }

        ByteBuffer items(long n0, long nb) {
            return slice(buffer, n0 * itemBytes, nb * itemBytes);
        }
    }

    /**
     * An operation's host tensors: {@code n} batch items, the inputs and outputs, and the most
     * elements any of their buffers holds per item (for the 32-bit offset limit); and the bytes
     * per item of a device-only scratch buffer the kernels use (0: none), which must fit in an
     * allocation too.
     */
    record Op(int n, long itemElements, Side[] inputs, Side[] outputs, long scratchItemBytes) {
        Op(int n, long itemElements, Side[] inputs, Side[] outputs) {
            this(n, itemElements, inputs, outputs, 0);
        }

        /** One input tensor and one output tensor of the same batch. */
        static Op of(Tensor in, Tensor out) {
            return new Op(in.shape().n(), Math.max(in.shape().itemSize(), out.shape().itemSize()),
                    new Side[] {Side.of(in)}, new Side[] {Side.of(out)});
        }

        long[] itemBytes() {
            long[] b = new long[inputs.length + outputs.length + 1];
            for (int i = 0; i < inputs.length + outputs.length; i++) {
                b[i] = (i < inputs.length ? inputs[i] : outputs[i - inputs.length]).itemBytes();
            }
            b[b.length - 1] = scratchItemBytes;
            return b;
        }

        long bytesPerItem() {
            long sum = 0;
            for (long b : itemBytes()) {
                sum += b;
            }
            return sum;
        }

        /** Batch items one chunk may hold; 0 when not even one fits. */
        long chunkItems(Limits limits) {
            return limits.chunkItems(itemElements, itemBytes());
        }
    }

    /** Enqueues an operation over {@code nb} batch items (the first is item {@code n0}) on the compute queue; does not wait. */
    interface Kernels {
        void enqueue(ClBuffer[] in, ClBuffer[] out, int n0, int nb);
    }

    /** Runs {@code op} and waits for it (call under the session's lock). */
    static void run(DeviceSession session, Op op, Kernels kernels) {
        long limit = session.limits().requireChunkItems(op.itemElements(), op.itemBytes());
        int step = pipelineStep(session, op, limit);
        if (step > 0) {
            Pipeline.run(session, op, step, kernels);
            return;
        }
        int n = op.n();
        int chunk = (int) Math.min(n, limit);
        for (int n0 = 0; n0 < n; n0 += chunk) {
            int nb = Math.min(chunk, n - n0);
            try (Staging st = new Staging(session, items(op.inputs(), n0, nb), items(op.outputs(), n0, nb))) {
                kernels.enqueue(st.in, st.out, n0, nb);
                st.complete();
            }
        }
    }

    /**
     * Batch items per chunk when {@code op} is to be pipelined, else 0: on devices that copy, with
     * markers and barriers, when that gives at least two chunks.
     */
    private static int pipelineStep(DeviceSession session, Op op, long limit) {
        if (!session.pipelines()) {
            return 0;
        }
        int step = Limits.pipelineChunkItems(op.n(), op.bytesPerItem(), limit);
        return (op.n() + step - 1) / step >= 2 ? step : 0;
    }

    static ByteBuffer[] items(Side[] sides, long n0, long nb) {
        ByteBuffer[] b = new ByteBuffer[sides.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = sides[i].items(n0, nb);
        }
        return b;
    }

    static ByteBuffer slice(ByteBuffer b, long offset, long length) {
        return b.slice(Math.toIntExact(offset), Math.toIntExact(length));
    }
}
