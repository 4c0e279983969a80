package dev.clpool;

import dev.clpool.opencl.ClBinding;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ClBinding} that delegates to a real one, makes the named calls fail, and counts the
 * native objects created and released through it (so a test can assert none leaked) and the calls
 * made.
 *
 * <p>The calls that can fail: {@code createContext}, {@code createQueue}, {@code createBuffer},
 * {@code buildProgram} (a {@link ClBuildException}; it fails both kinds of build, while
 * {@code buildProgramFromSource} and {@code buildProgramFromBinary} fail only one),
 * {@code programBinary}, {@code createKernel}, {@code enqueueKernel}, {@code write}, {@code read},
 * {@code copy}, {@code map}, {@code marker}, {@code waitFor}, {@code flush} (events: a marker's
 * event counts as a native object until released). By default a named call fails every time with
 * {@code CL_OUT_OF_RESOURCES} ({@code CL_BUILD_PROGRAM_FAILURE} for builds); {@link #failFrom}
 * picks the invocation to start failing at and the error code (for example -9999, an unnamed
 * driver code of the kind a lost device returns). {@link #calls} tells whether a call was reached.
 */
final class FaultInjectingBinding implements ClBinding {
    /** Every call {@link #failFrom} accepts. */
    static final Set<String> CALLS = Set.of("createContext", "createQueue", "createBuffer", "buildProgram",
            "buildProgramFromSource", "buildProgramFromBinary", "programBinary", "createKernel", "enqueueKernel",
            "write", "read", "copy", "map", "marker", "waitFor", "flush");

    private record Fault(long fromCall, int code) { }

    private final ClBinding real;
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
    private final AtomicLong live = new AtomicLong();

    FaultInjectingBinding(ClBinding real, String... failingCalls) {
        this.real = real;
        for (String call : failingCalls) {
            failFrom(call, 1, call.startsWith("buildProgram") ? -11 /* CL_BUILD_PROGRAM_FAILURE */ : -5 /* CL_OUT_OF_RESOURCES */);
        }
    }

    /** Makes {@code call} fail with {@code code} from its {@code nth} invocation on (1: from the first). */
    FaultInjectingBinding failFrom(String call, long nth, int code) {
        if (!CALLS.contains(call)) {
            throw new IllegalArgumentException("no such call to fail: " + call + " (known: " + CALLS + ")");
        }
        faults.put(call, new Fault(nth, code));
        return this;
    }

    /** How many times {@code call} was made (failed calls included; a build counts as buildProgram or buildProgramFromBinary). */
    long calls(String call) {
        AtomicLong n = calls.get(call);
        return n == null ? 0 : n.get();
    }

    /** Objects created through this binding and not yet released. */
    long live() {
        return live.get();
    }

    /** Counts the call; the error code it must fail with (faults registered under any of {@code names}), or 0. */
    private int fault(String call, String... names) {
        long n = calls.computeIfAbsent(call, k -> new AtomicLong()).incrementAndGet();
        for (String name : names.length == 0 ? new String[] {call} : names) {
            Fault f = faults.get(name);
            if (f != null && n >= f.fromCall()) {
                return f.code();
            }
        }
        return 0;
    }

    private void maybeFail(String call) {
        int code = fault(call);
        if (code != 0) {
            throw new ClException(call + " (injected)", code);
        }
    }

    private <T> T created(T handle) {
        live.incrementAndGet();
        return handle;
    }

    @Override
    public String name() {
        return real.name() + (faults.isEmpty() ? "" : "+faults" + faults.keySet());
    }

    @Override
    public List<PlatformId> platforms() {
        return real.platforms();
    }

    @Override
    public List<DeviceId> devices(PlatformId platform) {
        return real.devices(platform);
    }

    @Override
    public byte[] platformInfo(PlatformId platform, int param) {
        return real.platformInfo(platform, param);
    }

    @Override
    public byte[] deviceInfo(DeviceId device, int param) {
        return real.deviceInfo(device, param);
    }

    @Override
    public ContextHandle createContext(PlatformId platform, DeviceId device) {
        maybeFail("createContext");
        return created(real.createContext(platform, device));
    }

    @Override
    public QueueHandle createQueue(ContextHandle context, DeviceId device) {
        maybeFail("createQueue");
        return created(real.createQueue(context, device));
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, long size) {
        maybeFail("createBuffer");
        return created(real.createBuffer(context, flags, size));
    }

    @Override
    public MemHandle createBuffer(ContextHandle context, long flags, ByteBuffer host) {
        maybeFail("createBuffer");
        return created(real.createBuffer(context, flags, host));
    }

    @Override
    public ProgramHandle buildProgram(ContextHandle context, DeviceId device, String source, String options) {
        int code = fault("buildProgram", "buildProgram", "buildProgramFromSource");
        if (code != 0) {
            throw new ClBuildException(code, options, "injected build failure");
        }
        return created(real.buildProgram(context, device, source, options));
    }

    @Override
    public ProgramHandle buildProgramFromBinary(ContextHandle context, DeviceId device, byte[] binary, String options) {
        int code = fault("buildProgramFromBinary", "buildProgram", "buildProgramFromBinary");
        if (code != 0) {
            throw new ClBuildException(code, options, "injected build failure");
        }
        return created(real.buildProgramFromBinary(context, device, binary, options));
    }

    @Override
    public byte[] programBinary(ProgramHandle program) {
        maybeFail("programBinary");
        return real.programBinary(program);
    }

    @Override
    public KernelHandle createKernel(ProgramHandle program, String name) {
        maybeFail("createKernel");
        return created(real.createKernel(program, name));
    }

    @Override
    public void setArg(KernelHandle kernel, int index, MemHandle value) {
        real.setArg(kernel, index, value);
    }

    @Override
    public void setArg(KernelHandle kernel, int index, int value) {
        real.setArg(kernel, index, value);
    }

    @Override
    public void setArg(KernelHandle kernel, int index, float value) {
        real.setArg(kernel, index, value);
    }

    @Override
    public void enqueueKernel(QueueHandle queue, KernelHandle kernel, long[] global, long[] local) {
        maybeFail("enqueueKernel");
        real.enqueueKernel(queue, kernel, global, local);
    }

    @Override
    public void write(QueueHandle queue, MemHandle mem, long offset, ByteBuffer src, boolean blocking) {
        maybeFail("write");
        real.write(queue, mem, offset, src, blocking);
    }

    @Override
    public void read(QueueHandle queue, MemHandle mem, long offset, ByteBuffer dst, boolean blocking) {
        maybeFail("read");
        real.read(queue, mem, offset, dst, blocking);
    }

    @Override
    public void copy(QueueHandle queue, MemHandle src, MemHandle dst, long bytes) {
        maybeFail("copy");
        real.copy(queue, src, dst, bytes);
    }

    @Override
    public ByteBuffer map(QueueHandle queue, MemHandle mem, long flags, long offset, long size) {
        maybeFail("map");
        return real.map(queue, mem, flags, offset, size);
    }

    @Override
    public void unmap(QueueHandle queue, MemHandle mem, ByteBuffer mapped) {
        real.unmap(queue, mem, mapped);
    }

    @Override
    public void finish(QueueHandle queue) {
        real.finish(queue);
    }

    @Override
    public EventHandle marker(QueueHandle queue) {
        maybeFail("marker");
        return created(real.marker(queue));
    }

    @Override
    public void waitFor(QueueHandle queue, EventHandle event) {
        maybeFail("waitFor");
        real.waitFor(queue, event);
    }

    @Override
    public void flush(QueueHandle queue) {
        maybeFail("flush");
        real.flush(queue);
    }

    @Override
    public void release(ContextHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }

    @Override
    public void release(QueueHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }

    @Override
    public void release(MemHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }

    @Override
    public void release(ProgramHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }

    @Override
    public void release(KernelHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }

    @Override
    public void release(EventHandle handle) {
        live.decrementAndGet();
        real.release(handle);
    }
}
