package io.vitscope.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A safetensors file opened for reading, one tensor at a time
 * (format: <a href="https://github.com/huggingface/safetensors">huggingface/safetensors</a>: an 8-byte little-endian
 * header length, a JSON header mapping names to {@code dtype}, {@code shape} and {@code data_offsets}, then the data).
 *
 * <p>The whole header is validated when the file is opened, against the file's length, before any size in it is
 * used to allocate memory: every failure is an {@link InvalidInputException} naming the file, the tensor and the
 * problem. Tensors are read with positional reads into one direct buffer each (no memory mapping: a mapped tensor
 * is read-only and an in-place op on it crashes the JVM), converted to float32 in Java when the file holds another
 * type, and checked for NaN and infinite values unless that check is turned off.
 *
 * <p>Reads are thread-safe. Close the file when done; the tensors already read stay valid.
 */
public final class Safetensors implements AutoCloseable {

    /** The reference implementation's limit on the header (its {@code MAX_HEADER_SIZE}). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final Pattern JSON_NATURAL = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final int CHUNK_BYTES = 1 << 18;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final boolean checkFinite;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;
    private final Map<String, String> metadata;
    private ByteBuffer chunk; // reused for conversions; guarded by this

    private Safetensors(Path file, FileChannel channel, long dataStart, boolean checkFinite, List<TensorInfo> tensors,
                        Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.checkFinite = checkFinite;
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens and validates a file; reads check for NaN and infinite values. */
    public static Safetensors open(Path file) {
        return open(file, true);
    }

    /**
     * Opens and validates a file.
     *
     * @param checkFinite whether each read fails on NaN or infinite values (after conversion to float32)
     */
    public static Safetensors open(Path file, boolean checkFinite) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (IOException | UnsupportedOperationException e) {
            throw new InvalidInputException(file, "cannot open: " + e, e);
        }
        try {
            return parse(file, ch, checkFinite);
        } catch (RuntimeException | Error e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new InvalidInputException(file, "cannot read: " + e, e);
        }
    }

    private static Safetensors parse(Path file, FileChannel ch, boolean checkFinite) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new InvalidInputException(file, "the file is " + fileSize
                    + " bytes long, shorter than the 8-byte header length every safetensors file starts with");
        }
        ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lengthField, 0);
        long headerLength = lengthField.flip().getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new InvalidInputException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the " + MAX_HEADER_BYTES + "-byte limit: not a safetensors file");
        }
        if (headerLength > fileSize - 8) {
            throw new InvalidInputException(file, "header length " + headerLength + " runs past the end of the file ("
                    + fileSize + " bytes): the file is truncated or not a safetensors file");
        }
        if (headerLength < 2) {
            throw new InvalidInputException(file, "header length " + headerLength
                    + " is too short for a JSON object: not a safetensors file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(file, ch, headerBytes, 8);
        headerBytes.flip();
        String header;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes);
            header = chars.toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file, "header is not valid UTF-8 text: not a safetensors file");
        }
        long dataLength = fileSize - 8 - headerLength;
        Header parsed = parseHeader(file, header, dataLength);
        return new Safetensors(file, ch, 8 + headerLength, checkFinite, parsed.tensors, parsed.metadata);
    }

    private record Header(List<TensorInfo> tensors, Map<String, String> metadata) {}

    private static Header parseHeader(Path file, String header, long dataLength) {
        if (!header.startsWith("{")) {
            throw new InvalidInputException(file, "header does not start with '{': not a safetensors file");
        }
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        try (JsonReader reader = new JsonReader(new StringReader(header))) {
            reader.setStrictness(Strictness.STRICT);
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (!seen.add(name)) {
                    throw new InvalidInputException(file, "header names '" + name + "' twice");
                }
                reader.peek(); // at the end of the input this throws, where parseReader would return JsonNull
                JsonElement value = JsonParser.parseReader(reader);
                if (name.equals("__metadata__")) {
                    metadata = parseMetadata(file, value);
                } else {
                    tensors.add(parseTensor(file, name, value, dataLength));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new InvalidInputException(file, "header has data after its JSON object");
            }
        } catch (InvalidInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Gson reports syntax errors as MalformedJsonException, wrong token types as IllegalStateException,
            // and nesting beyond its limit as MalformedJsonException: all mean the same to the user.
            throw new InvalidInputException(file, "header is not valid JSON: " + gsonProblem(e));
        }
        checkOverlaps(file, tensors);
        return new Header(tensors, metadata);
    }

    /** Gson's own message without its exception class prefix and troubleshooting link. */
    private static String gsonProblem(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int see = m.indexOf("\nSee ");
        m = see >= 0 ? m.substring(0, see) : m;
        // Advice to the programmer, not to the user whose file is broken.
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        return clip(m);
    }

    private static Map<String, String> parseMetadata(Path file, JsonElement value) {
        if (!value.isJsonObject()) {
            throw new InvalidInputException(file, "__metadata__ must be a JSON object of strings, found " + kind(value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                throw new InvalidInputException(file, "__metadata__ value of '" + e.getKey()
                        + "' must be a string, found " + kind(v));
            }
            metadata.put(e.getKey(), v.getAsString());
        }
        return metadata;
    }

    private static TensorInfo parseTensor(Path file, String name, JsonElement value, long dataLength) {
        String where = "tensor '" + name + "': ";
        if (!value.isJsonObject()) {
            throw new InvalidInputException(file, where + "header entry must be a JSON object with dtype, shape and "
                    + "data_offsets, found " + kind(value));
        }
        JsonObject entry = value.getAsJsonObject();
        JsonElement dtypeEl = entry.get("dtype");
        if (dtypeEl == null || !(dtypeEl.isJsonPrimitive() && dtypeEl.getAsJsonPrimitive().isString())) {
            throw new InvalidInputException(file, where + "dtype must be a string, found " + kind(dtypeEl));
        }
        DType dtype = DType.fromSafetensors(dtypeEl.getAsString());
        if (dtype == null) {
            throw new InvalidInputException(file, where + "unknown dtype '" + clip(dtypeEl.getAsString())
                    + "' (readable: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)");
        }
        long[] shape = naturals(file, where + "shape", entry.get("shape"), -1);
        long[] offsets = naturals(file, where + "data_offsets", entry.get("data_offsets"), 2);
        long byteSize = Shapes.checkedByteSize(shape, dtype.itemSize());
        if (byteSize < 0) {
            throw new InvalidInputException(file, where + "shape " + Shapes.format(shape)
                    + " overflows: its size in bytes does not fit in 64 bits");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new InvalidInputException(file, where + "data_offsets [" + begin + ", " + end
                    + "] end before they begin");
        }
        if (end > dataLength) {
            throw new InvalidInputException(file, where + "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataLength + " bytes): the file is truncated");
        }
        if (end - begin != byteSize) {
            throw new InvalidInputException(file, where + "data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes but shape " + Shapes.format(shape) + " of " + dtype + " needs "
                    + byteSize);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers (of {@code length} elements unless it is -1). */
    private static long[] naturals(Path file, String what, JsonElement el, int length) {
        if (el == null || !el.isJsonArray()) {
            throw new InvalidInputException(file, what + " must be an array of integers, found " + kind(el));
        }
        JsonArray array = el.getAsJsonArray();
        if (length >= 0 && array.size() != length) {
            throw new InvalidInputException(file, what + " must be [begin, end], found " + clip(array.toString()));
        }
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = array.get(i);
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())) {
                throw new InvalidInputException(file, what + " must hold integers, found " + kind(v));
            }
            String text = v.getAsJsonPrimitive().getAsString();
            if (text.startsWith("-")) {
                throw new InvalidInputException(file, what + " has a negative value " + clip(text));
            }
            if (!JSON_NATURAL.matcher(text).matches()) {
                throw new InvalidInputException(file, what + " must hold plain integers below 2^63, found "
                        + clip(text));
            }
            try {
                out[i] = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(file, what + " value " + text + " does not fit in 64 bits");
            }
        }
        return out;
    }

    private static void checkOverlaps(Path file, List<TensorInfo> tensors) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.removeIf(t -> t.begin() == t.end());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo a = sorted.get(i - 1);
            TensorInfo b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw new InvalidInputException(file, "tensor '" + b.name() + "': data_offsets [" + b.begin() + ", "
                        + b.end() + "] overlap those of tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + "]");
            }
        }
    }

    private static String kind(JsonElement el) {
        if (el == null) {
            return "nothing";
        }
        if (el.isJsonNull()) {
            return "null";
        }
        if (el.isJsonObject()) {
            return "an object";
        }
        if (el.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = el.getAsJsonPrimitive();
        return (p.isString() ? "the string " : p.isNumber() ? "the number " : "") + clip(p.toString());
    }

    private static String clip(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }

    // ------------------------------------------------------------------------------------------------ reading

    public Path file() {
        return file;
    }

    /** The tensors in the order the header lists them. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The free-form string map stored under {@code __metadata__} (empty when there is none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The tensor of that name; an {@link InvalidInputException} when the file has none. */
    public TensorInfo info(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new InvalidInputException(file, "has no tensor named '" + name + "'");
        }
        return t;
    }

    /** Every tensor as a lazy float32 source, in file order; reading one needs this file to be open. */
    public Map<String, TensorSource> sources() {
        Map<String, TensorSource> out = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            out.put(t.name(), new Source(t));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The named tensor as float32: a new direct little-endian buffer, position 0. */
    public ByteBuffer read(String name) {
        return new Source(info(name)).read();
    }

    /** The named tensor as floats (a view of a new direct buffer). */
    public FloatBuffer readFloats(String name) {
        return read(name).asFloatBuffer();
    }

    /** The named tensor as a float32 array of {@code manager}, made from a float32 buffer (never BF16). */
    public NDArray readNDArray(String name, NDManager manager) {
        return new Source(info(name)).toNDArray(manager);
    }

    /** The named integer or BOOL tensor as exact longs; an error for floating-point tensors. */
    public long[] readLongs(String name) {
        TensorInfo t = info(name);
        if (t.dtype().isFloatingPoint()) {
            throw new InvalidInputException(file, "tensor '" + name + "' is " + t.dtype()
                    + ", not an integer type: read it as floats");
        }
        if (t.size() > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, "tensor '" + name + "' has " + t.size()
                    + " elements, more than a Java array holds");
        }
        long[] out = new long[(int) t.size()];
        int[] next = {0};
        readConverted(t, (src, count) -> {
            for (int i = 0; i < count; i++) {
                out[next[0]++] = t.dtype().readLong(src);
            }
        });
        return out;
    }

    /** Writes tensor {@code t} as float32 at {@code dst}'s position, advancing it; checks it when asked to. */
    private void readFloat32Into(TensorInfo t, ByteBuffer dst, boolean check) {
        long outBytes = t.size() * Float.BYTES;
        if (outBytes > dst.remaining()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' needs " + outBytes + " bytes, the buffer has "
                    + dst.remaining());
        }
        int start = dst.position();
        ByteBuffer out = dst.slice(start, (int) outBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (t.dtype() == DType.F32) {
            try {
                readFully(file, channel, out, dataStart + t.begin());
            } catch (IOException e) {
                throw new InvalidInputException(file, "tensor '" + t.name() + "': cannot read: " + e, e);
            }
        } else {
            readConverted(t, (src, count) -> t.dtype().toFloat32(src, out, count));
        }
        if (check) {
            checkFinite(t, out.clear().asFloatBuffer());
        }
        dst.position(start + (int) outBytes);
    }

    private interface ChunkConsumer {
        void accept(ByteBuffer littleEndianElements, int count);
    }

    /** Streams a tensor's stored bytes through a small reused buffer, whole elements at a time. */
    private synchronized void readConverted(TensorInfo t, ChunkConsumer consumer) {
        if (chunk == null) {
            chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        }
        int item = t.dtype().itemSize();
        long pos = t.begin();
        while (pos < t.end()) {
            int n = (int) Math.min(t.end() - pos, CHUNK_BYTES / item * item);
            chunk.clear().limit(n);
            try {
                readFully(file, channel, chunk, dataStart + pos);
            } catch (IOException e) {
                throw new InvalidInputException(file, "tensor '" + t.name() + "': cannot read: " + e, e);
            }
            chunk.flip();
            consumer.accept(chunk, n / item);
            pos += n;
        }
    }

    private void checkFinite(TensorInfo t, FloatBuffer values) {
        long nan = 0;
        long inf = 0;
        long first = -1;
        for (int i = 0, n = values.limit(); i < n; i++) {
            float v = values.get(i);
            if (!Float.isFinite(v)) {
                if (Float.isNaN(v)) {
                    nan++;
                } else {
                    inf++;
                }
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (first >= 0) {
            String narrowed = t.dtype() == DType.F64 ? " (after narrowing F64 to float32)" : "";
            throw new InvalidInputException(file, "tensor '" + t.name() + "' holds " + nan + " NaN and " + inf
                    + " infinite values" + narrowed + ", the first at flat index " + first
                    + ": the checkpoint is corrupt or was saved after training diverged"
                    + " (open it with checkFinite=false to inspect it anyway)");
        }
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new InvalidInputException(file, "the file ended at byte " + pos + " while " + dst.remaining()
                        + " more bytes were expected: it was truncated or changed while open");
            }
            pos += n;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to add to the error already being thrown
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot close: " + e, e);
        }
    }

    @Override
    public String toString() {
        return "Safetensors[" + file + ", " + tensors.size() + " tensors]";
    }

    /** A lazy view of one tensor of this file. */
    private final class Source implements TensorSource {
        private final TensorInfo info;

        Source(TensorInfo info) {
            this.info = info;
        }

        @Override
        public String name() {
            return info.name();
        }

        @Override
        public long[] shape() {
            return info.shape();
        }

        @Override
        public Path file() {
            return file;
        }

        @Override
        public DType dtype() {
            return info.dtype();
        }

        @Override
        public void readInto(ByteBuffer dst) {
            readFloat32Into(info, dst, checkFinite);
        }

        /**
         * As {@link TensorSource#toNDArray}, with the NaN/Inf check done by libtorch as one sum: a float sum is finite
         * only when no element is NaN or infinite (both propagate), and when finite values overflow it the exact check
         * in Java decides. At a cold start the Java loop over ViT-B's 86 M floats, not yet compiled, took ~0.15 s.
         */
        @Override
        public NDArray toNDArray(NDManager manager) {
            ByteBuffer buf = TensorSource.allocate(this);
            readFloat32Into(info, buf, false);
            buf.flip();
            NDArray array = manager.create(buf, new Shape(info.shape()), DataType.FLOAT32);
            array.setName(name());
            if (checkFinite) {
                boolean finite;
                try (NDArray sum = array.sum()) {
                    finite = Float.isFinite(sum.getFloat());
                }
                if (!finite) {
                    try {
                        checkFinite(info, buf.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
                    } catch (RuntimeException e) {
                        array.close();
                        throw e;
                    }
                }
            }
            return array;
        }

        @Override
        public String toString() {
            return info.name() + " " + info.dtype() + " " + Shapes.format(info.shape()) + " in " + file.getFileName();
        }
    }
}
