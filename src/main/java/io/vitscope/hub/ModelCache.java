package io.vitscope.hub;

import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.ModelDir;
import io.vitscope.checkpoint.Models;
import io.vitscope.InvalidInputException;
import io.vitscope.VitscopeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where fetched checkpoints live: {@code $VITSCOPE_CACHE/models/<arch>.<tag>/} (the root defaults to
 * {@code ~/.cache/vitscope}) holding timm's {@code model.safetensors} and {@code config.json}. A file is only ever
 * there complete and verified; downloads in progress are {@code <file>.part} beside it.
 */
public final class ModelCache {

    public static final String ENV = "VITSCOPE_CACHE";
    /**
     * System property naming the cache root ahead of {@value #ENV}: a JVM cannot change its own environment,
     * so callers running in-process (tests, notebooks, an embedding application) need another way to point
     * {@code predict} and {@code fetch} at another cache.
     */
    public static final String PROPERTY = "vitscope.cache";
    public static final String WEIGHTS_FILE = ModelDir.WEIGHTS;
    public static final String CONFIG_FILE = ModelDir.CONFIG;
    public static final String PART_SUFFIX = ".part";

    /** A checkpoint in the cache; {@code config} is null when only the weights are there. */
    public record CachedModel(String name, Path dir, Path weights, Path config, long weightsBytes) {}

    private final Path root;

    private ModelCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public static ModelCache at(Path root) {
        return new ModelCache(root);
    }

    /**
     * The cache of this process: {@code -Dvitscope.cache}, else {@code $VITSCOPE_CACHE}, else
     * {@code ~/.cache/vitscope}.
     */
    public static ModelCache atDefaultRoot() {
        return new ModelCache(defaultRoot(System.getenv()));
    }

    /** The cache root from {@value #PROPERTY}, else {@code env}'s {@value #ENV}, else the default. */
    public static Path defaultRoot(Map<String, String> env) {
        String fromProperty = System.getProperty(PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return Path.of(fromProperty);
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "vitscope");
    }

    /** The cache's root folder (models are under {@code models/}). */
    public Path root() {
        return root;
    }

    public Path modelsDir() {
        return root.resolve("models");
    }

    public Path dirOf(ModelRef ref) {
        return modelsDir().resolve(ref.name());
    }

    /**
     * The cached checkpoint of {@code ARCH} or {@code ARCH.TAG}. A bare architecture means its preset's default tag
     * only: other tags may have another head (21k classes for {@code in21k}), which the preset's config does not
     * describe.
     *
     * @throws io.vitscope.InvalidArgumentException for an unknown architecture or a malformed tag
     */
    public Optional<CachedModel> find(String archOrArchDotTag) {
        return find(ModelRef.parse(archOrArchDotTag));
    }

    public Optional<CachedModel> find(ModelRef ref) {
        return cachedIn(dirOf(ref));
    }

    /**
     * The weights file of {@code ARCH[.TAG]}.
     *
     * @throws VitscopeException with {@link #missingWeightsMessage} when it has not been fetched
     * @throws io.vitscope.InvalidArgumentException for a name {@link ModelRef#parse} refuses
     */
    public Path requireWeights(String archOrArchDotTag) {
        return find(archOrArchDotTag).map(CachedModel::weights)
                .orElseThrow(() -> new VitscopeException(missingWeightsMessage(archOrArchDotTag)));
    }

    /**
     * Loads the cached model {@code ARCH[.TAG]} ({@link #find(String)}). A cached file that cannot be loaded (damaged
     * on disk, or cached by an older vitscope that trusted whatever the server sent) is reported with the fetch that
     * replaces it.
     *
     * @throws InvalidInputException when it is not cached, or a cached file is unusable
     * @throws io.vitscope.InvalidArgumentException for a name {@link ModelRef#parse} refuses
     */
    public LoadedModel load(String archOrArchDotTag) {
        ModelRef ref = ModelRef.parse(archOrArchDotTag);
        CachedModel cached = find(ref)
                .orElseThrow(() -> new InvalidInputException(null, missingWeightsMessage(archOrArchDotTag)));
        try {
            return Models.load(null, cached.dir());
        } catch (InvalidInputException e) {
            if (e.file() == null || !e.file().toAbsolutePath().startsWith(cached.dir().toAbsolutePath())) {
                throw e;
            }
            throw new InvalidInputException(e.file(), e.problem() + ". This file is in vitscope's model cache: download"
                    + " it again with 'scripts/vitscope fetch --force " + ref.name() + "'", e);
        }
    }

    /**
     * What to tell a user whose weights are not cached, e.g. "No weights for vit_base_patch16_224 in
     * /root/.cache/vitscope/models. Get them with: scripts/vitscope fetch vit_base_patch16_224.orig_in21k_ft_in1k
     * (or pass --weights FILE)".
     */
    public String missingWeightsMessage(String archOrArchDotTag) {
        ModelRef ref = ModelRef.parse(archOrArchDotTag);
        String message = "No weights for " + archOrArchDotTag.strip() + " in " + modelsDir()
                + ". Get them with: scripts/vitscope fetch " + ref.name() + " (or pass --weights FILE)";
        if (Files.exists(dirOf(ref).resolve(WEIGHTS_FILE + PART_SUFFIX))) {
            message += "; a partial download is there, and the fetch resumes it";
        }
        return message;
    }

    /** The complete checkpoints in the cache, by name. */
    public List<CachedModel> list() {
        if (!Files.isDirectory(modelsDir())) {
            return List.of();
        }
        List<CachedModel> models = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(modelsDir())) {
            dirs.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString))
                    .forEach(dir -> cachedIn(dir).ifPresent(models::add));
        } catch (IOException e) {
            throw new VitscopeException("Cannot list " + modelsDir() + " (" + e.getMessage()
                    + "): check its permissions, or set " + ENV + " to another directory", e);
        }
        return models;
    }

    private static Optional<CachedModel> cachedIn(Path dir) {
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            return Optional.empty();
        }
        Path config = dir.resolve(CONFIG_FILE);
        long size;
        try {
            size = Files.size(weights);
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(new CachedModel(dir.getFileName().toString(), dir, weights,
                Files.isRegularFile(config) ? config : null, size));
    }
}
