package dev.clpool;

import java.nio.ByteBuffer;
import org.lwjgl.system.jni.JNINativeInterface;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Direct buffers over memory that already exists, each a root of its own: JNI's
 * {@code NewDirectByteBuffer}, reached through LWJGL's {@code JNINativeInterface} (LWJGL is a
 * dependency already, for its OpenCL binding; this uses only its core library). A buffer made so
 * refers to no other buffer, so every view of it ({@code duplicate}, {@code slice},
 * {@code asFloatBuffer}, ...) refers to it, and it stays reachable for as long as any view is: a
 * {@link java.lang.ref.Cleaner} registered on it runs only when no view of the memory is left.
 * That is what lets {@link HostMemoryPool} take back the block of a result that was dropped.
 *
 * <p>The JNI functions are standard; the route needs LWJGL's native library for this platform.
 * Where it does not load (or {@code -Dclpool.hostMemory.roots=false}), {@link #available()} is
 * false and the pool lends its blocks' own buffers, whose memory only the JDK may free.
 */
final class RootBuffers {
    private static final Logger LOG = LoggerFactory.getLogger(RootBuffers.class);
    private static final boolean AVAILABLE = probe();

    private RootBuffers() {
    }

    /** Whether {@link #over} and {@link #address} work in this JVM. */
    static boolean available() {
        return AVAILABLE;
    }

    /** The address of a direct buffer's first byte (at index 0, whatever its position). */
    static long address(ByteBuffer direct) {
        return JNINativeInterface.GetDirectBufferAddress(direct);
    }

    /**
     * A new direct buffer of capacity {@code bytes} over the memory at {@code address}, which the
     * caller keeps valid until the buffer and all its views are unreachable. Byte order big-endian,
     * as every new byte buffer.
     */
    static ByteBuffer over(long address, int bytes) {
        ByteBuffer b = JNINativeInterface.NewDirectByteBuffer(address, bytes);
        if (b == null) {
            throw new IllegalStateException("NewDirectByteBuffer returned no buffer for " + bytes + " bytes");
        }
        return b;
    }

    /** Loads and tries the route once: a buffer over another's memory must see that memory. */
    private static boolean probe() {
        if ("false".equalsIgnoreCase(System.getProperty("clpool.hostMemory.roots"))) {
            LOG.debug("host memory: root buffers turned off (clpool.hostMemory.roots=false)");
            return false;
        }
        try {
            ByteBuffer memory = ByteBuffer.allocateDirect(16);
            memory.put(3, (byte) 42);
            ByteBuffer root = over(address(memory), memory.capacity());
            boolean works = root.isDirect() && !root.isReadOnly() && root.capacity() == 16 && root.get(3) == 42
                    && address(root) == address(memory);
            java.lang.ref.Reference.reachabilityFence(memory);
            if (!works) {
                LOG.warn("host memory: JNI NewDirectByteBuffer gave an unexpected buffer; results dropped without"
                        + " close() will not be reused");
            }
            return works;
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("host memory: LWJGL's JNI functions are unavailable ({}); results dropped without close()"
                    + " will not be reused", e.toString());
            return false;
        }
    }
}
