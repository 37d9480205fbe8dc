package io.vitscope.zoo;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Pair;
import io.vitscope.predict.VitTranslator;
import io.vitscope.checkpoint.LoadedModel;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;

/**
 * DJL's {@code translatorFactory} hook: {@code Image → Classifications} through vitscope's {@link VitTranslator}
 * (the model's own eval transform, bit-exact with Pillow, then a softmax over its class names), for a block built by
 * {@link VitBlockFactory} or the {@link VitscopeModelZoo}.
 */
public final class VitTranslatorFactory implements TranslatorFactory {

    @Override
    public Set<Pair<Type, Type>> getSupportedTypes() {
        return Set.of(new Pair<>(Image.class, Classifications.class));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <I, O> Translator<I, O> newInstance(Class<I> input, Class<O> output, Model model, Map<String, ?> arguments)
            throws TranslateException {
        if (!isSupported(input, output)) {
            throw new IllegalArgumentException("vitscope translates Image to Classifications, not " + input.getName()
                    + " to " + output.getName());
        }
        LoadedModel vit = VitBlockFactory.loaded(model.getBlock()).orElseThrow(() -> new TranslateException(
                "the model's block is not a vitscope ViT built by VitBlockFactory or VitscopeModelZoo: add "
                        + ".optArgument(\"blockFactory\", \"" + VitBlockFactory.class.getName() + "\")"));
        return (Translator<I, O>) new VitTranslator(vit);
    }
}
