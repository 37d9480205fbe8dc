package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.DType;
import io.vitscope.weights.TensorSource;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import net.razorvine.pickle.PickleException;

/**
 * A PyTorch {@code torch.save} file ({@code .pth}, {@code .pt}, {@code .bin}) read without Python and without
 * running any of its pickle: the zip format of PyTorch ≥ 1.6 ({@code archive/data.pkl} plus one {@code archive/data/KEY}
 * entry per storage) and the legacy format (five pickles in a row — magic number, protocol version, system info, the
 * object, the storage keys — followed by each storage as an int64 element count and its bytes). See
 * {@link TorchPickle} for what the unpickler builds and refuses.
 *
 * <p>The state dict is found as timm's {@code load_state_dict} finds it: the object itself when it maps names to
 * tensors, else under {@code state_dict_ema}, {@code model_ema}, {@code state_dict} or {@code model} (timm prefers
 * the EMA weights, as here); a {@code module.} prefix on every name (DataParallel) is removed, as timm's
 * {@code clean_state_dict} does. Tensors are read lazily; keep the checkpoint open until they are.
 */
public final class TorchCheckpoint implements AutoCloseable {

    /** The PyTorch serialisation format of a file. */
    public enum Format { ZIP, LEGACY }

    /** Keys that hold the state dict in training checkpoints, in timm's order of preference (EMA first). */
    public static final List<String> WRAPPER_KEYS = List.of("state_dict_ema", "model_ema", "state_dict", "model");

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    private static final long MAX_PICKLE_BYTES = 1L << 30;

    private final Path file;
    private final Format format;
    private final Map<String, TorchTensor> tensors;
    private final Optional<String> wrapper;
    private final boolean strippedModulePrefix;
    private final List<String> otherKeys;
    private final AutoCloseable resource;

    private TorchCheckpoint(Path file, Format format, Map<String, TorchTensor> tensors, Optional<String> wrapper,
                            boolean stripped, List<String> otherKeys, AutoCloseable resource) {
        this.file = file;
        this.format = format;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.wrapper = wrapper;
        this.strippedModulePrefix = stripped;
        this.otherKeys = List.copyOf(otherKeys);
        this.resource = resource;
    }

    /** Whether a file starts like a {@code torch.save} file (a zip archive, or a protocol-2 pickle). */
    public static boolean looksLike(byte[] head) {
        return startsWith(head, ZIP_MAGIC) || head.length >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5;
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        if (head.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (head[i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads the file's pickle (refusing any global a state dict does not need) and finds its state dict.
     *
     * @throws UnsafeCheckpointException when the pickle names a global outside the allow-list
     * @throws InvalidInputException when the file is not a readable PyTorch checkpoint or holds no state dict
     */
    public static TorchCheckpoint open(Path file) {
        byte[] head = Checkpoints.head(file, 4);
        try {
            return startsWith(head, ZIP_MAGIC) ? openZip(file) : openLegacy(file);
        } catch (TorchPickle.Refused e) {
            throw new UnsafeCheckpointException(file, e.global, e.getMessage());
        }
    }

    public Path file() {
        return file;
    }

    public Format format() {
        return format;
    }

    /** The state dict's tensors by name (after unwrapping and removing a {@code module.} prefix), in file order. */
    public Map<String, TorchTensor> tensors() {
        return tensors;
    }

    /** The key the state dict was found under ({@code state_dict_ema}, {@code model}, …), if it was wrapped. */
    public Optional<String> wrapper() {
        return wrapper;
    }

    public boolean strippedModulePrefix() {
        return strippedModulePrefix;
    }

    /** The checkpoint's other top-level keys when the state dict was wrapped ({@code epoch}, {@code optimizer}, …). */
    public List<String> otherKeys() {
        return otherKeys;
    }

    @Override
    public void close() {
        try {
            resource.close();
        } catch (Exception e) {
            // read-only resources: nothing to lose
        }
    }

    // ------------------------------------------------------------------------------------------ zip format

    private static TorchCheckpoint openZip(Path file) {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(file, "is not a readable PyTorch zip checkpoint: " + message(e));
        }
        try {
            ZipEntry pkl = null;
            for (ZipEntry e : Collections.list(zip.entries())) {
                if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().length() - 9) {
                    pkl = e;
                    break;
                }
            }
            if (pkl == null) {
                throw new InvalidInputException(file, "is a zip archive without an ARCHIVE/data.pkl entry: not a "
                        + "PyTorch checkpoint (torch.save writes one)");
            }
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String bo = new String(readEntry(zip, order, file, 16), StandardCharsets.US_ASCII).trim();
                if (!bo.equals("little")) {
                    throw new InvalidInputException(file, "was saved on a '" + bo + "'-endian machine; only "
                            + "little-endian checkpoints are read");
                }
            }
            byte[] pickle = readEntry(zip, pkl, file, MAX_PICKLE_BYTES);
            ZipFile z = zip;
            TorchPickle unpickler = new TorchPickle(pid -> {
                PersistentId id = PersistentId.parse(pid, false);
                ZipEntry data = z.getEntry(prefix + "data/" + id.key);
                if (data == null) {
                    throw new PickleException("storage " + id.key + " has no entry " + prefix + "data/" + id.key);
                }
                long need = Math.multiplyExact(id.numel, id.dtype.itemSize());
                if (data.getSize() >= 0 && data.getSize() < need) {
                    throw new PickleException("storage " + id.key + " is " + data.getSize() + " bytes, its "
                            + id.numel + " " + id.dtype.numpyName() + " elements need " + need);
                }
                return new TorchStorage(id.key, id.dtype, id.numel, () -> ByteBuffer.wrap(readEntry(z, data, file, need))
                        .order(ByteOrder.LITTLE_ENDIAN));
            });
            Object root = unpickle(file, unpickler, new ByteArrayInputStream(pickle));
            return build(file, Format.ZIP, root, zip);
        } catch (RuntimeException e) {
            closeQuietly(zip);
            throw e;
        }
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry entry, Path file, long max) {
        if (entry.getSize() > max || entry.getSize() > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException(file, "entry " + entry.getName() + " is " + entry.getSize()
                    + " bytes, more than the " + max + " expected");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] b = in.readNBytes((int) Math.min(max, Integer.MAX_VALUE - 16));
            if (entry.getSize() >= 0 && b.length != entry.getSize()) {
                throw new InvalidInputException(file, "entry " + entry.getName() + " is truncated");
            }
            return b;
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException iie) {
                throw iie;
            }
            throw new InvalidInputException(file, "cannot read entry " + entry.getName() + ": " + message(e));
        }
    }

    // ------------------------------------------------------------------------------------------ legacy format

    private static TorchCheckpoint openLegacy(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot open: " + message(e));
        }
        try {
            ChannelInput in = new ChannelInput(ch);
            Object magic = unpickle(file, new TorchPickle(pid -> {
                throw new PickleException("unexpected persistent id");
            }), in);
            if (!(magic instanceof java.math.BigInteger b) || !b.equals(new java.math.BigInteger("1950a86a20f9469cfc6c", 16))) {
                throw new InvalidInputException(file, "is neither a zip archive nor a legacy torch.save file (its first "
                        + "pickle is not PyTorch's magic number)");
            }
            Object protocol = unpickle(file, new TorchPickle(pid -> null), in);
            if (!(protocol instanceof Integer p) || p != 1001) {
                throw new InvalidInputException(file, "legacy torch.save protocol " + protocol + " is not supported (1001 is)");
            }
            Object sysInfo = unpickle(file, new TorchPickle(pid -> null), in);
            if (sysInfo instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"))) {
                throw new InvalidInputException(file, "was saved on a big-endian machine; only little-endian checkpoints "
                        + "are read");
            }
            Map<String, PersistentId> ids = new LinkedHashMap<>();
            Map<String, long[]> offsets = new HashMap<>(); // key -> {data offset}
            Map<String, TorchStorage> made = new HashMap<>();
            TorchPickle main = new TorchPickle(pid -> {
                PersistentId id = PersistentId.parse(pid, true);
                PersistentId seen = ids.putIfAbsent(id.key, id);
                if (seen != null && (seen.dtype != id.dtype || seen.numel != id.numel)) {
                    throw new PickleException("storage " + id.key + " is named twice with different types or sizes");
                }
                return made.computeIfAbsent(id.key, k -> new TorchStorage(k, id.dtype, id.numel, () -> {
                    long[] at = offsets.get(k);
                    if (at == null) {
                        throw new InvalidInputException(file, "storage " + k + " is not in the file's storage list");
                    }
                    return readAt(ch, file, at[0], Math.multiplyExact(id.numel, id.dtype.itemSize()));
                }));
            });
            Object root = unpickle(file, main, in);
            Object keys = unpickle(file, new TorchPickle(pid -> null), in);
            if (!(keys instanceof List<?> keyList)) {
                throw new InvalidInputException(file, "the legacy checkpoint's storage key list is missing");
            }
            long pos = in.position();
            long size = ch.size();
            for (Object k : keyList) {
                PersistentId id = ids.get(String.valueOf(k));
                if (id == null) {
                    throw new InvalidInputException(file, "storage " + k + " is listed but no tensor uses it, so its "
                            + "element size is unknown");
                }
                ByteBuffer count = readAt(ch, file, pos, 8);
                long numel = count.getLong(0);
                if (numel != id.numel) {
                    throw new InvalidInputException(file, "storage " + k + " holds " + numel + " elements, the "
                            + "object says " + id.numel);
                }
                long bytes = Math.multiplyExact(numel, id.dtype.itemSize());
                if (pos + 8 + bytes > size) {
                    throw new InvalidInputException(file, "storage " + k + " runs past the end of the file: it is "
                            + "truncated");
                }
                offsets.put(id.key, new long[] {pos + 8});
                pos += 8 + bytes;
            }
            return build(file, Format.LEGACY, root, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new InvalidInputException(file, "cannot read: " + message(e));
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static ByteBuffer readAt(FileChannel ch, Path file, long pos, long length) {
        if (length > Integer.MAX_VALUE) {
            throw new InvalidInputException(file, "a storage of " + length + " bytes is larger than one buffer holds");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (b.hasRemaining()) {
                if (ch.read(b, pos + b.position()) < 0) {
                    throw new InvalidInputException(file, "the file ends inside a storage: it is truncated");
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read: " + message(e));
        }
        return b.flip();
    }

    /** A seekable stream over a file for the unpickler: knows its position and the bytes left, supports mark. */
    private static final class ChannelInput extends InputStream {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        private long bufStart;
        private long pos;
        private long mark;

        ChannelInput(FileChannel ch) {
            this.ch = ch;
            buf.limit(0);
        }

        long position() {
            return pos;
        }

        @Override
        public int read() throws IOException {
            if (pos < bufStart || pos >= bufStart + buf.limit()) {
                buf.clear();
                bufStart = pos;
                int n = ch.read(buf, pos);
                buf.flip();
                if (n <= 0) {
                    return -1;
                }
            }
            return buf.get((int) (pos++ - bufStart)) & 0xFF;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, ch.size() - pos));
        }

        @Override
        public boolean markSupported() {
            return true;
        }

        @Override
        public synchronized void mark(int limit) {
            mark = pos;
        }

        @Override
        public synchronized void reset() {
            pos = mark;
        }
    }

    // ------------------------------------------------------------------------------------------ shared

    /** A storage's persistent id: {@code ('storage', torch.XStorage, key, location, numel[, view_metadata])}. */
    private record PersistentId(String key, DType dtype, long numel) {
        static PersistentId parse(Object[] pid, boolean legacy) {
            if (pid.length < 5 || !"storage".equals(pid[0])) {
                throw new PickleException("a persistent id is " + TorchPickle.describe(pid)
                        + ", expected ('storage', type, key, location, numel)");
            }
            if (!(pid[1] instanceof TorchPickle.StorageTag tag)) {
                throw new PickleException("a persistent id names storage type " + TorchPickle.describe(pid[1]));
            }
            if (legacy && pid.length > 5 && pid[5] != null) {
                throw new PickleException("storage views of PyTorch < 0.4 are not supported");
            }
            long numel = TorchPickle.toLong(pid[4], "a storage's size");
            if (numel < 0) {
                throw new PickleException("a storage has a negative size " + numel);
            }
            return new PersistentId(String.valueOf(pid[2]), tag.type().dtype(), numel);
        }
    }

    private static Object unpickle(Path file, TorchPickle unpickler, InputStream in) {
        try {
            return unpickler.read(in);
        } catch (TorchPickle.Refused | InvalidInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(file, "is not a readable PyTorch checkpoint: its pickle is malformed ("
                    + message(e) + ")");
        } catch (StackOverflowError | OutOfMemoryError e) {
            throw new InvalidInputException(file, "is not a readable PyTorch checkpoint: its pickle is malformed ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    private static TorchCheckpoint build(Path file, Format format, Object root, AutoCloseable resource) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new InvalidInputException(file, "holds " + TorchPickle.describe(root) + ", not a state dict "
                    + "(a mapping of names to tensors)");
        }
        Map<?, ?> dict = top;
        Optional<String> wrapper = Optional.empty();
        List<String> other = new ArrayList<>();
        if (!hasTensors(top)) {
            for (String k : WRAPPER_KEYS) {
                if (top.get(k) instanceof Map<?, ?> inner && hasTensors(inner)) {
                    dict = inner;
                    wrapper = Optional.of(k);
                    break;
                }
            }
            if (wrapper.isEmpty()) {
                List<String> keys = top.keySet().stream().map(String::valueOf).limit(10).toList();
                throw new InvalidInputException(file, "holds no state dict: no tensors at the top level nor under "
                        + String.join(", ", WRAPPER_KEYS) + " (its keys: " + String.join(", ", keys) + ")");
            }
            for (Object k : top.keySet()) {
                if (!String.valueOf(k).equals(wrapper.get())) {
                    other.add(String.valueOf(k));
                }
            }
        }
        boolean allModule = !dict.isEmpty() && dict.keySet().stream().allMatch(k -> String.valueOf(k).startsWith("module."));
        Map<String, TorchTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            String name = String.valueOf(e.getKey());
            if (allModule) {
                name = name.substring("module.".length());
            }
            if (e.getValue() instanceof TorchTensor t) {
                out.put(name, t.named(name, file));
            }
            // non-tensor entries (an int such as num_batches_tracked is still a tensor; nested dicts are not)
        }
        return new TorchCheckpoint(file, format, out, wrapper, allModule, other, resource);
    }

    private static boolean hasTensors(Map<?, ?> m) {
        return m.values().stream().anyMatch(v -> v instanceof TorchTensor);
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already failing
        }
    }

    /** The tensors as sources (for the layouts and the loader). */
    public Map<String, TensorSource> sources() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }
}
