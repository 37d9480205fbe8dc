package io.vitscope.checkpoint;

import ai.djl.ndarray.types.Shape;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.TensorSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What PyTorch's {@code load_state_dict(strict=True)} would say, computed before anything is loaded: the model's
 * parameters missing from the checkpoint, the checkpoint's tensors the model has no place for, and tensors whose shape
 * differs (both shapes). The same report for every format, since every format is first converted to timm's names.
 */
public record StrictReport(List<String> missing, List<String> unexpected, List<String> misShaped) {

    public StrictReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        misShaped = List.copyOf(misShaped);
    }

    /** Compares timm-named tensors with the parameters a model needs. */
    public static StrictReport of(Map<String, Shape> expected, Map<String, ? extends TensorSource> stateDict) {
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            TensorSource src = stateDict.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey() + " " + Shapes.format(e.getValue().getShape()));
            } else if (!Arrays.equals(src.shape(), e.getValue().getShape())) {
                misShaped.add(e.getKey() + " is " + Shapes.format(src.shape()) + " in the file, the model needs "
                        + Shapes.format(e.getValue().getShape()));
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, ? extends TensorSource> e : stateDict.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                unexpected.add(e.getKey() + " " + Shapes.format(e.getValue().shape()));
            }
        }
        return new StrictReport(missing, unexpected, misShaped);
    }

    /** Whether the checkpoint fits the model exactly. */
    public boolean loads() {
        return missing.isEmpty() && unexpected.isEmpty() && misShaped.isEmpty();
    }

    /** The first few of each kind, with counts (every name is in the lists and in {@code Inspection.save}'s JSON). */
    @Override
    public String toString() {
        if (loads()) {
            return "every tensor fits";
        }
        List<String> parts = new ArrayList<>();
        part(parts, "missing", missing);
        part(parts, "unexpected", unexpected);
        part(parts, "mis-shaped", misShaped);
        return String.join("; ", parts);
    }

    private static final int SHOWN = 8;

    private static void part(List<String> parts, String label, List<String> items) {
        if (!items.isEmpty()) {
            parts.add(items.size() + " " + label + ": " + String.join(", ", items.subList(0, Math.min(SHOWN, items.size())))
                    + (items.size() > SHOWN ? ", … and " + (items.size() - SHOWN) + " more" : ""));
        }
    }
}
