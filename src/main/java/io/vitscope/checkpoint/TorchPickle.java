package io.vitscope.checkpoint;

import io.vitscope.weights.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

/**
 * An unpickler for PyTorch state dicts that builds only what a state dict needs and refuses everything else.
 *
 * <p>A pickle is a program: its {@code GLOBAL} / {@code STACK_GLOBAL} opcodes name any Python callable and
 * {@code REDUCE} calls it, which is how a {@code .pth} file can run {@code os.system} inside {@code torch.load}. Here
 * every global is looked up in {@link #ALLOWED} when the opcode is read — before anything could be called — and any
 * other name fails with {@link Refused} naming it. The allowed globals are Java functions that build inert values:
 *
 * <pre>
 * collections.OrderedDict                      → a map (its __setstate__, the state dict's _metadata, is dropped)
 * torch._utils._rebuild_tensor_v2 / _rebuild_tensor        → a {@link TorchTensor} (storage, offset, size, stride)
 * torch._utils._rebuild_parameter(_with_state) → its tensor
 * torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage → a storage type tag (never called)
 * argparse.Namespace                           → an inert record of its fields (timm's train.py saves its args)
 * </pre>
 *
 * Opcodes that instantiate classes by name without a global ({@code INST}, {@code OBJ}) and the extension registry
 * ({@code EXT1/2/4}) are refused too. Length-prefixed strings and bytes are checked against the bytes left before
 * they are allocated. Storages are resolved through the caller's persistent-id function.
 */
final class TorchPickle extends Unpickler {

    /** A global the pickle names that is not allowed; nothing was built or called. */
    static final class Refused extends RuntimeException {
        final String global;

        Refused(String global, String why) {
            super(why);
            this.global = global;
        }
    }

    /** The {@code torch.XStorage} class named in a persistent id: only a tag for the element type. */
    record StorageType(String name, DType dtype) {}

    /** An {@code argparse.Namespace} or other inert object: its class name and the state it was given. */
    public record Inert(String global, Map<Object, Object> state) {
        public void __setstate__(HashMap<?, ?> s) {
            s.forEach(state::put);
        }

        public void __setstate__(PickledDict s) {
            s.forEach(state::put);
        }
    }

    /** {@code collections.OrderedDict}: keeps insertion order; its pickled attributes (_metadata) are ignored. */
    public static final class PickledDict extends LinkedHashMap<Object, Object> {
        public void __setstate__(HashMap<?, ?> state) {
            // A state dict's _metadata (module versions): not needed to read tensors.
        }

        public void __setstate__(PickledDict state) {
            // as above
        }
    }

    static final Map<String, DType> STORAGES;

    static {
        Map<String, DType> s = new TreeMap<>();
        s.put("FloatStorage", DType.F32);
        s.put("HalfStorage", DType.F16);
        s.put("BFloat16Storage", DType.BF16);
        s.put("DoubleStorage", DType.F64);
        s.put("LongStorage", DType.I64);
        s.put("IntStorage", DType.I32);
        s.put("ShortStorage", DType.I16);
        s.put("CharStorage", DType.I8);
        s.put("ByteStorage", DType.U8);
        s.put("BoolStorage", DType.BOOL);
        STORAGES = Collections.unmodifiableMap(s);
    }

    /** The allowed globals, {@code module.name}, for messages. */
    static final List<String> ALLOWED = List.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.{" + String.join(",", STORAGES.keySet()) + "}",
            "argparse.Namespace");

    private static final int MAX_NAME = 256;

    private final Function<Object[], Object> storages;

    /** @param storages builds a storage from a persistent id tuple ({@code ('storage', type, key, location, numel)}) */
    TorchPickle(Function<Object[], Object> storages) {
        this.storages = storages;
    }

    @Override
    protected Object persistentLoad(Object pid) {
        if (!(pid instanceof Object[] tuple)) {
            throw new PickleException("a persistent id is " + describe(pid) + ", expected a tuple");
        }
        return storages.apply(tuple);
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = line();
                String name = line();
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw new PickleException("STACK_GLOBAL needs two strings");
                }
                stack.add(resolve(m, n));
                return NO_RETURN_VALUE;
            }
            case Opcodes.EMPTY_DICT -> {
                stack.add(new PickledDict()); // Python dicts keep insertion order; the library's HashMap would not
                return NO_RETURN_VALUE;
            }
            case Opcodes.SETITEMS -> {
                // The library collects the items in a HashMap first, which loses the state dict's order.
                List<Object> items = stack.pop_all_since_marker();
                if (!(stack.peek() instanceof Map<?, ?> target) || items.size() % 2 != 0) {
                    throw new PickleException("SETITEMS needs a dict and key/value pairs");
                }
                @SuppressWarnings("unchecked")
                Map<Object, Object> dict = (Map<Object, Object>) target;
                for (int i = 0; i < items.size(); i += 2) {
                    dict.put(items.get(i), items.get(i + 1));
                }
                return NO_RETURN_VALUE;
            }
            case Opcodes.INST, Opcodes.OBJ -> throw new Refused("<" + (key == Opcodes.INST ? "INST" : "OBJ") + ">",
                    "the pickle instantiates a class through the " + (key == Opcodes.INST ? "INST" : "OBJ")
                            + " opcode, which no state dict uses");
            case Opcodes.EXT1, Opcodes.EXT2, Opcodes.EXT4 -> throw new Refused("<extension registry>",
                    "the pickle names a global through the copyreg extension registry (EXT opcodes)");
            case Opcodes.BINSTRING, Opcodes.BINBYTES, Opcodes.BINUNICODE -> checkLength(4);
            case Opcodes.BINBYTES8, Opcodes.BINUNICODE8, Opcodes.BYTEARRAY8 -> checkLength(8);
            case Opcodes.LONG4 -> checkLength(4);
            default -> { }
        }
        return super.dispatch(key);
    }

    /** A length prefix (little-endian) must not exceed the bytes left: refused before anything is allocated. */
    private void checkLength(int width) throws IOException {
        input.mark(width);
        byte[] b = input.readNBytes(width);
        input.reset();
        if (b.length < width) {
            throw new PickleException("the pickle ends inside a length field");
        }
        long n = 0;
        for (int i = width - 1; i >= 0; i--) {
            n = (n << 8) | (b[i] & 0xFF);
        }
        if (n < 0 || n > input.available()) {
            throw new PickleException("a string or bytes field declares " + Long.toUnsignedString(n)
                    + " bytes but only " + input.available() + " are left");
        }
    }

    private String line() throws IOException {
        byte[] buf = new byte[MAX_NAME];
        for (int i = 0; i < MAX_NAME; i++) {
            int c = input.read();
            if (c < 0) {
                throw new PickleException("the pickle ends inside a global's name");
            }
            if (c == '\n') {
                return new String(buf, 0, i, StandardCharsets.UTF_8);
            }
            buf[i] = (byte) c;
        }
        throw new PickleException("a global's name is longer than " + MAX_NAME + " bytes");
    }

    private static IObjectConstructor resolve(String module, String name) {
        String global = module + "." + name;
        switch (global) {
            case "collections.OrderedDict":
                return args -> {
                    PickledDict d = new PickledDict();
                    if (args.length == 1 && args[0] instanceof List<?> items) {
                        for (Object item : items) {
                            if (item instanceof Object[] pair && pair.length == 2) {
                                d.put(pair[0], pair[1]);
                            }
                        }
                    }
                    return d;
                };
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
                return TorchPickle::rebuildTensor;
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
                return args -> {
                    if (args.length < 1 || !(args[0] instanceof TorchTensor)) {
                        throw new PickleException(global + " needs a tensor as its first argument");
                    }
                    return args[0];
                };
            case "argparse.Namespace":
                return args -> new Inert(global, new LinkedHashMap<>());
            default:
                break;
        }
        if (module.equals("torch") && STORAGES.containsKey(name)) {
            StorageType type = new StorageType(name, STORAGES.get(name));
            return new StorageTag(type);
        }
        throw new Refused(global, "the pickle names the global '" + global + "', which a state dict never needs; "
                + "vitscope builds only " + String.join(", ", ALLOWED) + ". Nothing was run");
    }

    /** A storage class on the stack: usable as a tag in a persistent id, never callable. */
    record StorageTag(StorageType type) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            throw new Refused("torch." + type.name(), "the pickle calls torch." + type.name()
                    + " instead of using it as a storage tag");
        }
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata)}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof TorchStorage storage)) {
            throw new PickleException("_rebuild_tensor needs (storage, offset, size, stride, ...), got "
                    + describe(args));
        }
        long offset = toLong(args[1], "storage_offset");
        long[] size = longs(args[2], "size");
        long[] stride = longs(args[3], "stride");
        return TorchTensor.of(storage, offset, size, stride);
    }

    static long toLong(Object o, String what) {
        if (o instanceof Integer i) {
            return i;
        }
        if (o instanceof Long l) {
            return l;
        }
        throw new PickleException(what + " must be an integer, got " + describe(o));
    }

    private static long[] longs(Object o, String what) {
        if (!(o instanceof Object[] tuple)) {
            throw new PickleException(what + " must be a tuple of integers, got " + describe(o));
        }
        long[] out = new long[tuple.length];
        for (int i = 0; i < tuple.length; i++) {
            out[i] = toLong(tuple[i], what);
        }
        return out;
    }

    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Object[] a) {
            return "a tuple of " + a.length + (a.length <= 6 ? " " + Arrays.deepToString(a) : "");
        }
        return "a " + o.getClass().getSimpleName();
    }

    /** Reads one pickle from {@code in} (which must support mark/reset and report the bytes left). */
    Object read(InputStream in) throws IOException {
        return load(in);
    }
}
