package dev.clpool.opencl;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;

/**
 * A host operation's batch in chunks on three in-order queues: chunk k's inputs are written on the
 * upload queue, its kernels run on the compute queue once those writes are done, and its outputs
 * are read on the download queue once they are done, so that the upload of one chunk and the
 * download of another overlap the kernels of a third. Chunk k uses buffer slot
 * {@code k % SLOTS}: its upload waits for the kernels of the chunk that used the slot's inputs
 * before, its kernels for the download of the one that used its outputs. Nothing waits on the host
 * but the end. On any error every queue is drained before the buffers and events are released,
 * and the error propagates.
 */
final class Pipeline {
    /** Buffers per side: chunk k+2 reuses chunk k's input and output buffers. */
    static final int SLOTS = 2;

    private Pipeline() {
    }

    /** Runs {@code op} in chunks of {@code step} items (call under the session's lock). */
    static void run(DeviceSession session, HostBatches.Op op, int step, HostBatches.Kernels kernels) {
        ClQueue upload = session.uploadQueue();
        ClQueue download = session.downloadQueue();
        ClQueue compute = session.queue();
        BufferPool buffers = session.buffers();
        int n = op.n();
        HostBatches.Side[] inputs = op.inputs();
        HostBatches.Side[] outputs = op.outputs();
        int chunks = (n + step - 1) / step;
        int slots = Math.min(SLOTS, chunks);
        ClBuffer[][] ins = new ClBuffer[slots][inputs.length];
        ClBuffer[][] outs = new ClBuffer[slots][outputs.length];
        ClEvent[] computed = new ClEvent[chunks];
        ClEvent[] downloaded = new ClEvent[chunks];
        List<ClEvent> events = new ArrayList<>(3 * chunks + 1);
        boolean ok = false;
        try {
            for (int i = 0; i < slots; i++) {
                for (int j = 0; j < inputs.length; j++) {
                    ins[i][j] = buffers.take(step * inputs[j].itemBytes());
                }
                for (int j = 0; j < outputs.length; j++) {
                    outs[i][j] = buffers.take(step * outputs[j].itemBytes());
                }
            }
            // Pooled buffers may still be used by work queued on the compute queue (a device tensor
            // closed before its operation ran): uploads start after it.
            ClEvent earlier = compute.marker();
            events.add(earlier);
            upload.waitFor(earlier);
            for (int k = 0; k < chunks; k++) {
                int n0 = k * step;
                int nb = Math.min(step, n - n0);
                int slot = k % slots;
                if (k >= slots) {
                    upload.waitFor(computed[k - slots]);
                }
                for (int j = 0; j < inputs.length; j++) {
                    upload.write(ins[slot][j], inputs[j].items(n0, nb), false);
                }
                ClEvent uploaded = upload.marker();
                events.add(uploaded);
                compute.waitFor(uploaded);
                if (k >= slots) {
                    compute.waitFor(downloaded[k - slots]);
                }
                kernels.enqueue(ins[slot], outs[slot], n0, nb);
                computed[k] = compute.marker();
                events.add(computed[k]);
                download.waitFor(computed[k]);
                for (int j = 0; j < outputs.length; j++) {
                    download.read(outs[slot][j], outputs[j].items(n0, nb), false);
                }
                if (k + slots < chunks) {
                    downloaded[k] = download.marker();
                    events.add(downloaded[k]);
                }
            }
            // The one wait: the last read follows every kernel, and every kernel its upload.
            download.finish();
            compute.finish();
            upload.finish();
            ok = true;
            session.countPipelined(chunks);
        } catch (RuntimeException | Error e) {
            drain(e, upload, compute, download);
            throw e;
        } finally {
            events.forEach(ClEvent::close);
            for (int i = 0; i < slots; i++) {
                release(buffers, ins[i], ok);
                release(buffers, outs[i], ok);
            }
            // The device read the inputs and wrote the outputs after their last use above: keep
            // the host memory (which a direct buffer frees when unreachable) alive until here.
            Reference.reachabilityFence(inputs);
            Reference.reachabilityFence(outputs);
        }
    }

    /** Waits for everything enqueued on {@code queues}, adding any failure to {@code cause} as suppressed. */
    private static void drain(Throwable cause, ClQueue... queues) {
        for (ClQueue q : queues) {
            try {
                q.finish();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }

    /** Gives buffers back for reuse after a clean run; releases them after an error (OpenCL frees them once unused). */
    private static void release(BufferPool pool, ClBuffer[] buffers, boolean reuse) {
        for (ClBuffer b : buffers) {
            if (b == null) {
                continue;
            }
            if (reuse) {
                pool.give(b);
            } else {
                b.close();
            }
        }
    }
}
