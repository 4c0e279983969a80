package dev.clpool.opencl;

/**
 * A kernel. Not thread-safe: setting arguments mutates it, so a kernel is used by one thread
 * at a time (the backend serialises dispatch).
 */
public final class ClKernel extends ClObject {
    private final ClBinding.KernelHandle handle;
    private final String name;
    /** The argument last set at each index (null: not set, or not known to be). */
    private Object[] last = new Object[0];

    ClKernel(ClBinding binding, NativeObjects objects, ClBinding.KernelHandle handle, String name) {
        super(binding, objects);
        this.handle = handle;
        this.name = name;
    }

    public String name() {
        return name;
    }

    ClBinding.KernelHandle handle() {
        ensureOpen();
        return handle;
    }

    /**
     * Sets the arguments in order: {@link ClBuffer}, Integer or Float values. An argument equal to
     * the one this kernel was last given at its index (the same buffer object, the same int, a float
     * of the same bits) is not set again: a kernel keeps its arguments, and through JOCL each
     * {@code clSetKernelArg} costs about 1 µs, a tenth of a small call's host work on PoCL.
     */
    public ClKernel args(Object... values) {
        ensureOpen();
        if (last.length < values.length) {
            last = java.util.Arrays.copyOf(last, values.length);
        }
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            if (same(last[i], v)) {
                if (v instanceof ClBuffer b) {
                    b.handle(); // still refuses a closed buffer
                }
                continue;
            }
            last[i] = null; // unknown until the call below succeeds
            if (v instanceof ClBuffer b) {
                binding.setArg(handle, i, b.handle());
            } else if (v instanceof Integer n) {
                binding.setArg(handle, i, n.intValue());
            } else if (v instanceof Float f) {
                binding.setArg(handle, i, f.floatValue());
            } else {
                throw new IllegalArgumentException("kernel " + name + " argument " + i + ": unsupported type "
                        + (v == null ? "null" : v.getClass().getSimpleName()));
            }
            last[i] = v;
        }
        return this;
    }

    /** Whether {@code a}, set before, is {@code b}'s value: the same buffer object, or a number of the same type and bits. */
    static boolean same(Object a, Object b) {
        if (a == null || b == null) {
            return false;
        }
        if (a instanceof ClBuffer || b instanceof ClBuffer) {
            return a == b;
        }
        if (a instanceof Integer x && b instanceof Integer y) {
            return x.intValue() == y.intValue();
        }
        return a instanceof Float x && b instanceof Float y && Float.floatToRawIntBits(x) == Float.floatToRawIntBits(y);
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
