package io.vitscope.predict;

import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.image.EvalTransform;
import io.vitscope.image.ImageReader;
import io.vitscope.image.DataConfig;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** Turns what a user points at — image files, {@code .npy} tensors, folders of them — into model inputs. */
public final class Inputs {

    /** File endings read from a folder; a file named explicitly is decoded by content whatever its name. */
    public static final Set<String> IMAGE_ENDINGS = Set.of("jpg", "jpeg", "png", "gif", "bmp", "npy");

    private Inputs() {}

    /** The files behind the arguments: files as given, folders expanded (sorted, non-recursive) to their images. */
    public static List<Path> expand(List<Path> args) {
        List<Path> out = new ArrayList<>();
        for (Path p : args) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    List<Path> files = s.filter(Files::isRegularFile).filter(Inputs::hasImageEnding).sorted().toList();
                    if (files.isEmpty()) {
                        throw new InvalidInputException(p, "the folder holds no images (" + String.join(", ",
                                IMAGE_ENDINGS.stream().sorted().toList()) + ")");
                    }
                    out.addAll(files);
                } catch (IOException e) {
                    throw new InvalidInputException(p, "cannot list the folder (" + e.getMessage() + ")");
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * The {@code index}-th of the inputs read from {@code file}.
     *
     * @throws InvalidArgumentException when there is no such input, saying how many there are
     */
    public static Input pick(List<Input> inputs, int index, Path file) {
        if (index < 0 || index >= inputs.size()) {
            throw new InvalidArgumentException("index", "index " + index + " is out of range: " + file + " holds "
                    + inputs.size() + (inputs.size() == 1 ? " image, use 0" : " images, use 0.." + (inputs.size() - 1)));
        }
        return inputs.get(index);
    }

    private static boolean hasImageEnding(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot > 0 && IMAGE_ENDINGS.contains(n.substring(dot + 1));
    }

    /**
     * The inputs in one file: an image preprocessed by {@code transform}, or a {@code .npy} float tensor
     * {@code [C, H, W]} / {@code [N, C, H, W]} taken as is (it must match the model's input size).
     */
    public static List<Input> read(Path file, EvalTransform transform, ImageReader reader) {
        if (!Files.exists(file)) {
            throw InvalidInputException.missing(file, "no such file");
        }
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
            return readTensor(file, transform.config());
        }
        try {
            return List.of(new Input(file.toString(), transform.apply(reader.read(file))));
        } catch (InvalidInputException e) {
            if (e.file() != null) {
                throw e;
            }
            throw new InvalidInputException(file, e.problem(), e);   // the transform does not know the file's name
        }
    }

    private static List<Input> readTensor(Path file, DataConfig cfg) {
        NpyArray a = Npy.read(file);
        long[] s = a.shape();
        long[] want = {cfg.inChans(), cfg.height(), cfg.width()};
        boolean single = s.length == 3 && Arrays.equals(s, want);
        boolean batch = s.length == 4 && s[0] >= 1 && Arrays.equals(Arrays.copyOfRange(s, 1, 4), want);
        if (!single && !batch) {
            throw new InvalidInputException(file, "holds a tensor of shape " + Arrays.toString(s) + " but the model takes "
                    + Arrays.toString(want) + " or [N, " + want[0] + ", " + want[1] + ", " + want[2]
                    + "] (already preprocessed: resized, cropped and normalised)");
        }
        if (a.dtype().name().startsWith("I") || a.dtype().name().startsWith("U") || a.dtype().name().equals("BOOL")) {
            throw new InvalidInputException(file, "holds " + a.dtypeName() + " values; a preprocessed image is float32");
        }
        float[] all = a.floats();
        for (float v : all) {
            if (!Float.isFinite(v)) {
                throw new InvalidInputException(file, "holds NaN or infinite values");
            }
        }
        int per = (int) (want[0] * want[1] * want[2]);
        int n = all.length / per;
        List<Input> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Input(single ? file.toString() : file + "[" + i + "]", Arrays.copyOfRange(all, i * per, (i + 1) * per)));
        }
        return out;
    }
}
