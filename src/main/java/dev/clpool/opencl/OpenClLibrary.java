package dev.clpool.opencl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds out, without loading anything, whether the dynamic linker can see an OpenCL loader
 * library. Both bindings print to stdout or stderr from native code when {@code dlopen} fails
 * (which would corrupt, say, {@code probe --json}), so on Linux clpool looks first and does not
 * load a binding whose library is plainly absent. Only a definite "absent" counts: where the
 * answer is unclear (another OS, no {@code /etc/ld.so.cache}), the binding is simply tried.
 */
final class OpenClLibrary {
    private static final Path LD_CACHE = Path.of("/etc/ld.so.cache");
    private static final List<String> STANDARD_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib");

    private OpenClLibrary() {
    }

    /**
     * Empty if one of {@code names} (e.g. {@code libOpenCL.so}) may be loadable; otherwise a reason
     * a person can act on.
     */
    static Optional<String> definitelyMissing(List<String> names) {
        if (names.isEmpty() || !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux") || !Files.isReadable(LD_CACHE)) {
            return Optional.empty();
        }
        List<String> dirs = new ArrayList<>(STANDARD_DIRS);
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            dirs.addAll(List.of(ldPath.split(":")));
        }
        for (String dir : dirs) {
            for (String name : names) {
                if (!dir.isEmpty() && Files.exists(Path.of(dir, name))) {
                    return Optional.empty();
                }
            }
        }
        try {
            byte[] cache = Files.readAllBytes(LD_CACHE);
            for (String name : names) {
                if (contains(cache, (name + "\0").getBytes(StandardCharsets.US_ASCII))) {
                    return Optional.empty();
                }
            }
        } catch (IOException | OutOfMemoryError e) {
            return Optional.empty();
        }
        return Optional.of(String.join(" or ", names) + " not found by the dynamic linker (ld.so.cache,"
                + " LD_LIBRARY_PATH); install an OpenCL loader, e.g. `apt-get install ocl-icd-opencl-dev` on"
                + " Debian/Ubuntu (it provides the unversioned libOpenCL.so), plus a driver such as pocl-opencl-icd");
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
