package io.vitscope.cli;

import io.vitscope.engine.Engines;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --threads N}: libtorch's intra-op threads, for every command that runs the engine hard. */
final class ThreadsOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    Integer threads;

    @Option(names = "--threads", paramLabel = "N",
            description = "libtorch intra-op threads (default: libtorch's choice, one per physical core).")
    void setThreads(Integer n) {
        BadValue.check(n == null || n >= 1 && n <= Engines.MAX_THREADS, mixee,
                "--threads must be from 1 to " + Engines.MAX_THREADS + ", got " + n);
        threads = n;
    }

    /** Starts the engine with these threads ({@link Engines#start(Integer)}); null leaves libtorch's default. */
    void start() {
        Engines.start(threads);
    }
}
