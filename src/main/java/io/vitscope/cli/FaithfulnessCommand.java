package io.vitscope.cli;

import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.files.Outputs;
import io.vitscope.image.Image8;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.predict.Inputs;
import io.vitscope.relevance.Faithfulness;
import io.vitscope.relevance.FaithfulnessResult;
import io.vitscope.relevance.Method;
import io.vitscope.train.Idx;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vitscope faithfulness}: Chefer et al.'s perturbation test of relevance methods over many images; see
 * {@link Faithfulness} for the definition and docs/relevance.md for results.
 */
@Command(name = "faithfulness", mixinStandardHelpOptions = true,
        description = {"Score relevance methods by Chefer et al.'s perturbation test: remove the top (positive) or "
                + "bottom (negative) p = 0..90 %% of pixels by each method's map of the top-1 class (set to 0 before "
                + "normalisation) and count the images whose top-1 stays. Writes faithfulness.csv, faithfulness.json "
                + "(AUCs) and faithfulness.png into --out and prints the AUC table: lower positive and higher "
                + "negative AUC are better.",
            "Images: files, folders (their images, sorted) or .npy tensors [N,C,H,W] already preprocessed; or --idx, "
                + "an IDX image file such as Fashion-MNIST's t10k-images-idx3-ubyte.gz."})
public final class FaithfulnessCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "Images, folders or .npy tensors.")
    List<Path> images = new ArrayList<>();

    @Option(names = "--idx", paramLabel = "FILE",
            description = "An IDX image file (gzipped or not), e.g. /usr/share/datasets/fashion-mnist/"
                    + "t10k-images-idx3-ubyte.gz, instead of IMAGE arguments.")
    Path idx;

    @Option(names = "--limit", paramLabel = "N", description = "Use the first N images only (default: all).")
    int limit;

    @Option(names = "--methods", paramLabel = "LIST", split = ",",
            defaultValue = "chefer,grad-rollout,attn-gradcam,rollout,mean,random",
            description = "Comma-separated, from: chefer, grad-rollout, attn-gradcam, integrated-gradients (slow), "
                    + "rollout, mean, cls, random (default ${DEFAULT-VALUE}).")
    List<String> methods;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder for the CSV, JSON and chart.")
    Path out;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the random baseline's maps (default ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        List<Method> chosen = new ArrayList<>();
        for (String m : methods) {
            try {
                chosen.add(Method.parse(m));
            } catch (IllegalArgumentException e) {
                throw new BadValue(spec, "--methods: " + e.getMessage());
            }
        }
        Faithfulness.Options options;
        try {
            options = new Faithfulness.Options(chosen, seed);
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, "--" + e.getMessage());
        }
        if (limit < 0) {
            throw new BadValue(spec, "--limit must be 0 (all) or more, got " + limit);
        }
        if ((idx == null) == images.isEmpty()) {
            throw new BadValue(spec, idx == null ? "name the images (files, folders or .npy) or pass --idx FILE"
                    : "pass either IMAGE arguments or --idx, not both");
        }
        Outputs.checkFolder(out, "out");
        threads.start();
        try (LoadedModel loaded = modelOptions.load()) {
            Classifier classifier = new Classifier(loaded);
            List<Supplier<float[]>> sources = idx != null ? fromIdx(classifier) : fromFiles(classifier);
            int n = limit > 0 ? Math.min(limit, sources.size()) : sources.size();
            long t0 = System.nanoTime();
            FaithfulnessResult r;
            try (TerminalBar bar = TerminalBar.onTerminal(stderr, "faithfulness", n, "images")) {
                r = Faithfulness.run(loaded, n, i -> sources.get(i).get(), options, bar::stepTo);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            r.save(out);
            stdout.printf(Locale.ROOT, "%s, %,d images, top-1 of each image explained (%.1f s)%n", loaded.name(), n,
                    seconds);
            stdout.print(r.table());
            stdout.println("Wrote " + out.resolve(FaithfulnessResult.CSV) + ", " + FaithfulnessResult.JSON + ", "
                    + FaithfulnessResult.CHART);
        }
        stdout.flush();
        return Main.OK;
    }

    private List<Supplier<float[]>> fromIdx(Classifier classifier) {
        Idx.Images all = Idx.readImages(idx);
        List<Supplier<float[]>> out = new ArrayList<>(all.count());
        int per = all.pixelsPerImage();
        for (int i = 0; i < all.count(); i++) {
            int at = i;
            out.add(() -> {
                byte[] px = java.util.Arrays.copyOfRange(all.pixels(), at * per, (at + 1) * per);
                return classifier.transform().apply(new Image8(all.cols(), all.rows(), 1, px));
            });
        }
        return out;
    }

    /** Tensors are read now (they are already preprocessed); image files one at a time, when their turn comes. */
    private List<Supplier<float[]>> fromFiles(Classifier classifier) {
        List<Supplier<float[]>> out = new ArrayList<>();
        for (Path p : Inputs.expand(images)) {
            if (p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
                for (Input in : classifier.read(p)) {
                    out.add(in::tensor);
                }
            } else {
                out.add(() -> classifier.read(p).get(0).tensor());
            }
        }
        return out;
    }
}
