package io.vitscope.cli;

import ai.djl.ndarray.NDManager;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.probe.CallCapture;
import io.vitscope.probe.CallRecord;
import io.vitscope.probe.Probe;
import io.vitscope.files.Outputs;
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

/** {@code vitscope capture}: NoPdb's {@code capture_call} from the command line, saved to {@code .npz}. */
@Command(name = "capture", mixinStandardHelpOptions = true,
        description = {"Run the model on IMAGE and save the locals, arguments and return value of one module's call "
                + "(or of every call a pattern matches) to an .npz file numpy reads.",
                "Keys: each local by name (integers as 0-d arrays), arguments as arg_<name>, the return value as return; "
                        + "with a pattern, <path>/<name> for each matched call."})
public final class CaptureCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Parameters(index = "0", paramLabel = "IMAGE",
            description = "An image file or a preprocessed .npy tensor [C,H,W] / [N,C,H,W].")
    Path image;

    @Option(names = "--call", required = true, paramLabel = "PATH",
            description = "The module: a path such as blocks.4.attn, or a pattern such as blocks.*.attn or blocks.[0-5].attn.")
    String call;

    @Option(names = "--out", required = true, paramLabel = "FILE.npz", description = "Where to write the capture.")
    Path out;

    @Mixin
    LogitScaleOption scale;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        Outputs.checkFile(out, "out");
        boolean pattern = Probe.isPattern(call);
        try (LoadedModel loaded = modelOptions.load(); NDManager manager = NDManager.newBaseManager();
             Probe probe = Probe.on(loaded.model())) {
            CallCapture capture = pattern ? probe.captureCalls(call) : probe.captureCall(call);
            scale.install(probe);
            Classifier classifier = new Classifier(loaded);
            List<Input> inputs = classifier.read(image);
            classifier.logits(classifier.batch(manager, inputs)).close();
            if (pattern) {
                capture.save(out);
            } else {
                capture.get().save(out);
            }
            for (CallRecord r : capture.all()) {
                o.println((r.path().isEmpty() ? "(root)" : r.path()) + " (" + r.moduleClass().getSimpleName() + "): "
                        + r.describeLocals());
            }
            o.println("wrote " + out);
        }
        return Main.OK;
    }
}
