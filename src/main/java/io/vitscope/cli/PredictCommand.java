package io.vitscope.cli;

import ai.djl.ndarray.NDManager;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Inputs;
import io.vitscope.predict.Prediction;
import io.vitscope.predict.PredictionRun;
import io.vitscope.intervention.Effect;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.probe.Probe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vitscope predict}: the top-k classes of images, as the NoPdb tutorial prints them. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Print the top-k classes of each image (label<TAB>probability), or JSON lines.")
public final class PredictCommand implements Callable<Integer> {

    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(arity = "1..*", paramLabel = "IMAGE",
            description = "Image files (JPEG, PNG, GIF, BMP), folders of them, or .npy tensors [3,H,W] / [N,3,H,W] "
                    + "already preprocessed.")
    List<Path> images;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "How many classes (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Images per forward (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--dump", paramLabel = "DIR",
            description = "Write DIR/input.npy [N,C,H,W] (exactly what the model saw) and DIR/logits.npy [N,K].")
    Path dump;

    @Mixin
    LogitScaleOption scale;

    @Option(names = "--effect",
            description = "With --scale-attn-logits: also report the change against the unscaled model per image — "
                    + "KL(clean || scaled), top-1 flip, change of the clean top-1's logit and probability, change of "
                    + "each block's mean attention entropy.")
    boolean effect;

    @Option(names = "--fail-fast", description = "Stop at the first unusable file instead of reporting it and going on.")
    boolean failFast;

    @Override
    public Integer call() {
        BadValue.check(top >= 1, spec, "--top must be at least 1, got " + top);
        BadValue.check(batch >= 1, spec, "--batch must be at least 1, got " + batch);
        BadValue.check(!effect || scale.given(), spec, "--effect reports what --scale-attn-logits changed: give both");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Path> files = Inputs.expand(images);
        boolean many = files.size() > 1;
        PredictionRun.Summary summary;
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager();
             Probe probe = scale.given() ? Probe.on(loaded.model()) : null;
             TerminalBar progress = TerminalBar.onTerminal(err, "predict", files.size(), "files")) {
            if (probe != null) {
                scale.install(probe);
            }
            Classifier classifier = new Classifier(loaded);
            PredictionRun run = PredictionRun.builder(classifier).setInputs(files).optBatch(batch).optTop(top)
                    .optDump(dump).optFailFast(failFast).optPhases(Timings::mark).optProgress(done -> {
                        progress.stepTo(done);
                        Timings.mark("printed");
                    }).build();
            summary = run.run(result -> {
                if (result instanceof PredictionRun.Failed f) {
                    err.println("vitscope: " + f.error().getMessage());
                    err.flush();
                } else if (result instanceof PredictionRun.Predicted p) {
                    Effect e = effect ? effect(classifier, manager, probe, p.input()) : null;
                    print(out, p.input().source(), loaded.name(), p.top(), many || p.batch() > 1, e,
                            loaded.labels());
                }
            });
        }
        out.flush();
        if (summary.failed() > 0) {
            if (many) { // with one file, its own line already says everything: the error contract is one line
                err.println("vitscope: " + summary.failed() + " of " + files.size() + " files could not be used");
            }
            return Main.BAD_INPUT;
        }
        return Main.OK;
    }

    /** The change --scale-attn-logits makes to one input, from a clean and a scaled forward of its own. */
    private Effect effect(Classifier classifier, NDManager manager, Probe probe, Input input) {
        // The effect runs its own clean and scaled forwards: the command's probe steps aside meanwhile.
        probe.stop();
        try (NDManager scope = manager.newSubManager()) {
            return Effect.measure(classifier.model(), classifier.batch(scope, List.of(input)), -1, scale::install);
        } finally {
            probe.start();
        }
    }

    private void print(PrintWriter out, String source, String modelName, List<Prediction> preds, boolean header,
                       Effect e, List<String> labels) {
        if (format == Format.json) {
            com.google.gson.JsonObject o = Prediction.toJson(source, modelName, preds);
            if (e != null) {
                o.add("effect", new com.google.gson.Gson().toJsonTree(e.toMap()));
            }
            out.println(new com.google.gson.Gson().toJson(o));
        } else {
            if (header) {
                out.println("# " + source);
            }
            for (Prediction p : preds) {
                // The float's value printed as Python prints it (the tutorial's "alp<TAB>0.7936609983444214").
                out.println(p.label() + "\t" + PythonFloat.repr(p.probability()));
            }
            if (e != null) {
                out.println("# effect of --scale-attn-logits " + io.vitscope.plot.Plots.number(scale.scale)
                        + " against the unscaled model");
                out.println(e.describe(labels));
            }
        }
        out.flush();
    }
}
