package io.vitscope.checkpoint;

import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.vitscope.InvalidInputException;
import io.vitscope.model.Presets;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.TensorSource;
import io.vitscope.files.Outputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a checkpoint file holds and whether vitscope can load it, without loading it: its format, its parameter
 * layout, every tensor (name, stored type, shape), the architecture (from a preset name, a timm {@code config.json}
 * beside the file, or inferred from the shapes) and the strict-loading report against that architecture.
 * {@code vitscope inspect FILE} prints it.
 *
 * @param layout empty when the names fit no layout vitscope knows ({@link #problem} says why)
 * @param architecture the architecture checked against, and where it came from
 * @param report the strict-loading report, when there is an architecture and a layout
 * @param problem why the checkpoint cannot be loaded beyond the report (an unknown layout, a broken tensor group)
 */
public record Inspection(Path file, Checkpoints.Format format, Optional<Checkpoints.Layout> layout, List<Tensor> tensors,
                         List<String> notes, Optional<Architecture> architecture, Optional<StrictReport> report,
                         Optional<String> problem) {

    /** One tensor as stored: its name in the file, its element type (numpy's name) and its shape. */
    public record Tensor(String name, String dtype, long[] shape) {
        @Override
        public String toString() {
            return name + " " + dtype + " " + Shapes.format(shape);
        }
    }

    /** The architecture a checkpoint is checked against and where it came from. */
    public record Architecture(String name, VitConfig config, String source) {}

    /** Inspects a file (a folder: its {@code model.safetensors} or {@code pytorch_model.bin}), inferring the architecture. */
    public static Inspection of(Path file) {
        return of(file, null);
    }

    /**
     * @param arch a preset to check against, or null for the file's {@code config.json} or the shapes
     * @throws io.vitscope.InvalidArgumentException when {@code arch} names no preset (checked before the file is read)
     * @throws InvalidInputException when the file is missing, unreadable or no checkpoint at all (CLI exit 3)
     */
    public static Inspection of(Path file, String arch) {
        if (arch != null) {
            Presets.get(arch); // a wrong name is a usage error, whatever the file
        }
        Path weights = weightsFile(file);
        try (Checkpoints.Opened ck = Checkpoints.open(weights)) {
            List<Tensor> tensors = new ArrayList<>();
            for (Map.Entry<String, TensorSource> e : ck.tensors().entrySet()) {
                tensors.add(new Tensor(e.getKey(), ck.dtypes().getOrDefault(e.getKey(), "float32"), e.getValue().shape()));
            }
            Optional<Checkpoints.Layout> layout = Optional.empty();
            Optional<String> problem = Optional.empty();
            Optional<Architecture> architecture = Optional.empty();
            Optional<StrictReport> report = Optional.empty();
            List<String> notes = new ArrayList<>(ck.notes());
            try {
                layout = Optional.of(Checkpoints.layout(weights, ck.tensors().keySet()));
                if (layout.get() == Checkpoints.Layout.HF_VIT) {
                    List<String> ignored = HfVitLayout.ignoredNames(ck.tensors().keySet());
                    if (!ignored.isEmpty()) {
                        notes.add("not loaded (timm's ViT has no pooler or mask token): " + String.join(", ", ignored));
                    }
                }
                Optional<Architecture> given = given(weights, arch);
                VitConfig target = given.map(Architecture::config).orElse(null);
                Map<String, TensorSource> timm = Checkpoints.toTimm(weights, ck.tensors(),
                        target == null ? 0 : target.gridHeight(), target == null ? 0 : target.gridWidth());
                TensorSource pos = timm.get("pos_embed");
                if (pos != null && pos.toString().contains(" = resample(")) {
                    notes.add("position embedding resampled to the model's grid (bilinear, as timm's "
                            + "resample_abs_pos_embed): " + pos);
                }
                architecture = given.or(() -> Architectures.infer(timm).map(a -> new Architecture(
                        a.preset().orElse("(no preset)"), a.config(),
                        a.preset().isPresent() ? "inferred from the tensor shapes: preset " + a.preset().get()
                                : "inferred from the tensor shapes" + (a.headsGuessed() ? "; heads guessed as D / 64" : ""))));
                if (architecture.isPresent()) {
                    Map<String, Shape> expected;
                    try (VisionTransformer model = new VisionTransformer(architecture.get().config())) {
                        expected = model.parameterShapes();
                    }
                    report = Optional.of(StrictReport.of(expected, timm));
                } else {
                    problem = Optional.of("the architecture cannot be read from the shapes (patch_embed.proj.weight, "
                            + "pos_embed, blocks.0.mlp.fc1.weight and head.weight are needed): pass --model ARCH");
                }
            } catch (InvalidInputException e) {
                problem = Optional.of(e.getMessage().startsWith(weights + ": ")
                        ? e.getMessage().substring(weights.toString().length() + 2) : e.getMessage());
            }
            return new Inspection(weights, ck.format(), layout, List.copyOf(tensors), List.copyOf(notes),
                    architecture, report, problem);
        }
    }

    private static Path weightsFile(Path file) {
        if (!Files.exists(file)) {
            throw InvalidInputException.missing(file, "no such file or folder");
        }
        if (Files.isDirectory(file)) {
            for (String name : List.of("model.safetensors", "pytorch_model.bin", "model.pth", "model.npz")) {
                if (Files.isRegularFile(file.resolve(name))) {
                    return file.resolve(name);
                }
            }
            throw new InvalidInputException(file, "this folder has no model.safetensors or pytorch_model.bin to inspect");
        }
        return file;
    }

    private static Optional<Architecture> given(Path weights, String arch) {
        if (arch != null) {
            Presets.Preset p = Presets.get(arch);
            return Optional.of(new Architecture(p.name(), p.config(), "preset " + p.name()));
        }
        Path config = weights.resolveSibling("config.json");
        if (Files.isRegularFile(config)) {
            try {
                HubConfig hub = HubConfig.read(config);
                return Optional.of(new Architecture(hub.architecture(), hub.config(), "timm config.json beside the file"));
            } catch (InvalidInputException e) {
                return Optional.empty(); // not a timm hub config (an HF one, or broken): infer from the shapes
            }
        }
        return Optional.empty();
    }

    /** Whether vitscope can load the checkpoint into the architecture as it is (strict). */
    public boolean loads() {
        return problem.isEmpty() && report.map(StrictReport::loads).orElse(false);
    }

    /** The report as text, one fact per line, every tensor listed. */
    public String text() {
        StringBuilder s = new StringBuilder();
        s.append("file:          ").append(file).append('\n');
        s.append("format:        ").append(format.description()).append('\n');
        s.append("layout:        ").append(layout.map(Checkpoints.Layout::description).orElse("unknown")).append('\n');
        for (String n : notes) {
            s.append("note:          ").append(n).append('\n');
        }
        Map<String, Integer> types = new LinkedHashMap<>();
        long elements = 0;
        for (Tensor t : tensors) {
            types.merge(t.dtype(), 1, Integer::sum);
            elements += Shapes.size(t.shape());
        }
        s.append("tensors:       ").append(tensors.size()).append(" (").append(types.toString().replaceAll("[{}]", "")
                .replace("=", " ")).append("), ").append(elements).append(" parameters\n");
        int width = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(4);
        for (Tensor t : tensors) {
            s.append(String.format("  %-" + width + "s  %-8s  %s%n", t.name(), t.dtype(), Shapes.format(t.shape())));
        }
        s.append("architecture:  ").append(architecture.map(a -> describe(a)).orElse("unknown")).append('\n');
        if (loads()) {
            s.append("loads:         yes (strict: every parameter present with its shape, nothing unexpected)\n");
        } else {
            s.append("loads:         no");
            report.filter(r -> !r.loads()).ifPresent(r -> s.append(" — ").append(r));
            problem.ifPresent(p -> s.append(" — ").append(p));
            s.append('\n');
        }
        return s.toString();
    }

    private static String describe(Architecture a) {
        VitConfig c = a.config();
        return a.name() + " (" + a.source() + "): " + (c.distilled() ? "distilled, " : "") + c.imgHeight() + "x"
                + c.imgWidth() + ", patch " + c.patchSize() + ", " + c.inChans() + " channels, dim " + c.embedDim()
                + ", depth " + c.depth() + ", heads " + c.numHeads() + ", mlp ratio " + c.mlpRatio() + ", "
                + c.numClasses() + " classes";
    }

    @Override
    public String toString() {
        return text();
    }

    /** Writes the inspection as JSON. */
    public void save(Path out) {
        JsonObject o = new JsonObject();
        o.addProperty("file", file.toString());
        o.addProperty("format", format.name());
        o.addProperty("layout", layout.map(Enum::name).orElse(null));
        JsonArray ts = new JsonArray();
        for (Tensor t : tensors) {
            JsonObject j = new JsonObject();
            j.addProperty("name", t.name());
            j.addProperty("dtype", t.dtype());
            JsonArray shape = new JsonArray();
            for (long d : t.shape()) {
                shape.add(d);
            }
            j.add("shape", shape);
            ts.add(j);
        }
        o.add("tensors", ts);
        architecture.ifPresent(a -> {
            o.addProperty("architecture", a.name());
            o.addProperty("architecture_source", a.source());
        });
        o.addProperty("loads", loads());
        report.ifPresent(r -> {
            o.add("missing", new GsonBuilder().create().toJsonTree(r.missing()));
            o.add("unexpected", new GsonBuilder().create().toJsonTree(r.unexpected()));
            o.add("mis_shaped", new GsonBuilder().create().toJsonTree(r.misShaped()));
        });
        problem.ifPresent(p -> o.addProperty("problem", p));
        Outputs.writeString(out, "out", new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
    }
}
