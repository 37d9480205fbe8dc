package io.vitscope.cli;

import io.vitscope.VitscopeException;
import io.vitscope.hub.DownloadListener;
import io.vitscope.hub.HubFetcher;
import io.vitscope.hub.HubFetcher.FetchedFile;
import io.vitscope.hub.HubFetcher.FetchedModel;
import io.vitscope.hub.ModelCache;
import io.vitscope.hub.ModelCache.CachedModel;
import io.vitscope.hub.ModelRef;
import io.vitscope.model.Presets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vitscope fetch ARCH[.TAG]}: pretrained timm weights from the Hugging Face hub into the local cache. */
@Command(name = "fetch",
        description = {
            "Download a timm checkpoint (model.safetensors and config.json) from the Hugging Face hub repository"
                    + " timm/ARCH.TAG into VITSCOPE_CACHE/models/ARCH.TAG/.",
            "An interrupted download resumes where it stopped when run again. Files are verified against the"
                    + " SHA-256 the hub announces (or --sha256) before they are put in place."},
        footer = {"", "Environment:",
            "  VITSCOPE_CACHE  cache root (default ~/.cache/vitscope)",
            "  HF_ENDPOINT    hub address, e.g. a mirror (default https://huggingface.co)",
            "  HF_TOKEN       token for gated or private repositories (sent to the hub only)"})
public class FetchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ARCH[.TAG]",
            description = "A model name such as vit_base_patch16_224 (its default pretrained tag) or"
                    + " vit_base_patch16_224.augreg_in21k_ft_in1k. Valid architectures: ${COMPLETION-CANDIDATES}",
            completionCandidates = ArchNames.class)
    String model;

    @Option(names = {"--cache", "--dir"}, paramLabel = "DIR",
            description = "Cache root instead of $VITSCOPE_CACHE (default ~/.cache/vitscope); files go to DIR/models/.")
    Path cacheRoot;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "Hub address instead of $HF_ENDPOINT (default https://huggingface.co).")
    String endpoint;

    @Option(names = "--sha256", paramLabel = "HEX",
            description = "The SHA-256 model.safetensors must have; overrides the one the hub announces.")
    String sha256;

    @Option(names = "--force", description = "Download again even if the files are cached.")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors.")
    boolean quiet;

    @Option(names = "--list", description = "List the cached models instead of downloading.")
    boolean list;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private final Map<String, String> env;
    private final boolean terminal;

    public FetchCommand() {
        this(System.getenv(), System.console() != null);
    }

    /** For tests: a fake environment, and whether to draw a progress bar as on a terminal. */
    FetchCommand(Map<String, String> env, boolean terminal) {
        this.env = env;
        this.terminal = terminal;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelCache cache = ModelCache.at(cacheRoot != null ? cacheRoot : ModelCache.defaultRoot(env));
        if (list) {
            printCached(cache, out);
            return 0;
        }
        if (model == null) {
            throw new ParameterException(spec.commandLine(),
                    "Missing ARCH[.TAG], e.g. vit_base_patch16_224. Valid architectures: "
                            + String.join(", ", Presets.names()));
        }
        ModelRef ref = ModelRef.parse(model);

        HubFetcher.Builder builder = HubFetcher.builder().optEnvironment(env);
        if (endpoint != null) {
            try {
                builder.optEndpoint(HubFetcher.parseEndpoint(endpoint, "--endpoint"));
            } catch (VitscopeException e) {
                throw new BadValue(spec, e.getMessage());
            }
        }
        try (ProgressBarListener bar = terminal && !quiet ? new ProgressBarListener(err) : null) {
            DownloadListener listener = bar != null ? bar : quiet ? DownloadListener.NONE : notesTo(err);
            HubFetcher fetcher = builder.optListener(listener).build();
            if (!quiet) {
                out.println("Fetching " + ref.repoId() + " from " + fetcher.endpoint());
                out.flush();
            }
            FetchedModel fetched = fetcher.fetch(ref, cache, sha256, force);
            if (!quiet) {
                for (FetchedFile file : fetched.files()) {
                    out.println("  " + file.path().getFileName() + ": " + describe(file));
                }
                out.println(ref.name() + " is in " + fetched.dir());
            }
        }
        return 0;
    }

    private static DownloadListener notesTo(PrintWriter err) {
        return new DownloadListener() {
            @Override
            public void note(String message) {
                err.println(message);
                err.flush();
            }
        };
    }

    private static String describe(FetchedFile file) {
        String what = switch (file.outcome()) {
            case DOWNLOADED -> "downloaded";
            case RESUMED -> "resumed and completed";
            case ALREADY_CACHED -> "already cached";
        };
        String check = file.verified() ? ", SHA-256 verified"
                : file.outcome() == HubFetcher.Outcome.ALREADY_CACHED ? ", use --force to download again"
                : ", no checksum announced";
        return what + " (" + HubFetcher.formatBytes(file.bytes()) + check + ")";
    }

    private void printCached(ModelCache cache, PrintWriter out) {
        List<CachedModel> models = cache.list();
        if (models.isEmpty()) {
            if (!quiet) {
                out.println("No models in " + cache.modelsDir() + ". Get one with: scripts/vitscope fetch"
                        + " vit_base_patch16_224");
            }
            return;
        }
        for (CachedModel m : models) {
            out.printf("%-50s %10s  %s%n", m.name(), HubFetcher.formatBytes(m.weightsBytes()), m.dir());
        }
    }

    /** The architecture names, for the help text and shell completion. */
    static final class ArchNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Presets.names().iterator();
        }
    }
}
