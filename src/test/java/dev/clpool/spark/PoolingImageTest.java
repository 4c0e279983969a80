package dev.clpool.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stage over Spark's image source equals the engine on the same pixels, bit for bit. */
class PoolingImageTest {
    @TempDir
    Path dir;

    @Test
    void imagesFromSparksImageSource_poolAsTheEngineDoes_bitForBit() {
        Random random = new Random(14);
        // Two sizes (batched per shape) and gray, colour and alpha images.
        for (int i = 0; i < 6; i++) {
            LocalSpark.png(dir, "rgb" + i + ".png", 13, 9, BufferedImage.TYPE_3BYTE_BGR, random);
        }
        LocalSpark.png(dir, "wide.png", 20, 7, BufferedImage.TYPE_3BYTE_BGR, random);
        LocalSpark.png(dir, "gray.png", 11, 11, BufferedImage.TYPE_BYTE_GRAY, random);
        LocalSpark.png(dir, "alpha.png", 10, 8, BufferedImage.TYPE_4BYTE_ABGR, random);
        Dataset<Row> images = LocalSpark.session().read().format("image").load(dir.toString());

        PoolSpec avg = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build();
        Pooling stage = new Pooling().setMode("avg").setWindow("3").setStride("2").setPadding("1")
                .setBackend("cpu").setBatchSize(4);
        List<Row> rows = stage.transform(images).collectAsList();

        assertEquals(9, rows.size());
        for (Row row : rows) {
            Row image = row.getStruct(row.fieldIndex("image"));
            Tensor x = pixels(image);
            Tensor expected = LocalSpark.cpuEngine().pool(x, avg);
            Row pooled = row.getStruct(row.fieldIndex("pooled"));
            Shape e = expected.shape();
            assertArrayEquals(new int[] {1, e.h(), e.w(), e.c()}, LocalSpark.shape(pooled), image.getString(0));
            assertArrayEquals(expected.toArray(), LocalSpark.data(pooled), image.getString(0));
        }
    }

    @Test
    void imageChannels_keepTheImagesOrder() throws IOException {
        // One pure red pixel: Spark's reader stores it as B, G, R = 0, 0, 255, and so does the output.
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 2; x++) {
                img.setRGB(x, y, 0xFF0000);
            }
        }
        Path red = dir.resolve("red");
        Files.createDirectories(red);
        ImageIO.write(img, "png", red.resolve("red.png").toFile());
        Row out = new Pooling().setWindow("2").setBackend("cpu")
                .transform(LocalSpark.session().read().format("image").load(red.toString()))
                .select("pooled").first().getStruct(0);
        assertArrayEquals(new float[] {0, 0, 255}, LocalSpark.data(out));
    }

    /** The image's bytes as the (1, H, W, C) float32 tensor 0–255 the stage is documented to pool. */
    private static Tensor pixels(Row image) {
        int h = image.getInt(image.fieldIndex("height"));
        int w = image.getInt(image.fieldIndex("width"));
        int c = image.getInt(image.fieldIndex("nChannels"));
        byte[] b = (byte[]) image.get(image.fieldIndex("data"));
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = Byte.toUnsignedInt(b[i]);
        }
        return Tensor.of(Shape.of(1, h, w, c), f);
    }
}
