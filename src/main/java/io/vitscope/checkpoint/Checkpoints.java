package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.Npz;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.TensorInfo;
import io.vitscope.weights.TensorSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipFile;

/**
 * Every checkpoint file vitscope reads, told apart by content (never by extension): safetensors, PyTorch
 * {@code torch.save} files (zip and legacy) and numpy {@code .npz} archives; and every parameter layout, told apart by
 * tensor names: timm, Hugging Face, torchvision, Google/Flax. {@link #open} reads a file's tensors (lazily);
 * {@link #toTimm} renames and reshapes them to timm's layout for the model's strict loading.
 */
public final class Checkpoints {

    /** A file format. */
    public enum Format {
        SAFETENSORS("safetensors"), PYTORCH_ZIP("PyTorch zip (torch.save, PyTorch >= 1.6)"),
        PYTORCH_LEGACY("PyTorch legacy (torch.save, _use_new_zipfile_serialization=False)"), NPZ("numpy .npz");

        private final String description;

        Format(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** A parameter naming scheme. */
    public enum Layout {
        TIMM("timm"), HF_VIT("Hugging Face transformers ViT"), TORCHVISION("torchvision VisionTransformer"),
        FLAX("Google JAX/Flax (timm _load_weights)");

        private final String description;

        Layout(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /**
     * A checkpoint file opened for reading: its format, its tensors under the file's own names, and their stored
     * element types. Close it once the tensors are loaded.
     *
     * @param dtypes each tensor's stored type, numpy's name ({@code float32}, {@code bfloat16}, …)
     * @param notes what the reader did beyond reading ("state dict under 'state_dict_ema'", "'module.' removed")
     */
    public record Opened(Path file, Format format, Map<String, TensorSource> tensors, Map<String, String> dtypes,
                         java.util.List<String> notes, AutoCloseable resource) implements AutoCloseable {
        @Override
        public void close() {
            try {
                resource.close();
            } catch (Exception e) {
                // read-only
            }
        }
    }

    private Checkpoints() {}

    /** Up to {@code n} first bytes of a file; an {@link InvalidInputException} when it cannot be read. */
    static byte[] head(Path file, int n) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read: " + e.getMessage());
        }
    }

    /** The file's format, from its first bytes (and a zip's entry names). */
    public static Format detect(Path file) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file, "is a folder, not a checkpoint file");
        }
        byte[] h = head(file, 16);
        if (h.length >= 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
            try (ZipFile zip = new ZipFile(file.toFile())) {
                boolean torch = Collections.list(zip.entries()).stream().anyMatch(e -> e.getName().endsWith("/data.pkl"));
                return torch ? Format.PYTORCH_ZIP : Format.NPZ;
            } catch (IOException | RuntimeException e) {
                throw new InvalidInputException(file, "is a damaged zip archive (neither a readable .npz nor a "
                        + "PyTorch checkpoint): " + e.getMessage());
            }
        }
        if (h.length >= 2 && (h[0] & 0xFF) == 0x80 && h[1] >= 2 && h[1] <= 5) {
            return Format.PYTORCH_LEGACY;
        }
        if (h.length >= 9 && h[8] == '{' || file.getFileName().toString().endsWith(".safetensors")) {
            return Format.SAFETENSORS; // a damaged one is reported by the safetensors reader, which knows why
        }
        throw new InvalidInputException(file, "is not a checkpoint vitscope reads: expected safetensors, a PyTorch "
                + "torch.save file (.pth/.pt/.bin) or a numpy .npz archive" + (h.length == 0 ? " (the file is empty)" : ""));
    }

    /** Opens a checkpoint of any supported format; tensors are read when asked for. */
    public static Opened open(Path file) {
        Format format = detect(file);
        switch (format) {
            case SAFETENSORS -> {
                Safetensors st = Safetensors.open(file);
                Map<String, String> dtypes = new LinkedHashMap<>();
                for (TensorInfo t : st.tensors()) {
                    dtypes.put(t.name(), t.dtype().numpyName());
                }
                return new Opened(file, format, st.sources(), dtypes, java.util.List.of(), st);
            }
            case NPZ -> {
                Map<String, NpyArray> arrays = Npz.read(file);
                Map<String, TensorSource> tensors = new LinkedHashMap<>();
                Map<String, String> dtypes = new LinkedHashMap<>();
                for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                    NpyArray a = e.getValue();
                    tensors.put(e.getKey(), TensorSource.derived(e.getKey(), a.shape(), file,
                            e.getKey() + " " + a.dtypeName(), dst -> writeFloats(a.floats(), dst)));
                    dtypes.put(e.getKey(), a.dtypeName());
                }
                return new Opened(file, format, Collections.unmodifiableMap(tensors), dtypes, java.util.List.of(),
                        () -> { });
            }
            default -> {
                TorchCheckpoint ck = TorchCheckpoint.open(file);
                Map<String, String> dtypes = new LinkedHashMap<>();
                ck.tensors().forEach((k, v) -> dtypes.put(k, v.dtype().numpyName()));
                java.util.List<String> notes = new java.util.ArrayList<>();
                ck.wrapper().ifPresent(w -> notes.add("state dict under '" + w + "'" + (ck.otherKeys().isEmpty() ? ""
                        : " (other keys: " + String.join(", ", ck.otherKeys()) + ")")));
                if (ck.strippedModulePrefix()) {
                    notes.add("'module.' prefix removed from every name");
                }
                return new Opened(file, ck.format() == TorchCheckpoint.Format.ZIP ? Format.PYTORCH_ZIP
                        : Format.PYTORCH_LEGACY, ck.sources(), dtypes, notes, ck);
            }
        }
    }

    private static void writeFloats(float[] values, ByteBuffer dst) {
        ByteBuffer le = dst.order() == ByteOrder.LITTLE_ENDIAN ? dst : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            le.putFloat(v);
        }
        if (le != dst) {
            dst.position(le.position());
        }
    }

    /** The layout of a checkpoint's tensor names; an {@link InvalidInputException} naming a few when none fits. */
    public static Layout layout(Path file, java.util.Collection<String> names) {
        if (FlaxVitLayout.matches(names)) {
            return Layout.FLAX;
        }
        if (TorchvisionVitLayout.matches(names)) {
            return Layout.TORCHVISION;
        }
        return switch (CheckpointLayout.detect(file, names)) {
            case TIMM -> Layout.TIMM;
            case HF_VIT -> Layout.HF_VIT;
        };
    }

    /**
     * The tensors under timm's names and layouts.
     *
     * @param gridHeight the model's patch grid, for Flax checkpoints whose position embedding must be resampled
     *     (0 to keep it)
     */
    public static Map<String, TensorSource> toTimm(Path file, Map<String, ? extends TensorSource> tensors,
                                                   int gridHeight, int gridWidth) {
        return switch (layout(file, tensors.keySet())) {
            case FLAX -> FlaxVitLayout.toTimm(file, tensors, gridHeight, gridWidth);
            case TORCHVISION -> TorchvisionVitLayout.toTimm(file, tensors);
            case TIMM, HF_VIT -> CheckpointLayout.toTimm(file, tensors);
        };
    }
}
