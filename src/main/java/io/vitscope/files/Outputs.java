package io.vitscope.files;

import io.vitscope.InvalidArgumentException;
import io.vitscope.VitscopeException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Output files written whole or not at all.
 *
 * <ul>
 *   <li>{@link #write(Path, String, Body)}: the bytes go to {@code .NAME.RANDOM.tmp} in the same folder, are forced to
 *   disk and renamed over {@code NAME} (atomically where the file system can); on any failure the temporary file is
 *   deleted and {@code NAME} is left as it was.</li>
 *   <li>{@link #folder(Path, String)}: a command's results are written into a hidden sibling folder and moved into
 *   place by {@link Folder#commit()}; closing without committing deletes them.</li>
 *   <li>{@link #checkFile} / {@link #checkFolder}: a destination that cannot be written is refused before any work
 *   starts, by creating (and removing) a probe file where the output will go.</li>
 * </ul>
 *
 * <p>A destination that cannot be written is an {@link InvalidArgumentException} naming the caller's parameter
 * ({@code out /proc/a.png cannot be written: ...}; the CLI exits 2); a write that fails part-way (a full disk) is a
 * {@link VitscopeException} (exit 1). Temporary files are created with {@code CREATE_NEW} and no explicit
 * permissions, so they, and the files renamed from them, get the process's default mode (0644 under umask 022),
 * unlike {@code Files.createTempFile}'s 0600.
 */
public final class Outputs {

    /** Writes a file's bytes to a stream; the stream is closed by the caller. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /** Writes a file's bytes to a channel positioned at 0; the channel is forced and closed by the caller. */
    @FunctionalInterface
    public interface ChannelBody {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes a set of files into a folder (a staging folder, see {@link #intoFolder}). */
    @FunctionalInterface
    public interface FolderBody {
        void write(Path dir) throws IOException;
    }

    private Outputs() {}

    /**
     * Runs {@code body} on a staging folder and moves what it wrote into {@code dir} only if it returns normally:
     * results appear together or not at all ({@link #folder(Path, String)}).
     *
     * @return {@code dir}
     */
    public static Path intoFolder(Path dir, String parameter, FolderBody body) {
        try (Folder staged = folder(dir, parameter)) {
            try {
                body.write(staged.path());
            } catch (IOException e) {
                throw new VitscopeException("cannot write the results to " + dir + " (" + reason(e)
                        + "); nothing was written", e);
            }
            return staged.commit();
        }
    }

    /**
     * Writes {@code file} whole or not at all.
     *
     * @param parameter the caller's name for the destination ({@code out}, {@code saveWeights}), used in messages
     * @return {@code file}
     * @throws InvalidArgumentException if the destination cannot be written (a folder, read-only, no such place)
     * @throws VitscopeException if writing fails part-way; {@code file} is then as it was before
     */
    public static Path write(Path file, String parameter, Body body) {
        return writeChannel(file, parameter, ch -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            body.write(out);
            out.flush();
        });
    }

    /** {@link #write(Path, String, Body)} with UTF-8 text. */
    public static Path writeString(Path file, String parameter, CharSequence text) {
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        return write(file, parameter, out -> out.write(bytes));
    }

    /** {@link #write(Path, String, Body)} for writers that want the file's channel. */
    public static Path writeChannel(Path file, String parameter, ChannelBody body) {
        Path target = destination(file, parameter);
        Path dir = target.getParent();
        createFolders(dir, file, parameter);
        Path tmp = createTemp(dir, target.getFileName().toString(), file, parameter);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            move(tmp, target);
            done = true;
        } catch (IOException e) {
            throw new VitscopeException("cannot write " + file + " (" + reason(e) + "); nothing was written", e);
        } finally {
            if (!done) {
                deleteQuietly(tmp);
            }
        }
        return file;
    }

    /**
     * Refuses a destination file that cannot be written, before the work that fills it: it is a folder, a read-only
     * file, or its folder does not exist and cannot be created, or does not accept a new file. Creates nothing.
     *
     * @throws InvalidArgumentException naming {@code parameter}
     */
    public static void checkFile(Path file, String parameter) {
        Path target = destination(file, parameter);
        probe(existingAncestor(target.getParent(), file, parameter), file, parameter);
    }

    /**
     * Refuses a destination folder that cannot be written: it is a file, or it (or the folder it would be created
     * in) does not accept a new file. Creates nothing.
     *
     * @throws InvalidArgumentException naming {@code parameter}
     */
    public static void checkFolder(Path dir, String parameter) {
        Path target = dir.toAbsolutePath().normalize();
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw unusable(parameter, dir, "it is a file; give a folder for the results");
        }
        probe(existingAncestor(target, dir, parameter), dir, parameter);
    }

    /**
     * Stages a folder of results: write into {@link Folder#path()}, then {@link Folder#commit()} moves every file into
     * {@code dir} (created if needed; files already there with other names are kept, same-named ones replaced).
     * Closing without a commit deletes what was staged, so a failed run adds nothing to {@code dir}.
     *
     * @throws InvalidArgumentException naming {@code parameter} if {@code dir} cannot be written
     */
    public static Folder folder(Path dir, String parameter) {
        checkFolder(dir, parameter);
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        if (parent == null) {
            throw unusable(parameter, dir, "it is the file system's root; give a folder inside it");
        }
        createFolders(parent, dir, parameter);
        String name = target.getFileName() == null ? "out" : target.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path staging = parent.resolve("." + name + "." + randomHex() + ".partial");
            try {
                Files.createDirectory(staging);
                return new Folder(dir, target, staging, parameter);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw unusable(parameter, dir, "no free temporary name next to it");
                }
            } catch (IOException e) {
                throw unusable(parameter, dir, reason(e));
            }
        }
    }

    /** A staged results folder; see {@link Outputs#folder(Path, String)}. */
    public static final class Folder implements AutoCloseable {
        private final Path dir;
        private final Path target;
        private final Path staging;
        private final String parameter;
        private boolean committed;

        private Folder(Path dir, Path target, Path staging, String parameter) {
            this.dir = dir;
            this.target = target;
            this.staging = staging;
            this.parameter = parameter;
        }

        /** Where to write the results until {@link #commit()}. */
        public Path path() {
            return staging;
        }

        /** Where a staged file will be after {@link #commit()}: {@code dir} with the same relative name. */
        public Path finalPath(Path staged) {
            return dir.resolve(staging.relativize(staged.toAbsolutePath().normalize()).toString());
        }

        /**
         * Moves the staged files into place.
         *
         * @return the folder
         * @throws VitscopeException if a move fails (files moved before it stay, each one whole)
         */
        public Path commit() {
            try {
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                        committed = true;
                        return dir;
                    } catch (IOException e) {
                        Files.createDirectories(target); // a concurrent writer made it, or the move is not atomic here
                    }
                }
                merge(staging, target);
                committed = true;
                deleteTree(staging);
                return dir;
            } catch (IOException e) {
                throw new VitscopeException("cannot move the results into " + dir + " (" + reason(e) + ")", e);
            }
        }

        /** Deletes what was staged unless it was committed. */
        @Override
        public void close() {
            if (!committed) {
                try {
                    deleteTree(staging);
                } catch (IOException e) {
                    // best effort: a hidden .partial folder is what is left, named after the destination
                }
            }
        }

        @Override
        public String toString() {
            return "staged " + parameter + " " + dir;
        }
    }

    private static void merge(Path from, Path to) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(from)) {
            ds.forEach(entries::add);
        }
        for (Path e : entries) {
            Path dest = to.resolve(e.getFileName().toString());
            if (Files.isDirectory(e, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(dest)) {
                merge(e, dest);
            } else {
                move(e, dest);
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                ds.forEach(entries::add);
            }
            for (Path e : entries) {
                deleteTree(e);
            }
        }
        Files.deleteIfExists(p);
    }

    /** The absolute file to replace: a symbolic link's target (renaming over the link would replace the link). */
    private static Path destination(Path file, String parameter) {
        Path target = file.toAbsolutePath().normalize();
        if (target.getFileName() == null) {
            throw unusable(parameter, file, "it names no file");
        }
        if (Files.isDirectory(target)) {
            throw unusable(parameter, file, "it is a folder; give a file name");
        }
        if (Files.isSymbolicLink(target)) {
            try {
                target = target.toRealPath();
            } catch (IOException e) {
                throw unusable(parameter, file, "it is a symbolic link that leads nowhere (" + reason(e) + ")");
            }
        }
        if (Files.exists(target) && !Files.isWritable(target)) {
            throw unusable(parameter, file, "the file exists and is read-only");
        }
        return target;
    }

    /** The nearest folder that exists on the way up to {@code dir}; refuses a file in the way. */
    private static Path existingAncestor(Path dir, Path named, String parameter) {
        Path p = dir;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            throw unusable(parameter, named, "no part of its folder exists");
        }
        if (!Files.isDirectory(p)) {
            throw unusable(parameter, named, p + " is a file, not a folder");
        }
        return p;
    }

    /** Creates and removes a file in {@code dir}: the only test of writability that root, ACLs and mounts agree on. */
    private static void probe(Path dir, Path named, String parameter) {
        Path probe = createTemp(dir, "vitscope-probe", named, parameter);
        deleteQuietly(probe);
    }

    private static void createFolders(Path dir, Path named, String parameter) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw unusable(parameter, named, "its folder cannot be created (" + reason(e) + ")");
        }
    }

    private static Path createTemp(Path dir, String name, Path named, String parameter) {
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + randomHex() + ".tmp");
            try {
                // CREATE_NEW without attributes: the default mode (0666 & ~umask), unlike createTempFile's 0600
                Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw unusable(parameter, named, "no free temporary name in " + dir);
                }
            } catch (IOException e) {
                throw unusable(parameter, named, "cannot create a file in " + dir + " (" + reason(e) + ")");
            }
        }
    }

    private static String randomHex() {
        return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // nothing more to do: the name starts with a dot and ends with .tmp
        }
    }

    private static InvalidArgumentException unusable(String parameter, Path file, String why) {
        return new InvalidArgumentException(parameter, parameter + " " + file + " cannot be written: " + why
                + "; choose a place you can write to");
    }

    /** What went wrong, without the path the message already names. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
