package io.vitscope.zoo;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.inference.Predictor;
import io.vitscope.engine.MklFastPath;
import java.nio.file.Path;

/**
 * A program that reaches vitscope only through DJL's {@code Criteria} (no {@code Engines.start()} of its own): run in
 * a fresh JVM by {@link ZooTest}, it prints the top class and how MKL was set up.
 */
public final class ZooFirstUse {

    private ZooFirstUse() {}

    public static void main(String[] args) throws Exception {
        Criteria<Image, Classifications> c = Criteria.builder().setTypes(Image.class, Classifications.class)
                .optGroupId(VitscopeModelZoo.GROUP_ID).optArtifactId("fashion_vit").build();
        try (ZooModel<Image, Classifications> model = c.loadModel();
             Predictor<Image, Classifications> predictor = model.newPredictor()) {
            Classifications out = predictor.predict(ImageFactory.getInstance().fromFile(Path.of(args[0])));
            System.out.println(out.best().getClassName());
            System.out.println(MklFastPath.status());
        }
    }
}
