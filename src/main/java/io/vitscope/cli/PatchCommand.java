package io.vitscope.cli;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.intervention.ActivationPatching;
import io.vitscope.intervention.ActivationPatching.Act;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import io.vitscope.plot.AttentionPlots;
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

/** {@code vitscope patch}: activation patching of CLEAN into CORRUPT over blocks × positions (or heads). */
@Command(name = "patch", mixinStandardHelpOptions = true,
        description = {"Run CORRUPT with one block's activation at one token position (for z: one head at all "
                + "positions) replaced by CLEAN's, for every cell of the grid; write patching.npy "
                + "[blocks, positions] ([blocks, heads] for z) of (LD_patched - LD_corrupt) / (LD_clean - LD_corrupt), "
                + "LD = logit[c_clean] - logit[c_corrupt], with patching.json, effects.json and patching.png.",
            "c_clean and c_corrupt are the two unpatched runs' top-1 classes unless --classes."})
public final class PatchCommand implements Callable<Integer> {

    enum ActName { resid_pre, attn_out, mlp_out, z }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "CLEAN", description = "The image whose activations are patched in.")
    Path clean;

    @Parameters(index = "1", paramLabel = "CORRUPT", description = "The image that is run and patched.")
    Path corrupt;

    @Mixin
    OutputOptions output;

    @Option(names = "--act", defaultValue = "resid_pre",
            description = "resid_pre, attn_out, mlp_out or z (default ${DEFAULT-VALUE}).")
    ActName act;

    @Option(names = "--blocks", paramLabel = "LIST", description = "Blocks, the rows, e.g. 0,4,11 or 0-5 (default all).")
    String blocks;

    @Option(names = "--positions", paramLabel = "LIST",
            description = "Token positions, the columns (0 = class token; default all). Not with --act z.")
    String positions;

    @Option(names = "--classes", paramLabel = "A,B", description = "c_clean,c_corrupt (default: the top-1 classes).")
    String classes;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
            description = "Patched forwards per batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() {
        output.check();
        Interventions.requireBatch(batch);
        if (clean.toAbsolutePath().normalize().equals(corrupt.toAbsolutePath().normalize())) {
            throw new InvalidArgumentException("CLEAN and CORRUPT are the same file (" + clean + "): give two "
                    + "different images");
        }
        if (act == ActName.z && positions != null) {
            throw new InvalidArgumentException("--positions does not apply to --act z: it patches one head at all "
                    + "positions (the columns are the heads)");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager()) {
            VitConfig cfg = loaded.config();
            int[] rows = Interventions.indices(blocks, cfg.depth(), "--blocks", "block");
            int[] cols = Interventions.indices(positions, cfg.numTokens(), "--positions", "position");
            int[] cls = null;
            if (classes != null) {
                String[] parts = classes.split(",");
                if (parts.length != 2) {
                    throw new InvalidArgumentException("--classes must be two class indices A,B, got '" + classes + "'");
                }
                cls = new int[2];
                for (int i = 0; i < 2; i++) {
                    try {
                        cls[i] = Interventions.requireClass(Integer.parseInt(parts[i].trim()), loaded, "--classes");
                    } catch (NumberFormatException e) {
                        throw new InvalidArgumentException("--classes must be two class indices A,B, got '" + classes
                                + "'");
                    }
                }
            }
            Classifier classifier = new Classifier(loaded);
            Input ci = Interventions.firstImage(classifier, clean);
            Input ri = Interventions.firstImage(classifier, corrupt);
            Shape shape = new Shape(1, cfg.inChans(), cfg.imgHeight(), cfg.imgWidth());
            NDArray xc = manager.create(ci.tensor(), shape);
            NDArray xr = manager.create(ri.tensor(), shape);
            Act a = Act.of(act.name());
            int cells = (rows == null ? cfg.depth() : rows.length)
                    * (a == Act.Z ? cfg.numHeads() : cols == null ? cfg.numTokens() : cols.length);
            ActivationPatching.Result r;
            try (TerminalBar bar = TerminalBar.onTerminal(err, "patch", cells, "patches")) {
                r = ActivationPatching.run(loaded, xc, xr, a, rows, cols, cls, batch, bar::stepTo);
            } catch (ActivationPatching.SameTopClassException e) {
                throw new ActivationPatching.SameTopClassException(e.top1(), loaded.labels().get(e.top1()),
                        "--classes A,B");
            }
            Path out = output.write(dir -> {
                r.save(dir);
                Path png = dir.resolve("patching.png");
                if (a == Act.Z) {
                    Plots.save(r.plot(), png, Plots.Format.PNG, output.width,
                            OutputOptions.heatmapHeight(r.blocks().length));
                } else {
                    Plots.save(r.plot(AttentionPlots.forDisplay(classifier.transform().denormalize(ri.tensor())),
                            cfg.gridHeight(), cfg.gridWidth()), png, Plots.Format.PNG, output.width, 0);
                }
            });
            stdout.printf(Locale.ROOT, "c_clean %s (%d), c_corrupt %s (%d): LD_clean %.4f, LD_corrupt %.4f; %d cells "
                    + "of %s%n", r.cleanLabel(), r.cClean(), r.corruptLabel(), r.cCorrupt(), r.ldClean(), r.ldCorrupt(),
                    cells, a.id());
            float best = Float.NEGATIVE_INFINITY;
            int bi = 0;
            int bj = 0;
            for (int i = 0; i < r.metric().length; i++) {
                for (int j = 0; j < r.metric()[i].length; j++) {
                    if (r.metric()[i][j] > best) {
                        best = r.metric()[i][j];
                        bi = i;
                        bj = j;
                    }
                }
            }
            stdout.printf(Locale.ROOT, "largest: blocks.%d %s %d\t%.4f%n", r.blocks()[bi],
                    a == Act.Z ? "head" : "position", r.columns()[bj], best);
            stdout.println("wrote " + out.resolve("patching.npy") + ", patching.json, effects.json, patching.png");
        }
        stdout.flush();
        return Main.OK;
    }
}
