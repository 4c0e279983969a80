package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * Two rules that keep the Vector API kernels compiled in a long-running JVM that has run many
 * operations (docs/cpu-internals.md, "One float species"). JDK 17's C2 adds the trap counts of
 * every JDK method it inlines, once per inlined call, and past 100 of a kind it stops predicting
 * the vectors' types: the species is then not a constant and the kernel boxes its vectors (MBs a
 * call, 3–5× slower). A second float species gives the shared {@code FloatSpecies} methods such
 * traps; a method with many vector conversions adds up those of the shared conversion code.
 */
class VectorSpeciesRuleTest {
    /** Vector conversions one method may hold (the 16×16 transpose's halves hold 16). */
    private static final int MAX_CONVERSIONS = 16;

    @Test
    void everyFloatSpeciesIsThePreferredOne() throws Exception {
        assumeTrue(VectorSupport.ENABLED, "Vector API not enabled");
        int seen = 0;
        for (String name : cpuClasses()) {
            Class<?> c = Class.forName(name, false, VecPlaneGlobal.class.getClassLoader());
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && VectorSpecies.class.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    VectorSpecies<?> s = (VectorSpecies<?>) f.get(null);
                    if (s.elementType() == float.class) {
                        assertEquals(FloatVector.SPECIES_PREFERRED, s, name + "." + f.getName());
                        seen++;
                    }
                }
            }
        }
        assertTrue(seen >= 5, "float species fields found: " + seen);
    }

    @Test
    void noMethodHoldsManyVectorConversions() throws Exception {
        Optional<ToolProvider> javap = ToolProvider.findFirst("javap");
        assumeTrue(javap.isPresent(), "javap not available");
        List<String> args = new ArrayList<>(List.of("-c", "-p", "-cp", classesDir().toString()));
        args.addAll(cpuClasses());
        StringWriter out = new StringWriter();
        int rc = javap.get().run(new PrintWriter(out), new PrintWriter(new StringWriter()), args.toArray(new String[0]));
        assertEquals(0, rc, "javap");
        Pattern method = Pattern.compile("^  \\S.*\\(.*\\).*;$");
        Pattern conversion = Pattern.compile("invoke\\w+ .*Method .*\\.(reinterpretAs\\w+|convertShape|castShape|convert|reinterpretShape):");
        Map<String, Integer> counts = new TreeMap<>();
        String current = "?";
        String type = "?";
        for (String line : out.toString().split("\n")) {
            if (line.startsWith("final class ") || line.startsWith("class ") || line.startsWith("public ")
                    || line.startsWith("abstract ") || line.startsWith("interface ")) {
                type = line;
            } else if (method.matcher(line).matches()) {
                current = type + " :: " + line.trim();
            } else {
                Matcher m = conversion.matcher(line);
                if (m.find()) {
                    counts.merge(current, 1, Integer::sum);
                }
            }
        }
        assertTrue(counts.keySet().stream().anyMatch(k -> k.contains("class dev.clpool.cpu.VecAdaptive ")),
                "VecAdaptive's conversions are seen: " + counts.keySet());
        counts.forEach((m, n) -> assertTrue(n <= MAX_CONVERSIONS, n + " vector conversions in " + m));
    }

    private static Path classesDir() throws Exception {
        return Path.of(VecPlaneGlobal.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<String> cpuClasses() throws Exception {
        Path dir = classesDir().resolve("dev/clpool/cpu");
        assumeTrue(Files.isDirectory(dir), "classes not in a directory");
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                    .map(n -> "dev.clpool.cpu." + n.substring(0, n.length() - ".class".length())).sorted().toList();
        }
    }
}
