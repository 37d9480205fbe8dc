package io.vitscope.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import io.vitscope.Golden;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The model through DJL's Predictor gives what vitscope's own pipeline gives. */
class VitTranslatorTest {

    @Test
    void djlPredictorMatchesClassifier() throws Exception {
        Path image = Path.of(Golden.class.getResource("/images/chelsea_200x150.png").toURI());
        try (LoadedModel vit = Models.load(null, Golden.dir("tiny/hf"));
             Model model = VitTranslator.djlModel(vit);
             Predictor<Image, Classifications> predictor = VitTranslator.predictor(model, vit)) {
            Classifications c = predictor.predict(ImageFactory.getInstance().fromFile(image));
            List<Prediction> ours = new Classifier(vit).predict(image, 3);
            for (int i = 0; i < 3; i++) {
                Classifications.Classification djl = c.topK(3).get(i);
                assertEquals(ours.get(i).label(), djl.getClassName());
                // The same tensor through the same forward at the same batch size (1): the same kernels on the same
                // shapes, so bit for bit (as ConcurrentPredictTest shows across threads); DJL widens to double.
                assertEquals((double) ours.get(i).probability(), djl.getProbability(), 0.0);
            }
        }
    }
}
