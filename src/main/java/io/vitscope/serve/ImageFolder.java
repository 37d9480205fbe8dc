package io.vitscope.serve;

import io.vitscope.predict.Inputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The demo images the page may show: the image files in one folder and its sub-folders (two levels), named by their
 * path relative to the folder with '/' separators ({@code fashion/fashion_0_ankle_boot.png}).
 *
 * <p>A request names a file; it is served only if that exact name is in the listing made at that moment. Nothing in
 * a request is ever resolved as a path, so {@code ..}, encoded separators, absolute paths and the like cannot reach
 * anything else: they are simply not names in the list. The listing itself keeps only regular files whose real path
 * (symbolic links followed) is inside the folder's real path, so a link pointing out of the folder is never listed.
 */
public final class ImageFolder {

    private static final int DEPTH = 3;           // the folder, its sub-folders and theirs
    private static final int MAX_FILES = 2000;    // a listing, not a crawl: a huge folder is cut, not walked whole

    private final Path root;

    /** @param root the folder; {@code null} for none (an empty list) */
    public ImageFolder(Path root) {
        this.root = root;
    }

    public Optional<Path> root() {
        return Optional.ofNullable(root);
    }

    /** The image names, sorted. */
    public List<String> list() {
        if (root == null || !Files.isDirectory(root)) {
            return List.of();
        }
        Path real;
        try {
            real = root.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.walk(real, DEPTH)) {     // does not follow links into other folders
            s.filter(ImageFolder::hasImageEnding).limit(MAX_FILES).forEach(p -> {
                if (inside(real, p)) {
                    names.add(separatorsOf(real.relativize(p)));
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
        names.sort(null);
        return names;
    }

    /** The file called {@code name} in the listing, or empty when there is none by exactly that name. */
    public Optional<Path> find(String name) {
        if (name == null || name.isEmpty() || !list().contains(name)) {
            return Optional.empty();
        }
        try {
            Path real = root.toRealPath();
            Path file = real.resolve(name).toRealPath();
            return inside(real, file) ? Optional.of(file) : Optional.empty(); // changed since the listing: refuse
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A regular file (after following links) whose real path is under {@code realRoot}. */
    private static boolean inside(Path realRoot, Path p) {
        try {
            if (!Files.isRegularFile(p)) {
                return false;
            }
            Path target = p.toRealPath();
            return target.startsWith(realRoot) && Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean hasImageEnding(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot > 0 && !n.endsWith(".npy") && Inputs.IMAGE_ENDINGS.contains(n.substring(dot + 1));
    }

    private static String separatorsOf(Path relative) {
        List<String> parts = new ArrayList<>();
        relative.forEach(p -> parts.add(p.toString()));
        return String.join("/", parts);
    }

    /** The media type a browser needs to show the file, from its ending (the listing only holds these endings). */
    static String contentType(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".png")) {
            return "image/png";
        }
        if (n.endsWith(".gif")) {
            return "image/gif";
        }
        if (n.endsWith(".bmp")) {
            return "image/bmp";
        }
        return "image/jpeg";
    }
}
