package dev.clpool.opencl.lwjgl;

import static org.lwjgl.opencl.CL10.CL_CONTEXT_PLATFORM;
import static org.lwjgl.opencl.CL10.clBuildProgram;
import static org.lwjgl.opencl.CL10.clCreateBuffer;
import static org.lwjgl.opencl.CL10.clCreateCommandQueue;
import static org.lwjgl.opencl.CL10.clCreateContext;
import static org.lwjgl.opencl.CL10.clCreateKernel;
import static org.lwjgl.opencl.CL10.clCreateProgramWithBinary;
import static org.lwjgl.opencl.CL10.clCreateProgramWithSource;
import static org.lwjgl.opencl.CL10.clEnqueueCopyBuffer;
import static org.lwjgl.opencl.CL10.clEnqueueMapBuffer;
import static org.lwjgl.opencl.CL10.clEnqueueNDRangeKernel;
import static org.lwjgl.opencl.CL10.clEnqueueReadBuffer;
import static org.lwjgl.opencl.CL10.clEnqueueUnmapMemObject;
import static org.lwjgl.opencl.CL10.clEnqueueWriteBuffer;
import static org.lwjgl.opencl.CL10.clFinish;
import static org.lwjgl.opencl.CL10.clFlush;
import static org.lwjgl.opencl.CL10.clGetDeviceIDs;
import static org.lwjgl.opencl.CL10.clGetPlatformIDs;
import static org.lwjgl.opencl.CL10.clReleaseCommandQueue;
import static org.lwjgl.opencl.CL10.clReleaseContext;
import static org.lwjgl.opencl.CL10.clReleaseEvent;
import static org.lwjgl.opencl.CL10.clReleaseKernel;
import static org.lwjgl.opencl.CL10.clReleaseMemObject;
import static org.lwjgl.opencl.CL10.clReleaseProgram;
import static org.lwjgl.opencl.CL10.clSetKernelArg1f;
import static org.lwjgl.opencl.CL10.clSetKernelArg1i;
import static org.lwjgl.opencl.CL10.clSetKernelArg1p;
import static org.lwjgl.opencl.CL10.nclGetDeviceInfo;
import static org.lwjgl.opencl.CL10.nclGetPlatformInfo;
import static org.lwjgl.opencl.CL10.nclGetProgramInfo;
import static org.lwjgl.opencl.CL10.nclGetProgramBuildInfo;
import static org.lwjgl.opencl.CL12.clEnqueueBarrierWithWaitList;
import static org.lwjgl.opencl.CL12.clEnqueueMarkerWithWaitList;

import dev.clpool.opencl.Cl;
import dev.clpool.opencl.ClBinding;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/**
 * {@link ClBinding} over LWJGL 3 (org.lwjgl:lwjgl-opencl). OpenCL handles are {@code long}s,
 * wrapped in private records; scratch native memory comes from the thread's {@link MemoryStack}
 * (or {@link MemoryUtil#memAlloc} for large info queries), always freed before a method returns.
 *
 * <p>Loading the OpenCL library: {@link LwjglLoader}.
 */
public final class LwjglBinding implements ClBinding {

    /** Info results up to this size are read into the stack; larger ones into the heap. */
    private static final long STACK_INFO_LIMIT = 1024;

    private static final int CL_DEVICE_NOT_FOUND = -1;

    private record Platform(long id) implements PlatformId { }

    private record Device(long id) implements DeviceId { }

    private record Context(long ctx) implements ContextHandle { }

    private record Queue(long q) implements QueueHandle { }

    private record Mem(long mem) implements MemHandle { }

    private record Program(long program) implements ProgramHandle { }

    private record Kernel(long kernel) implements KernelHandle { }

    private record Event(long event) implements EventHandle { }

    /**
     * Loads LWJGL's natives and the OpenCL loader and asks for the platform count once. Throws
     * {@link UnsatisfiedLinkError} (or another {@link LinkageError}) when either is missing; the
     * caller turns that into a reason.
     */
    public LwjglBinding() {
        LwjglLoader.loadOpenCl();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            clGetPlatformIDs(null, stack.mallocInt(1));
        }
    }

    @Override
    public String name() {
        return "lwjgl";
    }

    @Override
    public List<PlatformId> platforms() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            int rc = clGetPlatformIDs(null, n);
            if (rc == Cl.CL_PLATFORM_NOT_FOUND_KHR) {
                return List.of();
            }
            ClException.check("clGetPlatformIDs", rc);
            List<PlatformId> out = new ArrayList<>();
            if (n.get(0) > 0) {
                PointerBuffer ids = stack.mallocPointer(n.get(0));
                ClException.check("clGetPlatformIDs", clGetPlatformIDs(ids, (IntBuffer) null));
                for (int i = 0; i < ids.capacity(); i++) {
                    out.add(new Platform(ids.get(i)));
                }
            }
            return out;
        }
    }

    @Override
    public List<DeviceId> devices(PlatformId platform) {
        long p = ((Platform) platform).id();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            int rc = clGetDeviceIDs(p, Cl.CL_DEVICE_TYPE_ALL, null, n);
            if (rc == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            ClException.check("clGetDeviceIDs", rc);
            PointerBuffer ids = stack.mallocPointer(n.get(0));
            ClException.check("clGetDeviceIDs", clGetDeviceIDs(p, Cl.CL_DEVICE_TYPE_ALL, ids, (IntBuffer) null));
            List<DeviceId> out = new ArrayList<>();
            for (int i = 0; i < ids.capacity(); i++) {
                out.add(new Device(ids.get(i)));
            }
            return out;
        }
    }

    /** One {@code clGet*Info} call: {@code (size, valueAddress, sizeRetAddress) -> error code}. */
    @FunctionalInterface
    private interface InfoCall {
        int call(long size, long value, long sizeRet);
    }

    /** Asks for the size, then reads the value into stack or heap memory, and copies it out. */
    private static byte[] info(String call, InfoCall info) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer sizeRet = stack.mallocPointer(1);
            ClException.check(call, info.call(0, MemoryUtil.NULL, MemoryUtil.memAddress(sizeRet)));
            long size = sizeRet.get(0);
            if (size == 0) {
                return new byte[0];
            }
            if (size > Integer.MAX_VALUE) {
                throw new IllegalStateException(call + " reported an implausible size " + size);
            }
            boolean onStack = size <= STACK_INFO_LIMIT;
            ByteBuffer value = onStack ? stack.malloc((int) size) : MemoryUtil.memAlloc((int) size);
            try {
                ClException.check(call, info.call(size, MemoryUtil.memAddress(value), MemoryUtil.NULL));
                byte[] out = new byte[(int) size];
                value.get(0, out);
                return out;
            } finally {
                if (!onStack) {
                    MemoryUtil.memFree(value);
                }
            }
        }
    }

    @Override
    public byte[] platformInfo(PlatformId platform, int param) {
        long p = ((Platform) platform).id();
        return info("clGetPlatformInfo", (size, value, sizeRet) -> nclGetPlatformInfo(p, param, size, value, sizeRet));
    }

    @Override
    public byte[] deviceInfo(DeviceId device, int param) {
        long d = ((Device) device).id();
        return info("clGetDeviceInfo", (size, value, sizeRet) -> nclGetDeviceInfo(d, param, size, value, sizeRet));
    }

    @Override
    public ContextHandle createContext(PlatformId platform, DeviceId device) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer props = stack.pointers(CL_CONTEXT_PLATFORM, ((Platform) platform).id(), 0L);
            IntBuffer err = stack.mallocInt(1);
            long ctx = clCreateContext(props, ((Device) device).id(), null, MemoryUtil.NULL, err);
            ClException.check("clCreateContext", err.get(0));
            return new Context(ctx);
        }
    }

    @Override
    public QueueHandle createQueue(ContextHandle context, DeviceId device) {
        // clCreateCommandQueue: the OpenCL 1.2 entry point (deprecated in 2.0), kept for 1.2 devices.
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long q = clCreateCommandQueue(((Context) context).ctx(), ((Device) device).id(), 0L, err);
            ClException.check("clCreateCommandQueue", err.get(0));
            return new Queue(q);
        }
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, long size) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long mem = clCreateBuffer(((Context) context).ctx(), flags, size, err);
            ClException.check("clCreateBuffer", err.get(0));
            return new Mem(mem);
        }
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, ByteBuffer host) {
        ByteBuffer region = direct(host, "createBuffer").slice();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long mem = clCreateBuffer(((Context) context).ctx(), flags, region, err);
            ClException.check("clCreateBuffer", err.get(0));
            return new Mem(mem);
        }
    }

    @Override
    public ProgramHandle buildProgram(ContextHandle context, DeviceId device, String source, String options) {
        long program;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            program = clCreateProgramWithSource(((Context) context).ctx(), source, err);
            ClException.check("clCreateProgramWithSource", err.get(0));
        }
        long d = ((Device) device).id();
        return built(program, d, options);
    }

    @Override
    public ProgramHandle buildProgramFromBinary(ContextHandle context, DeviceId device, byte[] binary, String options) {
        long d = ((Device) device).id();
        long program;
        ByteBuffer bin = MemoryUtil.memAlloc(binary.length);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            bin.put(0, binary);
            IntBuffer status = stack.mallocInt(1);
            IntBuffer err = stack.mallocInt(1);
            program = clCreateProgramWithBinary(((Context) context).ctx(), stack.pointers(d), bin, status, err);
            if (err.get(0) != Cl.CL_SUCCESS || status.get(0) != Cl.CL_SUCCESS) {
                if (program != MemoryUtil.NULL && err.get(0) == Cl.CL_SUCCESS) {
                    clReleaseProgram(program);
                }
                throw new ClException("clCreateProgramWithBinary", err.get(0) != Cl.CL_SUCCESS ? err.get(0) : status.get(0));
            }
        } finally {
            MemoryUtil.memFree(bin);
        }
        return built(program, d, options);
    }

    /** Builds {@code program} for device {@code d}; on failure releases it and throws with the build log. */
    private Program built(long program, long d, String options) {
        int rc = clBuildProgram(program, d, options == null ? "" : options, null, MemoryUtil.NULL);
        if (rc != Cl.CL_SUCCESS) {
            String log = buildLog(program, d);
            clReleaseProgram(program);
            throw new ClBuildException(rc, options, log);
        }
        return new Program(program);
    }

    @Override
    public byte[] programBinary(ProgramHandle program) {
        long p = ((Program) program).program();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer sizes = stack.mallocPointer(1);
            ClException.check("clGetProgramInfo", nclGetProgramInfo(p, Cl.CL_PROGRAM_BINARY_SIZES,
                    sizes.capacity() * (long) org.lwjgl.system.Pointer.POINTER_SIZE, MemoryUtil.memAddress(sizes),
                    MemoryUtil.NULL));
            long size = sizes.get(0);
            if (size <= 0 || size > Integer.MAX_VALUE) {
                return new byte[0];
            }
            ByteBuffer bin = MemoryUtil.memAlloc((int) size);
            try {
                PointerBuffer ptrs = stack.pointers(MemoryUtil.memAddress(bin));
                ClException.check("clGetProgramInfo", nclGetProgramInfo(p, Cl.CL_PROGRAM_BINARIES,
                        (long) org.lwjgl.system.Pointer.POINTER_SIZE, MemoryUtil.memAddress(ptrs), MemoryUtil.NULL));
                byte[] out = new byte[(int) size];
                bin.get(0, out);
                return out;
            } finally {
                MemoryUtil.memFree(bin);
            }
        }
    }

    private static String buildLog(long program, long device) {
        byte[] log;
        try {
            log = info("clGetProgramBuildInfo", (size, value, sizeRet) ->
                    nclGetProgramBuildInfo(program, device, Cl.CL_PROGRAM_BUILD_LOG, size, value, sizeRet));
        } catch (ClException e) {
            return "(no build log)";
        }
        return new String(log, StandardCharsets.UTF_8).replace("\0", "");
    }

    @Override
    public KernelHandle createKernel(ProgramHandle program, String name) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long k = clCreateKernel(((Program) program).program(), name, err);
            ClException.check("clCreateKernel(" + name + ")", err.get(0));
            return new Kernel(k);
        }
    }

    @Override
    public void setArg(KernelHandle kernel, int index, MemHandle value) {
        ClException.check("clSetKernelArg", clSetKernelArg1p(((Kernel) kernel).kernel(), index, ((Mem) value).mem()));
    }

    @Override
    public void setArg(KernelHandle kernel, int index, int value) {
        ClException.check("clSetKernelArg", clSetKernelArg1i(((Kernel) kernel).kernel(), index, value));
    }

    @Override
    public void setArg(KernelHandle kernel, int index, float value) {
        ClException.check("clSetKernelArg", clSetKernelArg1f(((Kernel) kernel).kernel(), index, value));
    }

    @Override
    public void enqueueKernel(QueueHandle queue, KernelHandle kernel, long[] global, long[] local) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer g = stack.pointers(global);
            PointerBuffer l = local == null ? null : stack.pointers(local);
            ClException.check("clEnqueueNDRangeKernel", clEnqueueNDRangeKernel(((Queue) queue).q(),
                    ((Kernel) kernel).kernel(), global.length, null, g, l, null, null));
        }
    }

    @Override
    public void write(QueueHandle queue, MemHandle mem, long offset, ByteBuffer src, boolean blocking) {
        ByteBuffer region = direct(src, "write").slice();
        ClException.check("clEnqueueWriteBuffer", clEnqueueWriteBuffer(((Queue) queue).q(), ((Mem) mem).mem(),
                blocking, offset, region, null, null));
    }

    @Override
    public void read(QueueHandle queue, MemHandle mem, long offset, ByteBuffer dst, boolean blocking) {
        ByteBuffer region = direct(dst, "read").slice();
        ClException.check("clEnqueueReadBuffer", clEnqueueReadBuffer(((Queue) queue).q(), ((Mem) mem).mem(),
                blocking, offset, region, null, null));
    }

    /**
     * LWJGL passes a buffer's raw address: for a heap buffer that is not a valid pointer (JOCL
     * copes; here it would corrupt memory), so refuse it.
     */
    private static ByteBuffer direct(ByteBuffer b, String what) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException(what + ": the lwjgl binding needs a direct ByteBuffer");
        }
        return b;
    }

    @Override
    public void copy(QueueHandle queue, MemHandle src, MemHandle dst, long bytes) {
        ClException.check("clEnqueueCopyBuffer", clEnqueueCopyBuffer(((Queue) queue).q(), ((Mem) src).mem(),
                ((Mem) dst).mem(), 0, 0, bytes, null, null));
    }

    @Override
    public ByteBuffer map(QueueHandle queue, MemHandle mem, long flags, long offset, long size) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            ByteBuffer mapped = clEnqueueMapBuffer(((Queue) queue).q(), ((Mem) mem).mem(), true, flags, offset, size,
                    null, null, err, null);
            ClException.check("clEnqueueMapBuffer", err.get(0));
            return mapped;
        }
    }

    @Override
    public void unmap(QueueHandle queue, MemHandle mem, ByteBuffer mapped) {
        ClException.check("clEnqueueUnmapMemObject", clEnqueueUnmapMemObject(((Queue) queue).q(), ((Mem) mem).mem(),
                mapped, null, null));
    }

    @Override
    public void finish(QueueHandle queue) {
        ClException.check("clFinish", clFinish(((Queue) queue).q()));
    }

    @Override
    public EventHandle marker(QueueHandle queue) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer event = stack.mallocPointer(1);
            ClException.check("clEnqueueMarkerWithWaitList", clEnqueueMarkerWithWaitList(((Queue) queue).q(), null, event));
            return new Event(event.get(0));
        }
    }

    @Override
    public void waitFor(QueueHandle queue, EventHandle event) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            ClException.check("clEnqueueBarrierWithWaitList", clEnqueueBarrierWithWaitList(((Queue) queue).q(),
                    stack.pointers(((Event) event).event()), null));
        }
    }

    @Override
    public void flush(QueueHandle queue) {
        ClException.check("clFlush", clFlush(((Queue) queue).q()));
    }

    @Override
    public void release(ContextHandle handle) {
        ClException.check("clReleaseContext", clReleaseContext(((Context) handle).ctx()));
    }

    @Override
    public void release(QueueHandle handle) {
        ClException.check("clReleaseCommandQueue", clReleaseCommandQueue(((Queue) handle).q()));
    }

    @Override
    public void release(MemHandle handle) {
        ClException.check("clReleaseMemObject", clReleaseMemObject(((Mem) handle).mem()));
    }

    @Override
    public void release(ProgramHandle handle) {
        ClException.check("clReleaseProgram", clReleaseProgram(((Program) handle).program()));
    }

    @Override
    public void release(KernelHandle handle) {
        ClException.check("clReleaseKernel", clReleaseKernel(((Kernel) handle).kernel()));
    }

    @Override
    public void release(EventHandle handle) {
        ClException.check("clReleaseEvent", clReleaseEvent(((Event) handle).event()));
    }
}
