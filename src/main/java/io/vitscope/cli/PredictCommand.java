package io.vitscope.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Inputs;
import io.vitscope.predict.NonFiniteLogitsException;
import io.vitscope.predict.Prediction;
import io.vitscope.intervention.Effect;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.probe.Probe;
import io.vitscope.weights.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
        int failed = 0;
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager();
             Probe probe = scale.given() ? Probe.on(loaded.model()) : null;
             TerminalBar progress = TerminalBar.onTerminal(err, "predict", files.size(), "files")) {
            if (probe != null) {
                scale.install(probe);
            }
            Classifier classifier = new Classifier(loaded);
            List<Input> pending = new ArrayList<>();
            List<NDArray> dumpedInputs = new ArrayList<>();
            List<NDArray> dumpedLogits = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                InvalidInputException stop = null;
                try {
                    pending.addAll(classifier.read(file));
                } catch (InvalidInputException e) {
                    if (failFast) {
                        stop = e;
                    } else {
                        err.println("vitscope: " + e.getMessage());
                        err.flush();
                        failed++;
                    }
                }
                progress.step(1);
                // On --fail-fast, the files before the bad one are still predicted: what gets printed must not
                // depend on --batch.
                if (stop != null || pending.size() >= batch || i == files.size() - 1) {
                    while (!pending.isEmpty()) {
                        List<Input> chunk = new ArrayList<>(pending.subList(0, Math.min(batch, pending.size())));
                        pending.subList(0, chunk.size()).clear();
                        failed += run(classifier, manager, chunk, loaded.name(), many || chunk.size() > 1, out, err,
                                dumpedInputs, dumpedLogits, probe);
                    }
                }
                if (stop != null) {
                    throw stop;
                }
            }
            if (dump != null && !dumpedInputs.isEmpty()) {
                writeDump(manager, dumpedInputs, dumpedLogits);
            }
        }
        out.flush();
        if (failed > 0) {
            if (many) { // with one file, its own line already says everything: the error contract is one line
                err.println("vitscope: " + failed + " of " + files.size() + " files could not be used");
            }
            return Main.BAD_INPUT;
        }
        return Main.OK;
    }

    /** Predicts and prints one batch; returns how many of its inputs had no result (non-finite logits). */
    private int run(Classifier classifier, NDManager manager, List<Input> chunk, String modelName, boolean headers,
                    PrintWriter out, PrintWriter err, List<NDArray> dumpedInputs, List<NDArray> dumpedLogits,
                    Probe probe) {
        int failed = 0;
        try (NDManager scope = manager.newSubManager()) {
            Timings.mark("images decoded");
            NDArray x = classifier.batch(scope, chunk);                                // (B, C, H, W)
            Timings.mark("preprocessed");
            NDArray logits = classifier.logits(x);                                     // (B, K)
            List<Classifier.Ranking> tops = classifier.rank(logits, top);
            Timings.mark("forward, top-k");
            for (int b = 0; b < chunk.size(); b++) {
                if (!tops.get(b).finite()) { // a per-input error, like an unreadable file: reported, then the next one
                    String line = chunk.get(b).source() + ": " + NonFiniteLogitsException.PROBLEM;
                    if (failFast) {
                        throw new InvalidInputException(null, line);
                    }
                    err.println("vitscope: " + line);
                    err.flush();
                    failed++;
                    continue;
                }
                Effect e = null;
                if (effect) {
                    // The effect runs its own clean and scaled forwards: the command's probe steps aside meanwhile.
                    probe.stop();
                    try {
                        e = Effect.measure(classifier.model(), classifier.batch(scope, chunk.subList(b, b + 1)), -1,
                                scale::install);
                    } finally {
                        probe.start();
                    }
                }
                print(out, chunk.get(b).source(), modelName, tops.get(b).top(), headers, e, classifier.model().labels());
            }
            Timings.mark("printed");
            if (dump != null) {
                x.attach(manager);
                logits.attach(manager);
                dumpedInputs.add(x);
                dumpedLogits.add(logits);
            }
        }
        return failed;
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

    private void writeDump(NDManager manager, List<NDArray> inputs, List<NDArray> logits) {
        try {
            Files.createDirectories(dump);
            Npy.write(dump.resolve("input.npy"), ai.djl.ndarray.NDArrays.concat(new NDList(inputs)));
            Npy.write(dump.resolve("logits.npy"), ai.djl.ndarray.NDArrays.concat(new NDList(logits)));
        } catch (IOException e) {
            throw new VitscopeException("Cannot write to " + dump + " (" + e.getMessage()
                    + "): choose a folder you can write to", e);
        }
    }
}
