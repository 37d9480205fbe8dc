package io.vitscope.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.model.DataConfig;
import io.vitscope.model.StateDicts;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.train.Evaluation;
import io.vitscope.train.FashionMnist;
import io.vitscope.train.ModelDir;
import io.vitscope.weights.Safetensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vitscope eval}: a model directory's accuracy on the Fashion-MNIST test set. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {
            "Classify the 10,000 Fashion-MNIST test images with a model directory (model.safetensors and"
                    + " config.json; default: the shipped models/fashion_vit) and print its top-1 and top-5 accuracy"
                    + " and a per-class accuracy table.",
            "Images are prepared as at inference: x / 255, then normalised with the model's mean and std."},
        footer = {"", "Fashion-MNIST on Debian: apt-get install dataset-fashion-mnist"})
public class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--weights", paramLabel = "DIR",
            description = "Model directory (default: models/fashion_vit under -Dvitscope.home or the working directory).")
    Path weights;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with the Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate the first N test images only (default: all).")
    int limit;

    @Option(names = "--batch", paramLabel = "N", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch = 500;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for libtorch (default: the engine's).")
    Integer threads;

    private final boolean terminal;

    public EvalCommand() {
        this(System.console() != null);
    }

    /** For tests: whether to draw a progress bar as on a terminal. */
    EvalCommand(boolean terminal) {
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (limit < 0 || batch < 1) {
            throw new VitscopeException("--limit must be ≥ 0 and --batch ≥ 1, got " + limit + " and " + batch);
        }
        if (threads != null) {
            if (threads < 1) {
                throw new VitscopeException("--threads must be at least 1, got " + threads);
            }
            Engine.getEngine("PyTorch");  // loads libtorch, whose thread setting JniUtils then changes
            JniUtils.setNumThreads(threads);
        }
        Path dir = weights != null ? weights : Home.defaultModelDir();
        ModelConfig mc = readConfig(dir.resolve(ModelDir.CONFIG));
        if (mc.config.inChans() != 1 || mc.config.imgHeight() != FashionMnist.SIZE
                || mc.config.imgWidth() != FashionMnist.SIZE || mc.config.numClasses() != FashionMnist.LABELS.size()) {
            throw new InvalidInputException(dir.resolve(ModelDir.CONFIG), "describes a model for "
                    + mc.config.inChans() + "x" + mc.config.imgHeight() + "x" + mc.config.imgWidth() + " images and "
                    + mc.config.numClasses() + " classes; Fashion-MNIST needs 1x28x28 and 10");
        }
        FashionMnist test = FashionMnist.load(data, FashionMnist.Split.TEST).head(limit);
        Path weightsFile = dir.resolve(ModelDir.WEIGHTS);
        long t0 = System.nanoTime();
        Evaluation.Result r;
        try (VisionTransformer model = new VisionTransformer(mc.config)) {
            try (Safetensors st = Safetensors.open(weightsFile)) {
                StateDicts.load(model, st.sources(), weightsFile, mc.architecture);
            }
            try (TerminalBar bar = TerminalBar.of(terminal, err, "eval", test.size(), "images")) {
                r = Evaluation.run(model, test, mc.dataConfig, batch, bar::stepTo);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        List<String> labels = mc.labels.size() == FashionMnist.LABELS.size() ? mc.labels : FashionMnist.LABELS;
        out.printf(Locale.ROOT, "%s (%s) on %,d Fashion-MNIST test images%s%n", mc.architecture, dir, r.n(),
                limit > 0 ? " (--limit " + limit + ")" : "");
        out.printf(Locale.ROOT, "top-1 %.2f%%  (%d/%d)%n", 100 * r.top1(), r.top1Correct(), r.n());
        out.printf(Locale.ROOT, "top-5 %.2f%%  (%d/%d)%n", 100 * r.top5(), r.top5Correct(), r.n());
        out.println();
        out.printf(Locale.ROOT, "%-3s %-12s %7s %9s  %s%n", "#", "class", "images", "accuracy", "most often mistaken for");
        for (int k = 0; k < labels.size(); k++) {
            int other = r.mostConfusedWith(k);
            String confused = other < 0 ? "-" : String.format(Locale.ROOT, "%s (%d)", labels.get(other),
                    r.confusion()[k][other]);
            out.printf(Locale.ROOT, "%-3d %-12s %7d %8.2f%%  %s%n", k, labels.get(k), r.classCount(k),
                    100 * r.classAccuracy(k), confused);
        }
        out.printf(Locale.ROOT, "%nEvaluated in %.1f s%n", seconds);
        out.flush();
        return 0;
    }

    /** What config.json says about the model. */
    private record ModelConfig(String architecture, VitConfig config, DataConfig dataConfig, List<String> labels) {}

    /**
     * Reads timm's hub config layout ({@code architecture}, {@code model_args}, {@code pretrained_cfg}) plus
     * {@code label_names}. Stands in until {@code io.vitscope.model.Models.load(Path)} lands on main; swap it then.
     */
    private static ModelConfig readConfig(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file, "not found: pass a model directory holding config.json and"
                    + " model.safetensors with --weights, or train one with: scripts/vitscope train");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot be read: " + e.getMessage(), e);
        }
        try {
            JsonObject root = JsonParser.parseString(text).getAsJsonObject();
            JsonObject a = root.getAsJsonObject("model_args");
            JsonObject p = root.getAsJsonObject("pretrained_cfg");
            if (a == null || p == null) {
                throw new InvalidInputException(file, "has no model_args or pretrained_cfg object (timm's hub layout)");
            }
            JsonArray img = a.getAsJsonArray("img_size");
            VitConfig config = new VitConfig(img.get(0).getAsInt(), img.get(1).getAsInt(),
                    a.get("patch_size").getAsInt(), a.get("in_chans").getAsInt(), a.get("num_classes").getAsInt(),
                    a.get("embed_dim").getAsInt(), a.get("depth").getAsInt(), a.get("num_heads").getAsInt(),
                    a.get("mlp_ratio").getAsDouble(), !a.has("qkv_bias") || a.get("qkv_bias").getAsBoolean(),
                    a.has("layer_norm_eps") ? a.get("layer_norm_eps").getAsDouble() : 1e-6);
            JsonArray size = p.getAsJsonArray("input_size");
            DataConfig dc = new DataConfig(size.get(0).getAsInt(), size.get(1).getAsInt(), size.get(2).getAsInt(),
                    p.get("crop_pct").getAsDouble(), DataConfig.Interpolation.parse(p.get("interpolation").getAsString()),
                    DataConfig.CropMode.valueOf(p.get("crop_mode").getAsString().toUpperCase(Locale.ROOT)),
                    doubles(p.getAsJsonArray("mean")), doubles(p.getAsJsonArray("std")));
            List<String> labels = new ArrayList<>();
            if (root.has("label_names")) {
                for (JsonElement e : root.getAsJsonArray("label_names")) {
                    labels.add(e.getAsString());
                }
            }
            String arch = root.has("architecture") ? root.get("architecture").getAsString() : "model";
            return new ModelConfig(arch, config, dc, labels);
        } catch (InvalidInputException e) {
            throw e;
        } catch (RuntimeException e) {  // Gson's parse errors, missing keys (NPE), bad values (IllegalArgument)
            throw new InvalidInputException(file, "is not a valid model config (" + e.getMessage() + ")", e);
        }
    }

    private static double[] doubles(JsonArray a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i).getAsDouble();
        }
        return d;
    }
}
