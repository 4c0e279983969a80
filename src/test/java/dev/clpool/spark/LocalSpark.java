package dev.clpool.spark;

import dev.clpool.BackendChoice;
import dev.clpool.PoolingEngine;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The one local[2] Spark session every Spark test shares (Spark starts slowly on two cores), stopped
 * when the test JVM exits; the CPU engine the tests compare with; and small test images.
 */
final class LocalSpark {
    private static SparkSession session;
    private static PoolingEngine cpu;

    private LocalSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("clpool tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    // Tiny data: interpreting beats compiling generated code (the first query's cost).
                    .config("spark.sql.codegen.wholeStage", "false")
                    .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
                    .config("spark.sql.adaptive.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop, "spark-test-session-stop"));
        }
        return session;
    }

    /** The engine the stage's results are compared with: the stages under test run with backend cpu too. */
    static synchronized PoolingEngine cpuEngine() {
        if (cpu == null) {
            cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
            Runtime.getRuntime().addShutdownHook(new Thread(cpu::close, "test-engine-close"));
        }
        return cpu;
    }

    /** Writes a PNG of random pixels: {@code type} one of BufferedImage's TYPE_3BYTE_BGR, TYPE_BYTE_GRAY, TYPE_4BYTE_ABGR. */
    static Path png(Path dir, String name, int w, int h, int type, Random random) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, random.nextInt());
            }
        }
        Path file = dir.resolve(name);
        try {
            Files.createDirectories(dir);
            if (!ImageIO.write(img, "png", file.toFile())) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** The {@code shape} of an output tensor struct. */
    static int[] shape(Row tensor) {
        List<Integer> s = tensor.getList(tensor.fieldIndex("shape"));
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The {@code data} of an output tensor struct. */
    static float[] data(Row tensor) {
        List<Float> d = tensor.getList(tensor.fieldIndex("data"));
        float[] out = new float[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.get(i);
        }
        return out;
    }
}
