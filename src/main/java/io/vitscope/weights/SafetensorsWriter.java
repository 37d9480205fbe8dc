package io.vitscope.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects named tensors and writes them as one safetensors file, the way the reference writer
 * ({@code safetensors.serialize}) lays it out: tensors sorted by element size (largest first, which keeps every
 * tensor aligned to its element size) then by name, {@code __metadata__} first in the header, and the header padded
 * with spaces to a multiple of 8 bytes. The file is written under a temporary name and renamed into place, so a
 * reader never sees half a file.
 *
 * <pre>{@code
 * new SafetensorsWriter().metadata("format", "pt").add("w", new long[] {2, 3}, data).write(path);
 * }</pre>
 */
public final class SafetensorsWriter {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private record Entry(String name, DType dtype, long[] shape, TensorSource source, byte[] raw) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** Adds a {@code __metadata__} entry (keys are written sorted). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds float32 data, row-major (the array is copied). */
    public SafetensorsWriter add(String name, long[] shape, float[] data) {
        return add(TensorSource.of(name, shape, data));
    }

    /**
     * Adds a lazy source, read only while {@link #write} runs (so a converted checkpoint streams through one tensor
     * at a time); it is stored as F32 under its own name.
     */
    public SafetensorsWriter add(TensorSource source) {
        return add(source.name(), source);
    }

    /** Adds a lazy source under another name. */
    public SafetensorsWriter add(String name, TensorSource source) {
        checkShape(name, source.shape());
        put(new Entry(name, DType.F32, source.shape(), source, null));
        return this;
    }

    /** Adds every source of a map under its key, in the map's order. */
    public SafetensorsWriter addAll(Map<String, ? extends TensorSource> sources) {
        sources.forEach(this::add);
        return this;
    }

    /** Adds an array's values now (copied as float32, so the array may be closed before writing). */
    public SafetensorsWriter add(String name, NDArray array) {
        float[] data;
        if (array.getDataType() == DataType.FLOAT32) {
            data = array.toFloatArray();
        } else {
            try (NDArray f = array.toType(DataType.FLOAT32, true)) {
                data = f.toFloatArray();
            }
        }
        return add(name, array.getShape().getShape(), data);
    }

    /**
     * Adds already encoded little-endian elements of any type (tests use it to produce F16, BF16 and integer
     * tensors; no conversion is done).
     */
    public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] littleEndian) {
        checkShape(name, shape);
        long bytes = Shapes.size(shape) * dtype.itemSize();
        if (bytes != littleEndian.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " " + Shapes.format(shape)
                    + " needs " + bytes + " bytes, got " + littleEndian.length);
        }
        put(new Entry(name, dtype, shape.clone(), null, littleEndian.clone()));
        return this;
    }

    private void put(Entry e) {
        if (e.name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved for the metadata map");
        }
        if (entries.putIfAbsent(e.name, e) != null) {
            throw new IllegalArgumentException("tensor '" + e.name + "' added twice");
        }
    }

    private static void checkShape(String name, long[] shape) {
        if (Shapes.checkedByteSize(shape, Float.BYTES) < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': invalid shape " + Shapes.format(shape));
        }
    }

    /** The header and data layout, in write order. */
    private List<Entry> ordered() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparingInt((Entry e) -> -e.dtype.itemSize()).thenComparing(Entry::name));
        return list;
    }

    /** The header bytes, padded with spaces to a multiple of 8. */
    byte[] header() {
        JsonObject root = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            root.add("__metadata__", meta);
        }
        long offset = 0;
        for (Entry e : ordered()) {
            long bytes = Shapes.size(e.shape) * e.dtype.itemSize();
            JsonObject t = new JsonObject();
            t.addProperty("dtype", e.dtype.name());
            JsonArray shape = new JsonArray();
            for (long d : e.shape) {
                shape.add(d);
            }
            t.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            t.add("data_offsets", offsets);
            root.add(e.name, t);
            offset += bytes;
        }
        byte[] json = GSON.toJson(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** Writes the file (atomically replacing an existing one). */
    public void write(Path file) throws IOException {
        byte[] header = header();
        AtomicFiles.write(file, ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            AtomicFiles.writeFully(ch, head);
            for (Entry e : ordered()) {
                ByteBuffer data = e.raw != null ? ByteBuffer.wrap(e.raw) : e.source.read();
                long expected = Shapes.size(e.shape) * e.dtype.itemSize();
                if (data.remaining() != expected) {
                    throw new IOException("tensor '" + e.name + "' produced " + data.remaining() + " bytes, expected "
                            + expected);
                }
                AtomicFiles.writeFully(ch, data);
            }
        });
    }
}
