package dev.clpool.testing;

import java.nio.charset.StandardCharsets;

/**
 * Seeds for the fuzz suites (plain JUnit, no jqwik). One base seed per run, fixed by default so
 * that every run tries the same inputs; {@code -Dclpool.fuzz.seed=N} picks another run, and each
 * case's own seed, derived from the base seed, the stream name and the case number, is printed
 * with any failure so that it reproduces. {@code -Dclpool.fuzz.scale=K} multiplies the case counts
 * (for a longer local run).
 */
public final class Fuzz {
    private static final long DEFAULT_SEED = 0x5EED_C1_9001L;

    private Fuzz() {
    }

    public static long baseSeed() {
        String s = System.getProperty("clpool.fuzz.seed");
        return s == null || s.isBlank() ? DEFAULT_SEED : Long.decode(s.strip());
    }

    /** {@code n} times the {@code clpool.fuzz.scale} factor (default 1). */
    public static int count(int n) {
        String s = System.getProperty("clpool.fuzz.scale");
        return s == null || s.isBlank() ? n : Math.max(1, (int) (n * Double.parseDouble(s.strip())));
    }

    /** The seed of case {@code i} of {@code stream}: a stable mix of the base seed and both. */
    public static long caseSeed(String stream, int i) {
        long h = baseSeed();
        for (byte b : stream.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return mix(h ^ (i * 0x9E3779B97F4A7C15L));
    }

    public static String replayHint() {
        return "-Dclpool.fuzz.seed=" + baseSeed();
    }

    /** The first {@code max} bytes as hex, for failure messages. */
    public static String hex(byte[] bytes, int max) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, max); i++) {
            s.append(String.format("%02x", bytes[i] & 0xff));
        }
        return bytes.length > max ? s + "..." : s.toString();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
