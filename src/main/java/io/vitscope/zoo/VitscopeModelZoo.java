package io.vitscope.zoo;

import ai.djl.Application;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.MRL;
import ai.djl.repository.Repository;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelLoader;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Progress;
import io.vitscope.VitscopeException;
import io.vitscope.engine.Engines;
import io.vitscope.hub.ModelCache;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * vitscope's DJL model zoo, group id {@value #GROUP_ID}: one artifact per model in vitscope's cache
 * ({@code vitscope fetch vit_base_patch16_224} puts {@code vit_base_patch16_224.augreg2_in21k_ft_in1k} there; the
 * architecture name alone finds its cached tag) and the embedded {@code fashion_vit}. The list is read from the cache
 * each time, so a model fetched after start-up is found.
 *
 * <pre>{@code
 * Criteria<Image, Classifications> c = Criteria.builder().setTypes(Image.class, Classifications.class)
 *         .optGroupId("io.vitscope").optArtifactId("vit_base_patch16_224").build();
 * try (ZooModel<Image, Classifications> model = c.loadModel();
 *      Predictor<Image, Classifications> p = model.newPredictor()) { ... }
 * }</pre>
 *
 * For a folder or file of one's own, DJL's {@code optModelUrls} always uses DJL's DefaultModelZoo, whose loader hands
 * the folder to the PyTorch engine (TorchScript only) — no zoo can claim a {@code file:} URL. DJL's own hooks for that
 * are the {@code blockFactory} and {@code translatorFactory} arguments and the {@code hasParameter} option, which
 * {@link #criteria(String)} sets.
 */
public final class VitscopeModelZoo extends ModelZoo {

    public static final String GROUP_ID = "io.vitscope";

    @Override
    public String getGroupId() {
        return GROUP_ID;
    }

    @Override
    public Set<String> getSupportedEngines() {
        return Set.of("PyTorch");
    }

    /** The cached models and the embedded one, read now. */
    @Override
    public Collection<ModelLoader> getModelLoaders() {
        List<ModelLoader> out = new ArrayList<>();
        try {
            java.util.Set<String> archs = new java.util.HashSet<>();
            for (ModelCache.CachedModel m : ModelCache.atDefaultRoot().list()) {
                out.add(new Loader(m.name(), m.dir()));
                String arch = m.name().contains(".") ? m.name().substring(0, m.name().indexOf('.')) : m.name();
                if (!arch.equals(m.name()) && archs.add(arch)) {
                    out.add(new Loader(arch, m.dir())); // the architecture name finds its first cached tag
                }
            }
        } catch (RuntimeException e) {
            // an unreadable cache lists nothing; the embedded model is still there
        }
        try {
            out.add(new Loader(Models.DEFAULT_MODEL, Models.defaultModelDir()));
        } catch (VitscopeException e) {
            // a build without the embedded model
        }
        return out;
    }

    @Override
    public ModelLoader getModelLoader(String name) {
        for (ModelLoader l : getModelLoaders()) {
            if (l.getArtifactId().equals(name) || l.getArtifactId().startsWith(name + ".")) {
                return l;
            }
        }
        return null;
    }

    /**
     * A criteria for a folder or checkpoint file of one's own through DJL's {@code optModelUrls}, with DJL's hooks
     * set to vitscope's factories.
     *
     * @param url {@code file:///path/to/model-dir} or {@code file:///path/to/weights.pth}
     */
    public static Criteria.Builder<Image, Classifications> criteria(String url) {
        Engines.start(); // before libtorch loads, as the zoo's own loader does
        return Criteria.builder().setTypes(Image.class, Classifications.class)
                .optModelUrls(url)
                .optEngine("PyTorch")
                .optArgument("blockFactory", VitBlockFactory.class.getName())
                .optArgument("translatorFactory", VitTranslatorFactory.class.getName())
                .optOption("hasParameter", "false");
    }

    /** One vitscope model folder as a DJL artifact. */
    private static final class Loader implements ModelLoader {
        private final String name;
        private final Path dir;

        Loader(String name, Path dir) {
            this.name = name;
            this.dir = dir;
        }

        @Override
        public String getGroupId() {
            return GROUP_ID;
        }

        @Override
        public String getArtifactId() {
            return name;
        }

        @Override
        public Application getApplication() {
            return Application.CV.IMAGE_CLASSIFICATION;
        }

        @Override
        public MRL getMrl() {
            return MRL.undefined(Repository.newInstance(name, dir), GROUP_ID, name);
        }

        @Override
        public <I, O> ZooModel<I, O> loadModel(Criteria<I, O> criteria)
                throws ModelNotFoundException, MalformedModelException {
            TranslatorFactory factory = criteria.getTranslatorFactory() != null
                    ? criteria.getTranslatorFactory() : new VitTranslatorFactory();
            if (!factory.isSupported(criteria.getInputClass(), criteria.getOutputClass())) {
                throw new ModelNotFoundException("vitscope models translate Image to Classifications, not "
                        + criteria.getInputClass().getSimpleName() + " to " + criteria.getOutputClass().getSimpleName());
            }
            // DJL hands a zoo's loader the criteria before anything starts the engine: start it vitscope's way (the
            // MKL fast path before libtorch loads), so a program that only uses Criteria runs as fast as one that
            // calls Engines.start() itself. Only here, where a vitscope model loads, not for every zoo listing.
            Engines.start();
            LoadedModel vit;
            try {
                vit = Models.load(null, dir);
            } catch (VitscopeException e) {
                throw new MalformedModelException(e.getMessage(), e);
            }
            Model model = Model.newInstance(name, criteria.getDevice(), "PyTorch");
            model.setBlock(vit.model());
            VitBlockFactory.register(model, vit);
            try {
                return new ZooModel<>(model, factory.newInstance(criteria.getInputClass(), criteria.getOutputClass(),
                        model, criteria.getArguments()));
            } catch (TranslateException e) {
                model.close();
                throw new ModelNotFoundException(e.getMessage(), e);
            }
        }

        @Override
        public <I, O> boolean isDownloaded(Criteria<I, O> criteria) {
            return true;
        }

        @Override
        public <I, O> void downloadModel(Criteria<I, O> criteria, Progress progress) {
            // already local: 'vitscope fetch' downloads
        }

        @Override
        public String toString() {
            return GROUP_ID + ":" + name + " (" + dir + ")";
        }
    }
}
