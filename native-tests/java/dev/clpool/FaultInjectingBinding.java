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
 * native objects created and released through it (so a test can assert none leaked) and the
 * program builds. {@code buildProgram} fails both kinds of build; {@code buildProgramFromSource}
 * and {@code buildProgramFromBinary} only one.
 */
final class FaultInjectingBinding implements ClBinding {
    private final ClBinding real;
    private final Set<String> failing;
    private final AtomicLong live = new AtomicLong();
    private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();

    FaultInjectingBinding(ClBinding real, String... failingCalls) {
        this.real = real;
        this.failing = Set.of(failingCalls);
    }

    /** How many times the call was made (program builds only: buildProgram, buildProgramFromBinary). */
    long calls(String call) {
        AtomicLong n = calls.get(call);
        return n == null ? 0 : n.get();
    }

    private void count(String call) {
        calls.computeIfAbsent(call, k -> new AtomicLong()).incrementAndGet();
    }

    /** Objects created through this binding and not yet released. */
    long live() {
        return live.get();
    }

    private void maybeFail(String call) {
        if (failing.contains(call)) {
            throw new ClException(call + " (injected)", -5 /* CL_OUT_OF_RESOURCES */);
        }
    }

    private <T> T created(T handle) {
        live.incrementAndGet();
        return handle;
    }

    @Override
    public String name() {
        return real.name() + "+faults" + failing;
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
        count("buildProgram");
        if (failing.contains("buildProgram") || failing.contains("buildProgramFromSource")) {
            throw new ClBuildException(-11, options, "injected build failure");
        }
        return created(real.buildProgram(context, device, source, options));
    }

    @Override
    public ProgramHandle buildProgramFromBinary(ContextHandle context, DeviceId device, byte[] binary, String options) {
        count("buildProgramFromBinary");
        if (failing.contains("buildProgram") || failing.contains("buildProgramFromBinary")) {
            throw new ClBuildException(-11, options, "injected build failure");
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
