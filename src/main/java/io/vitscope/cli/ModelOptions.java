package io.vitscope.cli;

import ai.djl.engine.Engine;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.hub.ModelCache;
import io.vitscope.model.Presets;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How every command that loads a model picks it: {@code --model}, {@code --weights}, {@code --labels}. */
public final class ModelOptions {

    @Option(names = "--model", paramLabel = "ARCH[.TAG]",
            description = "A timm architecture (${COMPLETION-CANDIDATES}); its weights come from --weights or the "
                    + "cache filled by 'vitscope fetch'. Default: the embedded Fashion-MNIST model.",
            completionCandidates = FetchCommand.ArchNames.class)
    String model;

    @Option(names = "--weights", paramLabel = "FILE|DIR",
            description = "A .safetensors checkpoint (timm or Hugging Face names), a timm hub folder or a Hugging Face "
                    + "model folder (config.json + model.safetensors + preprocessor_config.json).")
    Path weights;

    @Option(names = "--labels", paramLabel = "FILE", description = "Class names, one per line in class-index order.")
    Path labels;

    /**
     * The model these options name: the checkpoint in --weights (into --model's architecture when given), else
     * --model's weights from the model cache, else the embedded model; then --labels' class names.
     */
    public LoadedModel load() {
        Timings.mark("arguments parsed");
        Engine.getEngine("PyTorch"); // what loading does first anyway; apart, so that its time can be told apart
        Timings.mark("DJL engine + libtorch loaded");
        LoadedModel loaded;
        if (weights != null) {
            loaded = Models.load(model == null ? null : Presets.get(model).name(), weights);
        } else if (model != null) {
            Presets.get(model); // unknown names fail here, listing the valid ones
            loaded = ModelCache.atDefaultRoot().load(model);
        } else {
            loaded = Models.loadDefault();
        }
        loaded = labels == null ? loaded : Models.withLabels(loaded, labels);
        Timings.mark("model built, weights loaded");
        return loaded;
    }
}
