package io.vitscope.cli;

import ai.djl.ndarray.NDManager;
import io.vitscope.predict.Classifier;
import io.vitscope.intervention.DirectLogitAttribution;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.Plots;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vitscope dla}: direct logit attribution of the target logit to heads, MLPs, biases and embeddings. */
@Command(name = "dla", mixinStandardHelpOptions = true,
        description = {"Direct logit attribution: split logit_c into the contributions of the embeddings, every head, "
                + "every proj bias and every MLP through the final norm frozen at the last residual; write "
                + "dla_heads.npy [L, H], dla_mlp.npy [L], dla.json (every other term, the sum, the residual), "
                + "effects.json and dla.png.",
            "The components must add up to the logit: checked on every run, the residual printed."})
public final class DlaCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "An image file or a preprocessed .npy.")
    Path image;

    @Mixin
    OutputOptions output;

    @Option(names = "--target", paramLabel = "C", description = "The class attributed (default: the top-1).")
    Integer target;

    @Override
    public Integer call() {
        output.check();
        PrintWriter stdout = spec.commandLine().getOut();
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager()) {
            VitConfig cfg = loaded.config();
            int c = Interventions.target(target, loaded);
            DirectLogitAttribution.Result r = DirectLogitAttribution.run(loaded,
                    Interventions.tensor(manager, new Classifier(loaded), image), c);
            Path out = output.write(dir -> {
                r.save(dir);
                Plots.save(r.plot(), dir.resolve("dla.png"), Plots.Format.PNG, output.width,
                        OutputOptions.heatmapHeight(cfg.depth()));
            });
            double heads = 0;
            for (double[] row : r.heads()) {
                for (double v : row) {
                    heads += v;
                }
            }
            double mlp = 0;
            for (double v : r.mlp()) {
                mlp += v;
            }
            double bias = 0;
            for (double v : r.projBias()) {
                bias += v;
            }
            stdout.printf(Locale.ROOT, "target %s (%d): logit %.6f, sigma_final %.6f%n", r.targetLabel(), r.target(),
                    r.logit(), r.sigmaFinal());
            stdout.printf(Locale.ROOT, "  embeddings          %+.6f%n  heads (sum)         %+.6f%n"
                    + "  proj biases (sum)   %+.6f%n  MLPs (sum)          %+.6f%n  beta.W_head + b     %+.6f%n"
                    + "  sum                 %+.6f%n", r.embed(), heads, bias, mlp, r.constant(), r.sum());
            stdout.printf(Locale.ROOT, "adds up: residual %.3g (%.3g of |logit|; float32 rounding bound %.3g)%n",
                    r.residual(), r.relativeResidual(), r.bound());
            stdout.println("wrote " + out.resolve("dla_heads.npy") + ", dla_mlp.npy, dla.json, effects.json, dla.png");
        }
        stdout.flush();
        return Main.OK;
    }
}
