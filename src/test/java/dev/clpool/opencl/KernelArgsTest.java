package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ClKernel sets an argument only where it differs from the one last set at its index. */
class KernelArgsTest {
    private final List<String> calls = new ArrayList<>();
    private final ClBinding binding = (ClBinding) Proxy.newProxyInstance(ClBinding.class.getClassLoader(),
            new Class<?>[] {ClBinding.class}, (proxy, m, a) -> {
                if (m.getName().equals("setArg")) {
                    calls.add(a[1] + "=" + (a[2] instanceof ClBinding.MemHandle ? "mem" + System.identityHashCode(a[2]) : a[2]));
                }
                return null;
            });
    private final NativeObjects objects = new NativeObjects();

    private ClBuffer buffer() {
        return new ClBuffer(binding, objects, new ClBinding.MemHandle() { }, 16);
    }

    @Test
    void unchangedArguments_areNotSetAgain() {
        ClKernel k = new ClKernel(binding, objects, new ClBinding.KernelHandle() { }, "k");
        ClBuffer a = buffer();
        ClBuffer b = buffer();
        k.args(a, b, 3, 1.5f);
        assertEquals(4, calls.size());
        calls.clear();
        k.args(a, b, 3, 1.5f);
        assertEquals(List.of(), calls, "nothing changed");
        k.args(b, b, 4, 1.5f);
        assertEquals(2, calls.size(), "a new buffer at 0 and a new int at 2: " + calls);
        calls.clear();
        k.args(b, b, 4, -1.5f, 7);
        assertEquals(2, calls.size(), "a float of other bits, and a new index: " + calls);
        calls.clear();
        k.args(b, b, 4, -1.5f, 7);
        assertEquals(List.of(), calls);
        k.args(b, b, 4, -0f, 7);
        k.args(b, b, 4, 0f, 7);
        assertEquals(2, calls.size(), "-0 and +0 are different bits: " + calls);
        calls.clear();
        // An int and a float of the same value are different arguments.
        k.args(b, b, 4, 7, 7f);
        assertEquals(2, calls.size(), calls.toString());
    }

    @Test
    void aClosedBuffer_isRefusedEvenWhenUnchanged() {
        ClKernel k = new ClKernel(binding, objects, new ClBinding.KernelHandle() { }, "k");
        ClBuffer a = buffer();
        k.args(a, 1);
        a.close();
        assertThrows(IllegalStateException.class, () -> k.args(a, 1));
    }
}
