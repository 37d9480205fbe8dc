package io.vitscope.cli;

import io.vitscope.checkpoint.Inspection;
import io.vitscope.files.Outputs;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vitscope inspect FILE}: what a checkpoint holds and whether it loads, without loading it. */
@Command(name = "inspect",
        description = {"Print a checkpoint's format, parameter layout, tensors (name, dtype, shape), architecture and"
                + " whether it loads (the strict-loading report), without loading it.",
            "Reads safetensors, PyTorch .pth/.pt/.bin (zip and legacy; pickles naming any global a state dict does"
                    + " not need are refused), numpy .npz (Google/Flax ViT), in timm, Hugging Face, torchvision or Flax"
                    + " names."},
        footer = {"", "Exit status: 0 the file was read (whether or not it loads), 3 it is missing, unreadable or not"
                + " a checkpoint, 2 usage."})
public class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The checkpoint file (or a model folder).")
    Path file;

    @Option(names = {"-m", "--model"}, paramLabel = "ARCH",
            description = "Check against this preset instead of the config.json beside the file or the shapes.")
    String arch;

    @Option(names = "--json", paramLabel = "OUT", description = "Also write the inspection as JSON to OUT.")
    Path json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
        if (json != null) {
            Outputs.checkFile(json, "json");
        }
        Inspection inspection = Inspection.of(file, arch);
        PrintWriter out = spec.commandLine().getOut();
        out.print(inspection.text());
        if (json != null) {
            inspection.save(json);
        }
        out.flush();
        return Main.OK;
    }
}
