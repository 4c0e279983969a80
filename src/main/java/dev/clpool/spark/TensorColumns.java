package dev.clpool.spark;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The column forms {@link Pooling} reads and the one it writes, and the conversion of one row's
 * value to and from the NHWC float32 layout the engine pools.
 *
 * <ul>
 *   <li>{@link Form#IMAGE}: Spark's image source schema ({@code height}, {@code width},
 *       {@code nChannels}, {@code data} as bytes in height × width × channels order). The bytes
 *       become float32 0–255, in the image's own channel order (BGR or BGRA for Spark's reader);
 *       the tensor is (1, H, W, C).</li>
 *   <li>{@link Form#TENSOR_ARRAY} / {@link Form#TENSOR_BINARY}: a struct of {@code shape} (array of
 *       an integral type: the full shape, rank 3 or 4) and {@code data} (array of a numeric type,
 *       cast to float, no nulls; or binary, little-endian float32), channels-last (N,H,W,C or H,W,C) or
 *       channels-first (N,C,H,W or C,H,W).</li>
 * </ul>
 * The output is {@link #OUTPUT}: {@code shape} (array of int, the rank and layout of the input) and
 * {@code data} (array of float).
 */
final class TensorColumns {
    /** The output column's type: struct {@code shape} array&lt;int&gt;, {@code data} array&lt;float&gt;. */
    static final StructType OUTPUT = new StructType(new StructField[] {
        DataTypes.createStructField("shape", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
        DataTypes.createStructField("data", DataTypes.createArrayType(DataTypes.FloatType, false), false)});

    private static final Set<String> IMAGE_FIELDS = Set.of("height", "width", "nChannels", "data");

    private TensorColumns() {
    }

    /** The forms of input column the stage accepts. */
    enum Form { IMAGE, TENSOR_ARRAY, TENSOR_BINARY }

    /**
     * The form of column {@code name} of type {@code type}.
     *
     * @throws IllegalArgumentException the type is none of the accepted forms, saying which they are
     */
    static Form form(String name, DataType type) {
        if (type instanceof StructType s) {
            Set<String> names = Arrays.stream(s.fieldNames()).collect(Collectors.toSet());
            if (names.containsAll(IMAGE_FIELDS) && s.apply("data").dataType() instanceof BinaryType
                    && !names.contains("shape")) {
                return Form.IMAGE;
            }
            if (names.contains("shape") && names.contains("data")
                    && s.apply("shape").dataType() instanceof ArrayType shape
                    && shape.elementType() instanceof IntegralType) {
                DataType data = s.apply("data").dataType();
                if (data instanceof BinaryType) {
                    return Form.TENSOR_BINARY;
                }
                if (data instanceof ArrayType a && a.elementType() instanceof NumericType) {
                    return Form.TENSOR_ARRAY;
                }
            }
        }
        throw new IllegalArgumentException("inputCol " + name + ": type " + type.simpleString() + " is neither an image"
                + " (struct with height, width, nChannels, data: binary, as spark.read.format(\"image\") gives) nor a"
                + " tensor (struct with shape: array<int>, data: array<float> or binary little-endian float32)");
    }

    /**
     * One row's input value, decoded: its NHWC shape and the rank and layout it came in, or the
     * reason it cannot be pooled ({@link #invalid} non-null).
     */
    static final class Item {
        final Shape nhwc;
        final int rank;
        final String invalid;
        private final Object data;

        private Item(Shape nhwc, int rank, Object data, String invalid) {
            this.nhwc = nhwc;
            this.rank = rank;
            this.data = data;
            this.invalid = invalid;
        }

        static Item invalid(String reason) {
            return new Item(null, 0, null, reason);
        }
    }

    /** Decodes {@code value} (a struct of {@code form}; may be null) into an {@link Item}. */
    static Item decode(Form form, Row value, boolean channelsFirst) {
        if (value == null) {
            return Item.invalid("the value is null");
        }
        if (form == Form.IMAGE) {
            int h = value.getInt(value.fieldIndex("height"));
            int w = value.getInt(value.fieldIndex("width"));
            int c = value.getInt(value.fieldIndex("nChannels"));
            byte[] bytes = (byte[]) value.get(value.fieldIndex("data"));
            if (h < 1 || w < 1 || c < 1 || bytes == null || (long) h * w * c != bytes.length) {
                return Item.invalid("image " + h + "x" + w + "x" + c + " with " + (bytes == null ? "no" : bytes.length)
                        + " bytes of data is not a valid image");
            }
            if (bytes.length > Tensor.MAX_ELEMENTS) {
                return Item.invalid("image " + h + "x" + w + "x" + c + " holds more than " + Tensor.MAX_ELEMENTS
                        + " values, the most one tensor holds");
            }
            return new Item(Shape.of(1, h, w, c), 4, bytes, null);
        }
        List<Object> dims = value.getList(value.fieldIndex("shape"));
        Object data = value.get(value.fieldIndex("data"));
        if (dims == null || data == null) {
            return Item.invalid("the tensor has no " + (dims == null ? "shape" : "data"));
        }
        long[] d = new long[dims.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = dims.get(i) == null ? -1 : ((Number) dims.get(i)).longValue();
        }
        if (d.length != 3 && d.length != 4) {
            return Item.invalid("shape " + Arrays.toString(d) + " has rank " + d.length + "; pooling takes rank 4 ("
                    + (channelsFirst ? "N,C,H,W" : "N,H,W,C") + ") or 3 (" + (channelsFirst ? "C,H,W" : "H,W,C") + ")");
        }
        long[] full = d.length == 4 ? d : new long[] {1, d[0], d[1], d[2]};
        long count = 1;
        for (long x : full) {
            if (x < 1 || x > Integer.MAX_VALUE) {
                return Item.invalid("shape " + Arrays.toString(d) + ": every size must be between 1 and 2^31-1");
            }
            count *= x;
            if (count > Tensor.MAX_ELEMENTS) {
                return Item.invalid("shape " + Arrays.toString(d) + " holds more than " + Tensor.MAX_ELEMENTS
                        + " elements, the most one tensor holds");
            }
        }
        Object values = data;
        if (form == Form.TENSOR_BINARY) {
            byte[] b = (byte[]) data;
            if (b.length != count * Float.BYTES) {
                return Item.invalid("shape " + Arrays.toString(d) + " needs " + count * Float.BYTES
                        + " bytes of float32, the data holds " + b.length);
            }
        } else {
            List<Object> list = value.getList(value.fieldIndex("data"));
            if (list.size() != count) {
                return Item.invalid("shape " + Arrays.toString(d) + " needs " + count + " values, the data holds "
                        + list.size());
            }
            float[] f = new float[list.size()];
            for (int i = 0; i < f.length; i++) {
                Object v = list.get(i);
                if (v == null) {
                    return Item.invalid("data element " + i + " is null");
                }
                f[i] = ((Number) v).floatValue();
            }
            values = f;
        }
        Shape nhwc = channelsFirst
                ? Shape.of((int) full[0], (int) full[2], (int) full[3], (int) full[1])
                : Shape.of((int) full[0], (int) full[1], (int) full[2], (int) full[3]);
        return new Item(nhwc, d.length, values, null);
    }

    /**
     * Writes {@code item}'s values, in NHWC order, into {@code dst} from element {@code offset};
     * {@code scratch} holds at least the item's element count.
     */
    static void fill(Form form, Item item, boolean channelsFirst, FloatBuffer dst, int offset, float[] scratch) {
        int count = Math.toIntExact(item.nhwc.elementCount());
        if (form == Form.IMAGE) {
            byte[] b = (byte[]) item.data;
            for (int i = 0; i < count; i++) {
                scratch[i] = b[i] & 0xFF;
            }
        } else if (form == Form.TENSOR_BINARY) {
            FloatBuffer src = ByteBuffer.wrap((byte[]) item.data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            if (!channelsFirst) {
                dst.put(offset, src, 0, count);
                return;
            }
            src.get(0, scratch, 0, count);
        } else {
            System.arraycopy((float[]) item.data, 0, scratch, 0, count);
        }
        if (channelsFirst) {
            float[] nhwc = new float[count];
            Layouts.toChannelsLast(scratch, item.nhwc, nhwc);
            dst.put(offset, nhwc, 0, count);
        } else {
            dst.put(offset, scratch, 0, count);
        }
    }

    /**
     * The output value for an item whose pooled NHWC values, of shape {@code out}, start at element
     * {@code offset} of {@code pooled}: a struct of {@link #OUTPUT}, in the item's rank and layout.
     */
    static Row encode(Item item, boolean channelsFirst, Shape out, FloatBuffer pooled, int offset) {
        float[] data = new float[Math.toIntExact(out.elementCount())];
        pooled.get(offset, data, 0, data.length);
        int[] shape;
        if (channelsFirst) {
            float[] nchw = new float[data.length];
            Layouts.toChannelsFirst(data, out, nchw);
            data = nchw;
            shape = new int[] {out.n(), out.c(), out.h(), out.w()};
        } else {
            shape = new int[] {out.n(), out.h(), out.w(), out.c()};
        }
        if (item.rank == 3) {
            shape = Arrays.copyOfRange(shape, 1, 4);
        }
        return RowFactory.create(shape, data);
    }
}
