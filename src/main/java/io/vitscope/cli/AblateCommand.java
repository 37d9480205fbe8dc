package io.vitscope.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.vitscope.predict.Classifier;
import io.vitscope.intervention.HeadAblation;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.plot.Plots;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vitscope ablate}: the logit change of every (block, head) ablation. */
@Command(name = "ablate", mixinStandardHelpOptions = true,
        description = {"Ablate every attention head in turn: z[:, h] (attn @ v of head h) of block l set to zeros or to "
                + "its mean over the tokens; write ablation.npy [L, H] = logit_c(ablated) - logit_c(clean), "
                + "effects.json and ablation.png.",
            "c is the clean run's top-1 unless --target. The L*H ablations run in batches of --batch."})
public final class AblateCommand implements Callable<Integer> {

    enum Mode { zero, mean }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "An image file or a preprocessed .npy [C,H,W] / [1,C,H,W].")
    Path image;

    @Mixin
    OutputOptions output;

    @Option(names = "--mode", defaultValue = "zero", description = "zero or mean (default ${DEFAULT-VALUE}).")
    Mode mode;

    @Option(names = "--target", paramLabel = "C", description = "The class whose logit is compared (default: the top-1).")
    Integer target;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Ablations per forward (default ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() {
        output.check();
        Interventions.requireBatch(batch);
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager()) {
            int c = Interventions.target(target, loaded);
            Classifier classifier = new Classifier(loaded);
            NDArray x = Interventions.tensor(manager, classifier, image);                // (1, C, H, W)
            int cells = loaded.config().depth() * loaded.config().numHeads();
            HeadAblation.Result r;
            try (TerminalBar bar = TerminalBar.onTerminal(err, "ablate", cells, "ablations")) {
                r = HeadAblation.run(loaded, x, mode == Mode.mean ? HeadAblation.Mode.MEAN : HeadAblation.Mode.ZERO, c,
                        batch, bar::stepTo);
            }
            Path out = output.write(dir -> {
                r.save(dir);
                Plots.save(r.plot(), dir.resolve("ablation.png"), Plots.Format.PNG, output.width,
                        OutputOptions.heatmapHeight(r.blocks()));
            });
            stdout.printf(Locale.ROOT, "target %s (%d), clean logit %.4f; %d ablations (%s)%n", r.targetLabel(),
                    r.target(), r.cleanLogit(), cells, mode);
            stdout.println("largest changes:");
            List<int[]> order = new ArrayList<>();
            for (int l = 0; l < r.blocks(); l++) {
                for (int h = 0; h < r.heads(); h++) {
                    order.add(new int[] {l, h});
                }
            }
            order.sort(Comparator.comparingDouble((int[] a) -> -Math.abs(r.delta()[a[0]][a[1]])));
            for (int[] a : order.subList(0, Math.min(5, order.size()))) {
                stdout.printf(Locale.ROOT, "  blocks.%d head %d\t%+.4f%n", a[0], a[1], r.delta()[a[0]][a[1]]);
            }
            stdout.println("wrote " + out.resolve("ablation.npy") + ", effects.json, ablation.png");
        }
        stdout.flush();
        return Main.OK;
    }
}
