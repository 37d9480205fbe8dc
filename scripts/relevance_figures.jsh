// The figures and timings of docs/relevance.md: every relevance method on the Fashion-MNIST demo images with the
// embedded model; with $VITSCOPE_B16 naming a ViT-B/16 checkpoint, the time of each map on a photo (methods in
// $VITSCOPE_B16_METHODS, default all four gradient methods) and, with VITSCOPE_B16_FIGURE=1, its figure.
// Run from the project root after `mvn -q compile`:
//   jshell -R-Xmx3g --class-path "target/classes:$(cat target/classpath.txt)" scripts/relevance_figures.jsh
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.plot.AttentionPlots;
import io.vitscope.plot.Plots;
import io.vitscope.relevance.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

System.setProperty("ai.djl.offline", "true");
System.setProperty("java.awt.headless", "true");
System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
Path out = Path.of("docs/images");
Files.createDirectories(out);

void figures(LoadedModel loaded, List<String> files, String prefix) {
    Classifier classifier = new Classifier(loaded);
    for (String f : files) {
        Input input = classifier.read(Path.of(f)).get(0);
        Comparison c = Relevance.compare(loaded.model(), input.tensor(), Relevance.TOP1, Relevance.ALL);
        String label = loaded.labels().get(c.maps().get(0).target());
        var shown = AttentionPlots.forDisplay(classifier.transform().denormalize(input.tensor()));
        String name = Path.of(f).getFileName().toString().replaceAll("\\.[a-z]+$", "");
        Path png = out.resolve(prefix + name + ".png");
        Plots.save(c.plot(shown, Path.of(f).getFileName() + " — " + loaded.name() + " — top-1 " + label), png,
                Plots.Format.PNG, 1600, 0);
        System.out.println("wrote " + png + ": " + c.get(Method.INTEGRATED_GRADIENTS));
    }
}

if (System.getenv("VITSCOPE_SKIP_FASHION") == null) try (LoadedModel fashion = Models.loadDefault()) {
    figures(fashion, List.of("images/fashion/fashion_0_ankle_boot.png", "images/fashion/fashion_1_pullover.png",
            "images/fashion/fashion_8_sandal.png", "images/fashion/fashion_18_bag.png"), "relevance_");
}

String b16 = System.getenv("VITSCOPE_B16");
if (b16 != null) {
    try (LoadedModel vit = Models.load("vit_base_patch16_224", Path.of(b16))) {
        Classifier classifier = new Classifier(vit);
        float[] x = classifier.read(Path.of("images/photos/chelsea.jpg")).get(0).tensor();
        Relevance.chefer(vit.model(), x, Relevance.TOP1);                      // warm-up: engine and first backward
        String names = System.getenv().getOrDefault("VITSCOPE_B16_METHODS",
                "chefer,grad-rollout,attn-gradcam,integrated-gradients");
        for (String name : names.split(",")) {
            Method m = Method.parse(name);
            long t0 = System.nanoTime();
            RelevanceMap map = Relevance.of(m, vit.model(), x, Relevance.TOP1);
            System.out.printf("ViT-B/16 %-22s %7.2f s  %s%n", m.cliName(), (System.nanoTime() - t0) / 1e9, map);
        }
        long t0 = System.nanoTime();
        float[] logits = null;
        try (var mgr = ai.djl.ndarray.NDManager.newBaseManager()) {
            logits = vit.model().forward(mgr.create(x, new ai.djl.ndarray.types.Shape(1, 3, 224, 224))).toFloatArray();
        }
        System.out.printf("ViT-B/16 forward alone          %7.2f s%n", (System.nanoTime() - t0) / 1e9);
        if ("1".equals(System.getenv("VITSCOPE_B16_FIGURE"))) {
            figures(vit, List.of("images/photos/chelsea.jpg"), "relevance_b16_random_");
        }
    }
}
/exit
