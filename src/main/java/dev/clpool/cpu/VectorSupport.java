package dev.clpool.cpu;

import java.util.Optional;

/**
 * Whether the CPU path may use its Vector API kernels: JDK 17's {@code jdk.incubator.vector}
 * lets a loop over a direct buffer run in explicit SIMD lanes (16 floats on AVX-512), which C2
 * does not do for the scalar loops (they stage rows into heap arrays and vectorise only
 * same-index loops over them). The module is an incubator, so a JVM has it only when started with
 * {@code --add-modules jdk.incubator.vector}; without it every operation runs the scalar kernels,
 * which stay and give the same results (max and indices bit for bit, sums within SEMANTICS.md's
 * tolerance).
 *
 * <p>Only classes whose names start with {@code Vec} refer to the module, and code loads them only
 * behind {@link #ENABLED}, a constant the JIT folds: a JVM without the module never loads them.
 * {@code -Dclpool.vector=off} keeps the scalar kernels on a JVM that has the module (to compare
 * them). A JVM whose widest float vector is narrower than 256 bits keeps them too: there the
 * Vector API's lanes gain little over C2's own vectorisation.
 */
public final class VectorSupport {
    /** The system property that turns the vector kernels off ({@code off}); anything else leaves them on where they can run. */
    public static final String PROPERTY = "clpool.vector";
    /** The module a JVM must be started with: {@code --add-modules jdk.incubator.vector}. */
    public static final String MODULE = "jdk.incubator.vector";
    /** The narrowest preferred float vector the kernels are used with, in bits. */
    static final int MIN_BITS = 256;

    private static final Optional<String> WHY_NOT = whyNot();
    /** Whether the CPU path runs its Vector API kernels in this JVM. */
    static final boolean ENABLED = WHY_NOT.isEmpty();

    private VectorSupport() {
    }

    /** Whether the CPU path runs its Vector API kernels in this JVM. */
    public static boolean enabled() {
        return ENABLED;
    }

    /**
     * Whether the Vector API kernels run on channels-last rows of {@code channels}: they are
     * enabled and the rows fill at least one float vector ({@link VecWidth#floats()}; 16 on
     * AVX-512). Fewer channels stay on the scalar kernels.
     */
    static boolean fits(int channels) {
        return ENABLED && channels >= VecWidth.floats();
    }

    /**
     * Whether the Vector API kernels run along plane rows of {@code width} elements (channels-first
     * planes, lanes along W): they are enabled and the row fills at least one float vector.
     */
    static boolean fitsRow(int width) {
        return ENABLED && width >= VecWidth.floats();
    }

    /** One line for reports: on with the vector width, or off and why ({@code probe}, {@code bench}). */
    public static String describe() {
        return WHY_NOT.map(why -> "scalar kernels (" + why + ")")
                .orElseGet(() -> "Vector API kernels (" + VecWidth.bits() + "-bit float vectors)");
    }

    private static Optional<String> whyNot() {
        if ("off".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim())) {
            return Optional.of("-D" + PROPERTY + "=off");
        }
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            return Optional.of("start java with --add-modules " + MODULE + " for the Vector API kernels");
        }
        int bits = VecWidth.bits();
        if (bits < MIN_BITS) {
            return Optional.of("this CPU's widest float vector is " + bits + " bits");
        }
        return Optional.empty();
    }
}
