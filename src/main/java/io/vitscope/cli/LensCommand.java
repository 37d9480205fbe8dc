package io.vitscope.cli;

import ai.djl.ndarray.NDManager;
import io.vitscope.predict.Classifier;
import io.vitscope.intervention.LogitLens;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.plot.LensPlots;
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

/** {@code vitscope lens}: the logit lens at the class token (and optionally at every patch). */
@Command(name = "lens", mixinStandardHelpOptions = true,
        description = {"The logit lens: the model's final norm and head applied to the residual stream before every "
                + "block and after the last; write logit_lens.npy [L+1, K] (row L = the logits), effects.json, "
                + "logit_lens_table.png and logit_lens_target.png.",
            "--patches adds logit_lens_patches.npy [L+1, T-1, K]. --norm final-scale divides by the last residual's "
                + "standard deviation instead of recomputing it (ViT-Prisma's lens)."})
public final class LensCommand implements Callable<Integer> {

    enum NormName { recompute, final_scale }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "An image file or a preprocessed .npy.")
    Path image;

    @Mixin
    OutputOptions output;

    @Option(names = "--target", paramLabel = "C", description = "The class to follow (default: the top-1).")
    Integer target;

    @Option(names = "--patches", description = "Also the lens at every patch token.")
    boolean patches;

    @Option(names = "--norm", defaultValue = "recompute",
            description = "recompute or final_scale (default ${DEFAULT-VALUE}).")
    NormName norm;

    @Override
    public Integer call() {
        output.check();
        PrintWriter stdout = spec.commandLine().getOut();
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager()) {
            int c = Interventions.target(target, loaded);
            LogitLens.Result r = LogitLens.run(loaded, Interventions.tensor(manager, new Classifier(loaded), image), c,
                    patches,
                    norm == NormName.recompute ? LogitLens.Norm.RECOMPUTE : LogitLens.Norm.FINAL_SCALE);
            Path out = output.write(dir -> {
                r.save(dir);
                Plots.save(r.table(), dir.resolve("logit_lens_table.png"), Plots.Format.PNG, output.width, 0);
                Plots.save(r.chart(), dir.resolve("logit_lens_target.png"), Plots.Format.PNG, output.width,
                        output.width * 9 / 16);
            });
            float[][] p = r.probabilities();
            stdout.printf(Locale.ROOT, "%-28s %-20s %9s %9s%n", "residual stream", "top-1", "P(top-1)",
                    "P(target)");
            for (int i = 0; i < p.length; i++) {
                int top = 0;
                for (int k = 1; k < p[i].length; k++) {
                    if (p[i][k] > p[i][top]) {
                        top = k;
                    }
                }
                stdout.printf(Locale.ROOT, "%-28s %-20s %9.4f %9.4f%n", LensPlots.rowName(i, p.length),
                        r.labels().get(top), p[i][top], p[i][r.target()]);
            }
            stdout.println("target " + r.labels().get(r.target()) + " (" + r.target() + "); wrote "
                    + out.resolve("logit_lens.npy") + (patches ? ", logit_lens_patches.npy" : "")
                    + ", effects.json, logit_lens_table.png, logit_lens_target.png");
        }
        stdout.flush();
        return Main.OK;
    }
}
