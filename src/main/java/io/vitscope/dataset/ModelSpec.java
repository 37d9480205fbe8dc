package io.vitscope.dataset;

import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.model.Presets;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which model to load, as a value that can travel to another JVM (a Spark executor): file names, never tensors.
 *
 * @param arch a preset name, or null when the weights say it (a folder with a config, or the embedded model)
 * @param weights a checkpoint file or model folder; null for the embedded model
 * @param labels a class-names file; null for the checkpoint's own
 */
public record ModelSpec(String arch, String weights, String labels) implements Serializable {

    /** One loaded model per spec per JVM: every task of an executor shares it. */
    private static final Map<ModelSpec, LoadedModel> SHARED = new ConcurrentHashMap<>();

    public static ModelSpec embedded() {
        return new ModelSpec(null, null, null);
    }

    /** Loads a new copy; the caller closes it. */
    public LoadedModel load() {
        LoadedModel loaded = weights == null ? Models.loadDefault()
                : Models.load(arch == null ? null : Presets.get(arch).name(), Path.of(weights));
        return labels == null ? loaded : Models.withLabels(loaded, Path.of(labels));
    }

    /**
     * The model this JVM already loaded for this spec, loading it on first use (once, even when several tasks ask at
     * the same time). It stays loaded for the JVM's life: an executor scores many partitions with it.
     */
    public LoadedModel shared() {
        return SHARED.computeIfAbsent(this, ModelSpec::load);
    }
}
