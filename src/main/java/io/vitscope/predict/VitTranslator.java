package io.vitscope.predict;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import io.vitscope.image.EvalTransform;
import io.vitscope.image.ImageReader;
import io.vitscope.image.DataConfig;
import io.vitscope.checkpoint.LoadedModel;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * vitscope's model through DJL's standard API: a {@code Translator<Image, Classifications>} applying the model's
 * own eval transform (timm's, bit-exact with Pillow) and a softmax, so DJL users load and run it like any DJL model:
 *
 * <pre>{@code
 * try (LoadedModel vit = Models.loadDefault();
 *      Model model = VitTranslator.djlModel(vit);
 *      Predictor<Image, Classifications> predictor = model.newPredictor(new VitTranslator(vit))) {
 *     Classifications c = predictor.predict(ImageFactory.getInstance().fromFile(path));
 * }
 * }</pre>
 */
public final class VitTranslator implements Translator<Image, Classifications> {

    private final EvalTransform transform;
    private final List<String> labels;
    private final ImageReader reader = ImageReader.defaults();

    public VitTranslator(LoadedModel model) {
        this.transform = new EvalTransform(model.dataConfig());
        this.labels = model.labels();
    }

    /** A DJL {@link Model} whose block is this ViT (the ViT keeps owning its parameters). */
    public static Model djlModel(LoadedModel vit) {
        Model model = Model.newInstance(vit.name(), "PyTorch");
        model.setBlock(vit.model());
        return model;
    }

    /** A ready predictor on a DJL model made by {@link #djlModel}. */
    public static Predictor<Image, Classifications> predictor(Model model, LoadedModel vit) {
        return model.newPredictor(new VitTranslator(vit));
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Image input) {
        Object wrapped = input.getWrappedImage();
        if (!(wrapped instanceof BufferedImage bi)) {
            throw new IllegalArgumentException("VitTranslator needs DJL's BufferedImage-backed images (the default "
                    + "ImageFactory on the desktop JVM), got " + wrapped.getClass().getName());
        }
        DataConfig c = transform.config();
        float[] chw = transform.apply(reader.convert(bi));                             // (C, H, W)
        NDArray x = ctx.getNDManager().create(chw, new Shape(c.inChans(), c.height(), c.width()));
        return new NDList(x);
    }

    @Override
    public Classifications processOutput(TranslatorContext ctx, NDList list) {
        NDArray probs = list.singletonOrThrow().softmax(-1);                           // (K)
        return new Classifications(labels, probs);
    }

    @Override
    public Batchifier getBatchifier() {
        return Batchifier.STACK;
    }
}
