package io.vitscope.dataset;

import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the true class of a file comes from: nowhere, its parent folder (torchvision's {@code ImageFolder} tree:
 * {@code val/7/x.png} or {@code val/Sneaker/x.png}), or a table of path → class. Serializable: Spark ships it to the
 * executors with the task.
 */
public abstract class GroundTruth implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The class index of {@code path}, or null when unknown. */
    public abstract Integer labelOf(String path);

    /** No labels: accuracy is not computed. */
    public static GroundTruth none() {
        return new GroundTruth() {
            private static final long serialVersionUID = 1L;

            @Override
            public Integer labelOf(String path) {
                return null;
            }
        };
    }

    /**
     * The parent folder's name: a class index ({@code 7}), or a class name from {@code labels} — exact, else ignoring
     * case and punctuation ({@code t_shirt_top} is {@code T-shirt/top}). A name that is neither gives no label.
     */
    public static GroundTruth fromFolder(List<String> labels) {
        Map<String, Integer> byName = new HashMap<>();
        for (int i = labels.size() - 1; i >= 0; i--) {
            byName.put(labels.get(i), i);
            byName.putIfAbsent(slug(labels.get(i)), i);
        }
        int classes = labels.size();
        return new GroundTruth() {
            private static final long serialVersionUID = 1L;

            @Override
            public Integer labelOf(String path) {
                String[] parts = path.split("/");
                if (parts.length < 2) {
                    return null;
                }
                String folder = parts[parts.length - 2];
                Integer index = classIndex(folder, classes);
                if (index != null) {
                    return index;
                }
                Integer named = byName.get(folder);
                return named != null ? named : byName.get(slug(folder));
            }
        };
    }

    /**
     * A table of path → class index: looked up by the whole path, then without a {@code file:} scheme, then by file
     * name (a CSV may name files as {@code ILSVRC2012_val_00000001.JPEG}).
     */
    public static GroundTruth fromTable(Map<String, Integer> labels) {
        Map<String, Integer> byPath = new HashMap<>(labels);
        Map<String, Integer> byName = new HashMap<>();
        for (Map.Entry<String, Integer> e : labels.entrySet()) {
            byName.put(fileName(e.getKey()), e.getValue());
        }
        return new GroundTruth() {
            private static final long serialVersionUID = 1L;

            @Override
            public Integer labelOf(String path) {
                Integer l = byPath.get(path);
                if (l == null && path.startsWith("file:")) {
                    l = byPath.get(path.substring("file:".length()));
                }
                return l != null ? l : byName.get(fileName(path));
            }
        };
    }

    /**
     * Reads a CSV of {@code path,label} (a header line naming the columns {@code path} and {@code label} is
     * optional); a label is a class index or a class name from {@code labels}.
     */
    public static Map<String, Integer> readCsv(Path csv, List<String> labels) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(csv, "cannot read the ground-truth CSV (" + e.getMessage() + ")");
        }
        int pathCol = 0;
        int labelCol = 1;
        int first = 0;
        if (!lines.isEmpty()) {
            List<String> header = List.of(lines.get(0).toLowerCase(Locale.ROOT).split(",", -1)).stream()
                    .map(String::strip).toList();
            if (header.contains("path") && header.contains("label")) {
                pathCol = header.indexOf("path");
                labelCol = header.indexOf("label");
                first = 1;
            }
        }
        Map<String, Integer> out = new HashMap<>();
        for (int i = first; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] cells = lines.get(i).split(",", -1);
            if (cells.length <= Math.max(pathCol, labelCol)) {
                throw new InvalidInputException(csv, "line " + (i + 1) + " has " + cells.length + " columns; expected "
                        + "path,label");
            }
            out.put(cells[pathCol].strip(), parseLabel(cells[labelCol].strip(), labels, csv, i + 1));
        }
        return out;
    }

    /** A class index or a class name; fails naming the line. */
    public static int parseLabel(String cell, List<String> labels, Path file, int line) {
        Integer index = classIndex(cell, labels.size());
        if (index != null) {
            return index;
        }
        int named = labels.indexOf(cell);
        if (named >= 0) {
            return named;
        }
        throw new InvalidInputException(file, "line " + line + ": label '" + cell + "' is neither a class index 0.."
                + (labels.size() - 1) + " nor a class name of the model");
    }

    private static Integer classIndex(String s, int classes) {
        if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
            return null;
        }
        int i = Integer.parseInt(s);
        return i < classes ? i : null;
    }

    private static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_|_$", "");
    }

    private static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
