package dev.clpool;

import dev.clpool.opencl.ClBinding;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ClBinding} that delegates to a real one, makes the named calls fail, and counts the
 * native objects created and released through it (so a test can assert none leaked).
 *
 * <p>The calls that can fail: {@code createContext}, {@code createQueue}, {@code createBuffer},
 * {@code buildProgram} (a {@link ClBuildException}), {@code createKernel}, {@code enqueueKernel},
 * {@code write}, {@code read}, {@code copy}. By default a named call fails every time with
 * {@code CL_OUT_OF_RESOURCES}; {@link #failFrom} picks the invocation to start failing at and the
 * error code (for example -9999, an unnamed driver code of the kind a lost device returns).
 * {@link #calls} tells whether a call was reached at all.
 */
final class FaultInjectingBinding implements ClBinding {
    /** Every call {@link #failFrom} accepts. */
    static final Set<String> CALLS = Set.of("createContext", "createQueue", "createBuffer", "buildProgram",
            "createKernel", "enqueueKernel", "write", "read", "copy");

    private record Fault(int fromCall, int code) { }

    private final ClBinding real;
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final AtomicLong live = new AtomicLong();

    FaultInjectingBinding(ClBinding real, String... failingCalls) {
        this.real = real;
        for (String call : failingCalls) {
            failFrom(call, 1, call.equals("buildProgram") ? -11 /* CL_BUILD_PROGRAM_FAILURE */ : -5 /* CL_OUT_OF_RESOURCES */);
        }
    }

    /** Makes {@code call} fail with {@code code} from its {@code nth} invocation on (1: from the first). */
    FaultInjectingBinding failFrom(String call, int nth, int code) {
        if (!CALLS.contains(call)) {
            throw new IllegalArgumentException("no such call to fail: " + call + " (known: " + CALLS + ")");
        }
        faults.put(call, new Fault(nth, code));
        return this;
    }

    /** How many times {@code call} was invoked (failed invocations included). */
    int calls(String call) {
        AtomicInteger n = calls.get(call);
        return n == null ? 0 : n.get();
    }

    /** Objects created through this binding and not yet released. */
    long live() {
        return live.get();
    }

    /** Counts the invocation; returns the error code to fail with, or 0. */
    private int fault(String call) {
        int n = calls.computeIfAbsent(call, k -> new AtomicInteger()).incrementAndGet();
        Fault f = faults.get(call);
        return f != null && n >= f.fromCall() ? f.code() : 0;
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
        int code = fault("buildProgram");
        if (code != 0) {
            throw new ClBuildException(code, options, "injected build failure");
        }
        return created(real.buildProgram(context, device, source, options));
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
    public void finish(QueueHandle queue) {
        real.finish(queue);
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
}
