package io.vitscope.cli;

import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.serve.Explorer;
import io.vitscope.serve.ExplorerServer;
import io.vitscope.serve.ServeOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vitscope serve}: the attention explorer in the browser, on this machine. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a local web page to explore one model: top-5, attention maps per block and head, the "
                + "logit-scale slider, downloads; and the JSON API behind it (docs/api.md).",
            "Stops on Ctrl-C or SIGTERM after answering the requests in flight."})
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = ServeOptions.DEFAULT_HOST,
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only). There is no "
                    + "authentication: anyone who can reach another address can use the server.")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; "
            + "0 = any free port).")
    int port;

    @Option(names = "--images", paramLabel = "DIR",
            description = "Demo images the page offers (default: images/ of the vitscope folder).")
    Path images;

    @Option(names = "--max-upload", paramLabel = "MB", defaultValue = "20",
            description = "Largest upload in megabytes (default ${DEFAULT-VALUE}); larger ones get 413.")
    int maxUploadMb;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
            description = "Model requests run at once (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "16",
            description = "Model requests that may wait (default ${DEFAULT-VALUE}); beyond that the server answers "
                    + "503.")
    int queue;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "60",
            description = "Time limit of one model request in seconds, queueing included (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
        BadValue.check(maxUploadMb >= 1 && maxUploadMb <= 1024, spec,
                "--max-upload must be in 1..1024 MB, got " + maxUploadMb);
        BadValue.check(timeoutSeconds >= 1, spec, "--timeout must be at least 1 second, got " + timeoutSeconds);
        String home = System.getProperty(Models.HOME_PROPERTY);
        Path dir = images != null ? images
                : Path.of(home != null && !home.isBlank() ? home : "").toAbsolutePath().resolve("images");
        BadValue.check(images == null || Files.isDirectory(images), spec, "--images " + images + " is not a folder");
        ServeOptions options;
        try {
            options = new ServeOptions(host, port, dir, maxUploadMb * 1024L * 1024L, workers, queue,
                    Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(30));
        } catch (IllegalArgumentException e) {
            throw new BadValue(spec, "--" + e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LoadedModel loaded = modelOptions.load();
        loaded.model().packWeights(); // a server runs many forwards: packed products, for a second copy of the weights
        ExplorerServer server = ExplorerServer.start(new Explorer(loaded), options);
        if (!options.loopback()) {
            err.println("vitscope: warning: listening on " + host + ": there is no authentication, anyone who can "
                    + "reach this address and port can use the server and the model");
            err.flush();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            loaded.close();
            stopped.countDown();
        }, "vitscope-serve-shutdown"));
        out.println("vitscope serve: " + loaded.name() + ", images from " + dir);
        out.println("Open " + server.url() + " in a browser (Ctrl-C to stop)");
        out.flush();
        stopped.await();
        return Main.OK;
    }
}
