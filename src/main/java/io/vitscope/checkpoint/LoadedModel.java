package io.vitscope.checkpoint;

import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.util.List;

/**
 * A model ready to predict: the network with its weights, how its input is prepared, and its class names.
 *
 * @param name the architecture's name (a timm preset name, or the name in the checkpoint's config)
 * @param source where the weights came from, for messages ("random weights" for an untrained model)
 */
public record LoadedModel(String name, VisionTransformer model, DataConfig dataConfig, List<String> labels,
                          String source) implements AutoCloseable {

    public LoadedModel {
        labels = List.copyOf(labels);
        if (labels.size() != model.config().numClasses()) {
            throw new IllegalArgumentException(labels.size() + " class names for a model with "
                    + model.config().numClasses() + " classes");
        }
    }

    public VitConfig config() {
        return model.config();
    }

    /** The same model with other class names (e.g. from {@code --labels}). */
    public LoadedModel withLabels(List<String> names) {
        return new LoadedModel(name, model, dataConfig, names, source);
    }

    @Override
    public void close() {
        model.close();
    }
}
