package dev.clpool.jmh;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A one-node ONNX model (MaxPool, AveragePool or GlobalAveragePool on an NCHW float tensor),
 * written as protobuf bytes by hand so the benchmarks need neither the onnx package nor a model
 * file. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
 * ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
 */
final class OnnxModel {
    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;
    private static final int ATTRIBUTE_INTS = 7;
    private static final int ATTRIBUTE_INT = 2;
    private static final int FLOAT = 1;
    private static final int INT64 = 7;
    /** Attributes written as one INT rather than INTS. */
    private static final Set<String> SINGLE_INTS = Set.of("count_include_pad", "p", "ceil_mode");

    private OnnxModel() {
    }

    /**
     * The serialized model {@code y = op(x)}; {@code attributes} are (name, ints) pairs, a single
     * int written as INT for {@code count_include_pad}, {@code p} and {@code ceil_mode}.
     */
    static byte[] pooling(String opType, long[] inShape, long[] outShape, Object... attributes) {
        return model(opType, inShape, outShape, false, attributes);
    }

    /** MaxPool with its second output: {@code y, i = MaxPool(x)}, the indices int64 of y's shape. */
    static byte[] maxPoolWithIndices(long[] inShape, long[] outShape, Object... attributes) {
        return model("MaxPool", inShape, outShape, true, attributes);
    }

    private static byte[] model(String opType, long[] inShape, long[] outShape, boolean indices, Object... attributes) {
        Proto node = new Proto().string(1, "x").string(2, "y");
        if (indices) {
            node.string(2, "i");
        }
        node.string(3, "pool").string(4, opType);
        for (int i = 0; i < attributes.length; i += 2) {
            String name = (String) attributes[i];
            long[] ints = (long[]) attributes[i + 1];
            Proto a = new Proto().string(1, name);
            if (SINGLE_INTS.contains(name)) {
                a.int64(20, ATTRIBUTE_INT).int64(3, ints[0]);
            } else {
                a.int64(20, ATTRIBUTE_INTS);
                for (long v : ints) {
                    a.int64(8, v);
                }
            }
            node.message(5, a);
        }
        Proto graph = new Proto().message(1, node).string(2, "clpool-bench")
                .message(11, valueInfo("x", FLOAT, inShape)).message(12, valueInfo("y", FLOAT, outShape));
        if (indices) {
            graph.message(12, valueInfo("i", INT64, outShape));
        }
        Proto opset = new Proto().string(1, "").int64(2, 17);
        return new Proto().int64(1, 8).string(2, "clpool-bench").message(7, graph).message(8, opset).bytes();
    }

    private static Proto valueInfo(String name, int elemType, long[] shape) {
        Proto dims = new Proto();
        for (long d : shape) {
            dims.message(1, new Proto().int64(1, d));
        }
        Proto tensor = new Proto().int64(1, elemType).message(2, dims);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
    }

    /** The few protobuf encodings a model needs: varints and length-delimited fields. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto int64(int field, long value) {
            tag(field, VARINT);
            varint(value);
            return this;
        }

        Proto string(int field, String value) {
            return raw(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return raw(field, value.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private Proto raw(int field, byte[] value) {
            tag(field, LENGTH_DELIMITED);
            varint(value.length);
            out.write(value, 0, value.length);
            return this;
        }

        private void tag(int field, int wireType) {
            varint(((long) field << 3) | wireType);
        }

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
