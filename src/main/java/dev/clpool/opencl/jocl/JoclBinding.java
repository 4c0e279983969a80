package dev.clpool.opencl.jocl;

import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithBinary;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueBarrierWithWaitList;
import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueMapBuffer;
import static org.jocl.CL.clEnqueueMarkerWithWaitList;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueUnmapMemObject;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clFlush;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clGetProgramInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseEvent;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import dev.clpool.opencl.Cl;
import dev.clpool.opencl.ClBinding;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * {@link ClBinding} over JOCL (org.jocl:jocl). JOCL's exceptions stay disabled (that switch is
 * global to the JVM); every return code is checked here instead.
 */
public final class JoclBinding implements ClBinding {

    private record Platform(cl_platform_id id) implements PlatformId { }

    private record Device(cl_device_id id) implements DeviceId { }

    private record Context(cl_context ctx) implements ContextHandle { }

    private record Queue(cl_command_queue q) implements QueueHandle { }

    private record Mem(cl_mem mem) implements MemHandle { }

    private record Program(cl_program program) implements ProgramHandle { }

    private record Kernel(cl_kernel kernel) implements KernelHandle { }

    private record Event(cl_event event) implements EventHandle { }

    /**
     * Loads JOCL's natives and the OpenCL loader. Throws {@link UnsatisfiedLinkError} (or another
     * {@link LinkageError}) when either is missing; the caller turns that into a reason.
     */
    public JoclBinding() {
        // Touching CL runs its static initialiser, which loads libJOCL and then libOpenCL.
        CL.class.getName();
        int[] n = new int[1];
        clGetPlatformIDs(0, null, n);
    }

    @Override
    public String name() {
        return "jocl";
    }

    @Override
    public List<PlatformId> platforms() {
        int[] n = new int[1];
        int rc = clGetPlatformIDs(0, null, n);
        if (rc == Cl.CL_PLATFORM_NOT_FOUND_KHR) {
            return List.of();
        }
        ClException.check("clGetPlatformIDs", rc);
        cl_platform_id[] ids = new cl_platform_id[n[0]];
        if (n[0] > 0) {
            ClException.check("clGetPlatformIDs", clGetPlatformIDs(n[0], ids, null));
        }
        List<PlatformId> out = new ArrayList<>();
        for (cl_platform_id id : ids) {
            out.add(new Platform(id));
        }
        return out;
    }

    @Override
    public List<DeviceId> devices(PlatformId platform) {
        cl_platform_id p = ((Platform) platform).id();
        int[] n = new int[1];
        int rc = clGetDeviceIDs(p, Cl.CL_DEVICE_TYPE_ALL, 0, null, n);
        if (rc == -1 /* CL_DEVICE_NOT_FOUND */) {
            return List.of();
        }
        ClException.check("clGetDeviceIDs", rc);
        cl_device_id[] ids = new cl_device_id[n[0]];
        ClException.check("clGetDeviceIDs", clGetDeviceIDs(p, Cl.CL_DEVICE_TYPE_ALL, n[0], ids, null));
        List<DeviceId> out = new ArrayList<>();
        for (cl_device_id id : ids) {
            out.add(new Device(id));
        }
        return out;
    }

    @Override
    public byte[] platformInfo(PlatformId platform, int param) {
        cl_platform_id p = ((Platform) platform).id();
        long[] size = new long[1];
        ClException.check("clGetPlatformInfo", clGetPlatformInfo(p, param, 0, null, size));
        byte[] out = new byte[(int) size[0]];
        ClException.check("clGetPlatformInfo", clGetPlatformInfo(p, param, out.length, Pointer.to(out), null));
        return out;
    }

    @Override
    public byte[] deviceInfo(DeviceId device, int param) {
        cl_device_id d = ((Device) device).id();
        long[] size = new long[1];
        ClException.check("clGetDeviceInfo", clGetDeviceInfo(d, param, 0, null, size));
        byte[] out = new byte[(int) size[0]];
        ClException.check("clGetDeviceInfo", clGetDeviceInfo(d, param, out.length, Pointer.to(out), null));
        return out;
    }

    @Override
    public ContextHandle createContext(PlatformId platform, DeviceId device) {
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, ((Platform) platform).id());
        int[] err = new int[1];
        cl_context ctx = clCreateContext(props, 1, new cl_device_id[] {((Device) device).id()}, null, null, err);
        ClException.check("clCreateContext", err[0]);
        return new Context(ctx);
    }

    @Override
    @SuppressWarnings("deprecation") // clCreateCommandQueue: the OpenCL 1.2 entry point, kept for 1.2 devices
    public QueueHandle createQueue(ContextHandle context, DeviceId device) {
        int[] err = new int[1];
        cl_command_queue q = clCreateCommandQueue(((Context) context).ctx(), ((Device) device).id(), 0, err);
        ClException.check("clCreateCommandQueue", err[0]);
        return new Queue(q);
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, long size) {
        int[] err = new int[1];
        cl_mem mem = clCreateBuffer(((Context) context).ctx(), flags, size, null, err);
        ClException.check("clCreateBuffer", err[0]);
        return new Mem(mem);
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, ByteBuffer host) {
        int[] err = new int[1];
        ByteBuffer region = host.slice();
        cl_mem mem = clCreateBuffer(((Context) context).ctx(), flags, region.remaining(), Pointer.to(region), err);
        ClException.check("clCreateBuffer", err[0]);
        return new Mem(mem);
    }

    @Override
    public ProgramHandle buildProgram(ContextHandle context, DeviceId device, String source, String options) {
        int[] err = new int[1];
        cl_program program = clCreateProgramWithSource(((Context) context).ctx(), 1, new String[] {source},
                new long[] {source.length()}, err);
        ClException.check("clCreateProgramWithSource", err[0]);
        cl_device_id d = ((Device) device).id();
        return built(program, d, options);
    }

    @Override
    public ProgramHandle buildProgramFromBinary(ContextHandle context, DeviceId device, byte[] binary, String options) {
        int[] status = new int[1];
        int[] err = new int[1];
        cl_device_id d = ((Device) device).id();
        cl_program program = clCreateProgramWithBinary(((Context) context).ctx(), 1, new cl_device_id[] {d},
                new long[] {binary.length}, new byte[][] {binary}, status, err);
        if (err[0] != Cl.CL_SUCCESS || status[0] != Cl.CL_SUCCESS) {
            if (program != null && err[0] == Cl.CL_SUCCESS) {
                clReleaseProgram(program);
            }
            throw new ClException("clCreateProgramWithBinary", err[0] != Cl.CL_SUCCESS ? err[0] : status[0]);
        }
        return built(program, d, options);
    }

    /** Builds {@code program} for device {@code d}; on failure releases it and throws with the build log. */
    private Program built(cl_program program, cl_device_id d, String options) {
        int rc = clBuildProgram(program, 1, new cl_device_id[] {d}, options, null, null);
        if (rc != Cl.CL_SUCCESS) {
            String log = buildLog(program, d);
            clReleaseProgram(program);
            throw new ClBuildException(rc, options, log);
        }
        return new Program(program);
    }

    @Override
    public byte[] programBinary(ProgramHandle program) {
        cl_program p = ((Program) program).program();
        long[] sizes = new long[1];
        ClException.check("clGetProgramInfo", clGetProgramInfo(p, Cl.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t,
                Pointer.to(sizes), null));
        if (sizes[0] <= 0 || sizes[0] > Integer.MAX_VALUE) {
            return new byte[0];
        }
        byte[] binary = new byte[(int) sizes[0]];
        ClException.check("clGetProgramInfo", clGetProgramInfo(p, Cl.CL_PROGRAM_BINARIES, Sizeof.POINTER,
                Pointer.to(new Pointer[] {Pointer.to(binary)}), null));
        return binary;
    }

    private static String buildLog(cl_program program, cl_device_id device) {
        long[] size = new long[1];
        if (clGetProgramBuildInfo(program, device, Cl.CL_PROGRAM_BUILD_LOG, 0, null, size) != Cl.CL_SUCCESS) {
            return "(no build log)";
        }
        byte[] log = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, device, Cl.CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
        return new String(log, StandardCharsets.UTF_8).replace("\0", "");
    }

    @Override
    public KernelHandle createKernel(ProgramHandle program, String name) {
        int[] err = new int[1];
        cl_kernel k = clCreateKernel(((Program) program).program(), name, err);
        ClException.check("clCreateKernel(" + name + ")", err[0]);
        return new Kernel(k);
    }

    @Override
    public void setArg(KernelHandle kernel, int index, MemHandle value) {
        ClException.check("clSetKernelArg", clSetKernelArg(((Kernel) kernel).kernel(), index, Sizeof.cl_mem,
                Pointer.to(((Mem) value).mem())));
    }

    @Override
    public void setArg(KernelHandle kernel, int index, int value) {
        ClException.check("clSetKernelArg", clSetKernelArg(((Kernel) kernel).kernel(), index, Sizeof.cl_int,
                Pointer.to(new int[] {value})));
    }

    @Override
    public void setArg(KernelHandle kernel, int index, float value) {
        ClException.check("clSetKernelArg", clSetKernelArg(((Kernel) kernel).kernel(), index, Sizeof.cl_float,
                Pointer.to(new float[] {value})));
    }

    @Override
    public void enqueueKernel(QueueHandle queue, KernelHandle kernel, long[] global, long[] local) {
        ClException.check("clEnqueueNDRangeKernel", clEnqueueNDRangeKernel(((Queue) queue).q(),
                ((Kernel) kernel).kernel(), global.length, null, global, local, 0, null, null));
    }

    @Override
    public void write(QueueHandle queue, MemHandle mem, long offset, ByteBuffer src, boolean blocking) {
        ByteBuffer region = src.slice();
        ClException.check("clEnqueueWriteBuffer", clEnqueueWriteBuffer(((Queue) queue).q(), ((Mem) mem).mem(),
                blocking, offset, region.remaining(), Pointer.to(region), 0, null, null));
    }

    @Override
    public void read(QueueHandle queue, MemHandle mem, long offset, ByteBuffer dst, boolean blocking) {
        ByteBuffer region = dst.slice();
        ClException.check("clEnqueueReadBuffer", clEnqueueReadBuffer(((Queue) queue).q(), ((Mem) mem).mem(),
                blocking, offset, region.remaining(), Pointer.to(region), 0, null, null));
    }

    @Override
    public void copy(QueueHandle queue, MemHandle src, MemHandle dst, long bytes) {
        ClException.check("clEnqueueCopyBuffer", clEnqueueCopyBuffer(((Queue) queue).q(), ((Mem) src).mem(),
                ((Mem) dst).mem(), 0, 0, bytes, 0, null, null));
    }

    @Override
    public ByteBuffer map(QueueHandle queue, MemHandle mem, long flags, long offset, long size) {
        int[] err = new int[1];
        ByteBuffer mapped = clEnqueueMapBuffer(((Queue) queue).q(), ((Mem) mem).mem(), true, flags, offset, size,
                0, null, null, err);
        ClException.check("clEnqueueMapBuffer", err[0]);
        return mapped;
    }

    @Override
    public void unmap(QueueHandle queue, MemHandle mem, ByteBuffer mapped) {
        ClException.check("clEnqueueUnmapMemObject", clEnqueueUnmapMemObject(((Queue) queue).q(), ((Mem) mem).mem(),
                mapped, 0, null, null));
    }

    @Override
    public void finish(QueueHandle queue) {
        ClException.check("clFinish", clFinish(((Queue) queue).q()));
    }

    @Override
    public EventHandle marker(QueueHandle queue) {
        cl_event event = new cl_event();
        ClException.check("clEnqueueMarkerWithWaitList", clEnqueueMarkerWithWaitList(((Queue) queue).q(), 0, null, event));
        return new Event(event);
    }

    @Override
    public void waitFor(QueueHandle queue, EventHandle event) {
        ClException.check("clEnqueueBarrierWithWaitList", clEnqueueBarrierWithWaitList(((Queue) queue).q(), 1,
                new cl_event[] {((Event) event).event()}, null));
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
