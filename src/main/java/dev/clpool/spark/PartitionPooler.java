package dev.clpool.spark;

import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.spark.TensorColumns.Form;
import dev.clpool.spark.TensorColumns.Item;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Pools the rows of one partition on this executor's shared engine. Rows are read in windows of
 * up to {@code batchSize} rows (and at most {@link #MAX_BUFFERED} input elements); within a window,
 * rows whose NHWC tensors share (H, W, C) are stacked along N into one tensor and pooled in one
 * engine call, so a device sees one large launch instead of many small ones. Rows come out in the
 * order they came in (less those {@code handleInvalid=skip} drops).
 */
final class PartitionPooler implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Input elements buffered per window at most (64 MiB of float32), whatever the batch size. */
    static final long MAX_BUFFERED = 16L << 20;

    private final StageConfig config;
    private final int column;
    private final Form form;

    PartitionPooler(StageConfig config, int column, Form form) {
        this.config = config;
        this.column = column;
        this.form = form;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        StageConfig.Operation op = config.operation();
        TaskContext task = TaskContext.get();
        PoolingEngine engine = ExecutorEngines.get(GpuDevices.key(config.backend(),
                task == null ? null : task.resourcesJMap()));
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private long seen;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && rows.hasNext()) {
                    seen = window(rows, op, engine, ready, seen);
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /** Reads, pools and queues one window of rows; returns the number of rows seen so far. */
    private long window(Iterator<Row> rows, StageConfig.Operation op, PoolingEngine engine, ArrayDeque<Row> ready,
                        long seen) {
        List<Row> in = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        long buffered = 0;
        while (rows.hasNext() && in.size() < config.batchSize() && buffered < MAX_BUFFERED) {
            Row row = rows.next();
            Item item = TensorColumns.decode(form, row.getStruct(column), config.channelsFirst());
            if (item.invalid == null) {
                try {
                    op.outputShape(item.nhwc);
                    buffered += item.nhwc.elementCount();
                } catch (IllegalArgumentException e) {
                    item = Item.invalid(e.getMessage());
                }
            }
            if (item.invalid != null && config.handleInvalid().equals("error")) {
                throw new IllegalArgumentException("row " + (seen + in.size()) + " of partition "
                        + (TaskContext.get() == null ? "?" : TaskContext.getPartitionId()) + " cannot be pooled: "
                        + item.invalid + " (set handleInvalid to skip to drop such rows, or keep to keep them with"
                        + " a null output)");
            }
            in.add(row);
            items.add(item);
        }
        Row[] pooled = pool(items, op, engine);
        for (int i = 0; i < in.size(); i++) {
            if (items.get(i).invalid != null && config.handleInvalid().equals("skip")) {
                continue;
            }
            Row row = in.get(i);
            Object[] values = new Object[row.length() + 1];
            for (int f = 0; f < row.length(); f++) {
                values[f] = row.get(f);
            }
            values[row.length()] = pooled[i];
            ready.add(RowFactory.create(values));
        }
        return seen + in.size();
    }

    /** The output value of each item (null for an invalid one), pooling equal (H, W, C) together. */
    private Row[] pool(List<Item> items, StageConfig.Operation op, PoolingEngine engine) {
        Map<Shape, List<Integer>> groups = new LinkedHashMap<>();
        int largest = 0;
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            if (item.invalid == null) {
                Shape s = item.nhwc;
                groups.computeIfAbsent(Shape.of(1, s.h(), s.w(), s.c()), k -> new ArrayList<>()).add(i);
                largest = Math.max(largest, Math.toIntExact(s.elementCount()));
            }
        }
        Row[] out = new Row[items.size()];
        float[] scratch = new float[largest];
        for (Map.Entry<Shape, List<Integer>> g : groups.entrySet()) {
            for (List<Integer> chunk : chunks(g.getValue(), items)) {
                pool(g.getKey(), chunk, items, op, engine, scratch, out);
            }
        }
        return out;
    }

    /** Splits a group so that no batch exceeds what one tensor holds. */
    private static List<List<Integer>> chunks(List<Integer> group, List<Item> items) {
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long elements = 0;
        for (int i : group) {
            long size = items.get(i).nhwc.elementCount();
            if (!current.isEmpty() && elements + size > Tensor.MAX_ELEMENTS) {
                out.add(current);
                current = new ArrayList<>();
                elements = 0;
            }
            current.add(i);
            elements += size;
        }
        out.add(current);
        return out;
    }

    /** Stacks the items {@code chunk} (each of (n, H, W, C) as {@code one}) along N, pools once, splits. */
    private void pool(Shape one, List<Integer> chunk, List<Item> items, StageConfig.Operation op, PoolingEngine engine,
                      float[] scratch, Row[] out) {
        int n = chunk.stream().mapToInt(i -> items.get(i).nhwc.n()).sum();
        // The values are copied out before both close: the result's memory goes back to the engine's pool.
        try (Tensor batch = Tensor.allocate(Shape.of(n, one.h(), one.w(), one.c()))) {
            FloatBuffer dst = batch.floats();
            int at = 0;
            for (int i : chunk) {
                Item item = items.get(i);
                TensorColumns.fill(form, item, config.channelsFirst(), dst, Math.toIntExact(at * one.itemSize()), scratch);
                at += item.nhwc.n();
            }
            try (Tensor result = op.run(engine, batch)) {
                FloatBuffer pooled = result.floats();
                Shape r = result.shape();
                long outItem = (long) r.h() * r.w() * r.c();
                at = 0;
                for (int i : chunk) {
                    Item item = items.get(i);
                    Shape itemOut = Shape.of(item.nhwc.n(), r.h(), r.w(), r.c());
                    out[i] = TensorColumns.encode(item, config.channelsFirst(), itemOut, pooled, Math.toIntExact(at * outItem));
                    at += item.nhwc.n();
                }
            }
        }
    }
}
