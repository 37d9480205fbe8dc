package io.vitscope.probe;

import ai.djl.ndarray.NDArray;
import io.vitscope.VitscopeException;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes captured calls to numpy's {@code .npz}: locals by name, arguments as {@code arg_<name>}, {@code return}. */
final class NpzExport {

    private NpzExport() {}

    static void save(Path file, List<CallRecord> calls, boolean prefixed) {
        LinkedHashMap<String, NpyArray> arrays = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        for (CallRecord c : calls) {
            total.merge(c.path(), 1, Integer::sum);
        }
        for (CallRecord c : calls) {
            String prefix = "";
            if (prefixed) {
                int k = seen.merge(c.path(), 1, Integer::sum) - 1;
                String path = c.path().isEmpty() ? "model" : c.path();
                prefix = (total.get(c.path()) > 1 ? path + "#" + k : path) + "/";
            }
            for (Map.Entry<String, Object> e : c.locals().entrySet()) {
                arrays.put(prefix + e.getKey(), toNpy(e.getValue()));
            }
            for (Map.Entry<String, Object> e : c.args().entrySet()) {
                arrays.put(prefix + "arg_" + e.getKey(), toNpy(e.getValue()));
            }
            if (c.returnValue() != null) {
                arrays.put(prefix + "return", toNpy(c.returnValue()));
            }
        }
        try {
            Npz.write(file, arrays);
        } catch (IOException e) {
            throw VitscopeException.cannotWrite(file, e);
        }
    }

    private static NpyArray toNpy(Object v) {
        if (v instanceof NDArray a) {
            return NpyArray.of(a);
        }
        if (v instanceof Integer i) {
            return NpyArray.scalar((long) i);
        }
        throw new IllegalStateException("cannot export a local of type " + v.getClass().getName());
    }
}
