package dev.clpool.opencl;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * What clpool needs of OpenCL, and nothing more. One implementation per Java binding
 * ({@code opencl.jocl}, {@code opencl.lwjgl}); everything else in {@code dev.clpool.opencl} is
 * written once against this interface.
 *
 * <p>Handles are opaque, binding-specific values; the owning wrappers ({@link ClContext},
 * {@link ClBuffer}, ...) guarantee each is released exactly once. Every method throws
 * {@link ClException} (carrying the call and the OpenCL error name) when OpenCL reports an error.
 * Information queries return the raw bytes of {@code clGet*Info}; {@link DeviceInfo} decodes them.
 */
public interface ClBinding {

    /** Marker for a binding's handle types. */
    interface Handle { }

    interface PlatformId extends Handle { }

    interface DeviceId extends Handle { }

    interface ContextHandle extends Handle { }

    interface QueueHandle extends Handle { }

    interface MemHandle extends Handle { }

    interface ProgramHandle extends Handle { }

    interface KernelHandle extends Handle { }

    /** A {@code cl_event}: released with {@link #release(EventHandle)}. */
    interface EventHandle extends Handle { }

    /** {@code jocl} or {@code lwjgl}. */
    String name();

    /** All platforms; an empty list or {@code CL_PLATFORM_NOT_FOUND_KHR} means none is installed. */
    List<PlatformId> platforms();

    /** All devices of a platform (any type); empty if it has none. */
    List<DeviceId> devices(PlatformId platform);

    byte[] platformInfo(PlatformId platform, int param);

    byte[] deviceInfo(DeviceId device, int param);

    ContextHandle createContext(PlatformId platform, DeviceId device);

    QueueHandle createQueue(ContextHandle context, DeviceId device);

    /** A device buffer of {@code size} bytes with the given {@code CL_MEM_*} flags. */
    MemHandle createBuffer(ContextHandle context, long flags, long size);

    /**
     * A buffer over (USE_HOST_PTR) or initialised from (COPY_HOST_PTR) the direct buffer's bytes
     * from position to limit; {@code flags} must include one of those two.
     */
    MemHandle createBuffer(ContextHandle context, long flags, ByteBuffer host);

    /**
     * Compiles and links {@code source} for {@code device}. On failure the program is released
     * and a {@link ClBuildException} carries the build log and the options.
     */
    ProgramHandle buildProgram(ContextHandle context, DeviceId device, String source, String options);

    /**
     * Creates a program from a binary that {@link #programBinary} returned for the same device and
     * builds it with {@code options}. A binary the driver refuses (corrupt, or from another driver
     * version) throws {@link ClException}; the program is released then.
     */
    ProgramHandle buildProgramFromBinary(ContextHandle context, DeviceId device, byte[] binary, String options);

    /** The built program's binary for its one device ({@code CL_PROGRAM_BINARIES}); empty if the driver has none. */
    byte[] programBinary(ProgramHandle program);

    KernelHandle createKernel(ProgramHandle program, String name);

    void setArg(KernelHandle kernel, int index, MemHandle value);

    void setArg(KernelHandle kernel, int index, int value);

    void setArg(KernelHandle kernel, int index, float value);

    /** Enqueues a 1-, 2- or 3-D range; {@code local} may be null (the driver chooses). */
    void enqueueKernel(QueueHandle queue, KernelHandle kernel, long[] global, long[] local);

    /** Copies the direct buffer's remaining bytes to {@code mem} at {@code offset}. */
    void write(QueueHandle queue, MemHandle mem, long offset, ByteBuffer src, boolean blocking);

    /** Fills the direct buffer's remaining bytes from {@code mem} at {@code offset}. */
    void read(QueueHandle queue, MemHandle mem, long offset, ByteBuffer dst, boolean blocking);

    void copy(QueueHandle queue, MemHandle src, MemHandle dst, long bytes);

    /**
     * Maps {@code size} bytes of {@code mem} from {@code offset} into host memory with the given
     * {@code CL_MAP_*} flags, after all queued work (a blocking map), and returns them as a direct
     * buffer. On a buffer created with {@code CL_MEM_USE_HOST_PTR} on a host-unified device this
     * is the host memory itself: no copy.
     */
    ByteBuffer map(QueueHandle queue, MemHandle mem, long flags, long offset, long size);

    /** Ends a mapping returned by {@link #map}; enqueued, does not wait. */
    void unmap(QueueHandle queue, MemHandle mem, ByteBuffer mapped);

    void finish(QueueHandle queue);

    /**
     * Enqueues a marker ({@code clEnqueueMarkerWithWaitList}, OpenCL 1.2, empty wait list) and
     * returns its event, which completes when every command enqueued on {@code queue} before it
     * has completed. The caller releases it with {@link #release(EventHandle)}.
     */
    EventHandle marker(QueueHandle queue);

    /**
     * Enqueues a barrier ({@code clEnqueueBarrierWithWaitList}, OpenCL 1.2) that holds every later
     * command of {@code queue} until {@code event} (possibly of another queue of the same context)
     * has completed; does not wait. The queue that {@code event} belongs to must have been
     * {@linkplain #flush flushed} after it was enqueued.
     */
    void waitFor(QueueHandle queue, EventHandle event);

    /** Submits the commands enqueued so far to the device ({@code clFlush}); does not wait. */
    void flush(QueueHandle queue);

    void release(ContextHandle handle);

    void release(QueueHandle handle);

    void release(MemHandle handle);

    void release(ProgramHandle handle);

    void release(KernelHandle handle);

    void release(EventHandle handle);
}
