package io.vitscope.train;

import io.vitscope.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One split of Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando Research, MIT licence): 28×28 grayscale
 * images of clothing with labels 0–9. Debian's {@code dataset-fashion-mnist} installs the four IDX files in
 * {@link #DEFAULT_DIR}.
 */
public record FashionMnist(Idx.Images images, byte[] labels) {

    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final int SIZE = 28;

    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public Path imagesFile(Path dir) {
            return find(dir, prefix + "-images-idx3-ubyte");
        }

        public Path labelsFile(Path dir) {
            return find(dir, prefix + "-labels-idx1-ubyte");
        }

        /** The gzipped file if present, else the uncompressed one, else the gzipped name (for the error message). */
        private static Path find(Path dir, String name) {
            Path gz = dir.resolve(name + ".gz");
            Path plain = dir.resolve(name);
            return Files.exists(gz) || !Files.exists(plain) ? gz : plain;
        }
    }

    public FashionMnist {
        if (images.count() != labels.length) {
            throw new IllegalArgumentException(images.count() + " images but " + labels.length + " labels");
        }
    }

    /** Whether all four files are in {@code dir}. */
    public static boolean isInstalled(Path dir) {
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(s.imagesFile(dir)) || !Files.isRegularFile(s.labelsFile(dir))) {
                return false;
            }
        }
        return true;
    }

    /** Reads a split from {@code dir}, checking that images and labels agree. */
    public static FashionMnist load(Path dir, Split split) {
        Path imagesFile = split.imagesFile(dir);
        Path labelsFile = split.labelsFile(dir);
        Idx.Images images = Idx.readImages(imagesFile);
        byte[] labels = Idx.readLabels(labelsFile);
        if (images.rows() != SIZE || images.cols() != SIZE) {
            throw new InvalidInputException(imagesFile, "holds " + images.rows() + "x" + images.cols()
                    + " images; Fashion-MNIST's are 28x28");
        }
        if (images.count() != labels.length) {
            throw new InvalidInputException(labelsFile, "holds " + labels.length + " labels but " + imagesFile
                    .getFileName() + " holds " + images.count() + " images: the two files do not belong together");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= LABELS.size()) {
                throw new InvalidInputException(labelsFile, "label " + i + " is " + labels[i]
                        + "; Fashion-MNIST's labels are 0–9");
            }
        }
        return new FashionMnist(images, labels);
    }

    public int size() {
        return labels.length;
    }

    public int label(int i) {
        return labels[i];
    }

    /** The first {@code n} examples (all if {@code n} is larger or not positive). */
    public FashionMnist head(int n) {
        if (n <= 0 || n >= size()) {
            return this;
        }
        return new FashionMnist(images.head(n), java.util.Arrays.copyOf(labels, n));
    }

    /** A file-name-friendly class name: {@code ankle_boot}, {@code t_shirt_top}. */
    public static String slug(int label) {
        return LABELS.get(label).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    }
}
