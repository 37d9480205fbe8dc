package io.vitscope.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.vitscope.InvalidInputException;
import io.vitscope.model.VisionTransformer;
import io.vitscope.weights.DType;
import io.vitscope.weights.TensorSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Copies a timm-layout state dict into a model, like PyTorch's {@code load_state_dict(strict=True)}. */
public final class StateDicts {

    private static final int LISTED = 8;

    private StateDicts() {}

    /**
     * Checks every name and shape first — missing, unexpected and mis-shaped tensors are all reported at once, by
     * name, with both shapes — then loads the tensors one at a time into the model's memory. Nothing is left
     * uninitialised: a model is either fully loaded or the call fails before touching it.
     *
     * @param file the checkpoint, for error messages
     * @param what the architecture's name, for error messages
     */
    public static void load(VisionTransformer model, Map<String, ? extends TensorSource> stateDict, Path file,
                            String what) {
        LinkedHashMap<String, Shape> expected = model.parameterShapes();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            TensorSource src = stateDict.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey() + " " + e.getValue());
            } else if (!Arrays.equals(src.shape(), e.getValue().getShape())) {
                misShaped.add(e.getKey() + " is " + new Shape(src.shape()) + " in the file, the model needs " + e.getValue());
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, ? extends TensorSource> e : stateDict.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                unexpected.add(e.getKey() + " " + new Shape(e.getValue().shape()));
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
            List<String> parts = new ArrayList<>();
            list(parts, "missing", missing);
            list(parts, "unexpected", unexpected);
            list(parts, "mis-shaped", misShaped);
            throw new InvalidInputException(file, "the checkpoint does not fit " + what + ": " + String.join("; ", parts)
                    + ". Check that the architecture is the one the checkpoint was trained as");
        }
        // Integer and BOOL tensors convert to float32 without complaint and then predict nonsense: refuse them by name.
        List<String> notFloat = new ArrayList<>();
        for (String name : expected.keySet()) {
            DType t = stateDict.get(name).dtype();
            if (!t.isFloatingPoint()) {
                notFloat.add(name + " is " + t);
            }
        }
        if (!notFloat.isEmpty()) {
            List<String> parts = new ArrayList<>();
            list(parts, "integer or boolean tensors where " + what + " needs floating-point weights", notFloat);
            throw new InvalidInputException(file, parts.get(0) + ". Weights must be F32, F16, BF16 or F64: this file "
                    + "is not a model checkpoint, or was converted with the wrong dtype");
        }
        LinkedHashMap<String, Parameter> params = model.namedParameters();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray array = stateDict.get(e.getKey()).toNDArray(model.manager());
            array.setName(e.getKey());
            e.getValue().setArray(array);
        }
    }

    private static void list(List<String> parts, String label, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        String shown = String.join(", ", items.subList(0, Math.min(LISTED, items.size())));
        parts.add(items.size() + " " + label + " (" + shown
                + (items.size() > LISTED ? ", … and " + (items.size() - LISTED) + " more" : "") + ")");
    }
}
