package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SignalChainingTest {
    private static final String JVM = "7f00-7f10 r-xp 0 08:01 1 /usr/lib/jvm/java-17/lib/server/libjvm.so";
    private static final String LLVM = "7f20-7f30 r-xp 0 08:01 2 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1";
    private static final String JSIG = "7f40-7f50 r-xp 0 08:01 3 /usr/lib/jvm/java-17/lib/libjsig.so";

    @Test
    void llvmWithoutLibjsig_getsAdviceNamingTheFix() {
        Optional<String> advice = SignalChaining.advice(List.of(JVM, LLVM));
        assertTrue(advice.isPresent());
        assertTrue(advice.get().contains("LD_PRELOAD=") && advice.get().contains("libjsig"), advice.get());
    }

    @Test
    void llvmWithLibjsig_orNoLlvm_isFine() {
        assertEquals(Optional.empty(), SignalChaining.advice(List.of(JSIG, JVM, LLVM)));
        assertEquals(Optional.empty(), SignalChaining.advice(List.of(JVM)));
        assertEquals(Optional.empty(), SignalChaining.advice(List.of()));
    }
}
