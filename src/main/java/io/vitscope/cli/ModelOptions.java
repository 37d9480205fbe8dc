package io.vitscope.cli;

import io.vitscope.hub.ModelCache;
import io.vitscope.model.LoadedModel;
import io.vitscope.model.Models;
import io.vitscope.model.Presets;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How every command picks its model: {@code --model}, {@code --weights}, {@code --labels}; nothing = the default. */
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

    /** Loads the model these options name. */
    public LoadedModel load() {
        LoadedModel loaded;
        if (weights != null) {
            String arch = model == null ? null : Presets.get(model).name();
            loaded = Models.load(arch, weights);
        } else if (model != null) {
            Presets.get(model); // unknown names fail here, listing the valid ones
            loaded = ModelCache.atDefaultHome().load(model);
        } else {
            loaded = Models.loadDefault();
        }
        if (labels != null) {
            try {
                loaded = loaded.withLabels(Models.readLabels(labels, loaded.config().numClasses()));
            } catch (RuntimeException e) {
                loaded.close();
                throw e;
            }
        }
        return loaded;
    }
}
