package io.vitscope.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar drawn on a command's error stream, or nothing at all: commands create one only on a terminal,
 * so that piped output and logs hold no bar frames.
 */
final class TerminalBar implements AutoCloseable {

    private final ProgressBar bar;

    private TerminalBar(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar when {@code show}, else one whose methods do nothing. */
    static TerminalBar of(boolean show, PrintWriter err, String task, long max, String unit) {
        if (!show) {
            return new TerminalBar(null);
        }
        return new TerminalBar(builder(err, task, max, " " + unit, 1).build());
    }

    /**
     * The one progress-bar set-up of the CLI (this class's bars and {@link ProgressBarListener}'s downloads): ASCII,
     * with speed, redrawn every 250 ms on {@code err} through {@link WriterProgressConsumer}.
     *
     * @param unitSize how many counted units make one shown {@code unit} (1, or 1,000,000 for MB)
     */
    static ProgressBarBuilder builder(PrintWriter err, String task, long max, String unit, long unitSize) {
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setUnit(unit, unitSize)
                .showSpeed()
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new WriterProgressConsumer(err));
    }

    /** A bar when the command runs on a terminal and there is more than one step of work to watch. */
    static TerminalBar onTerminal(PrintWriter err, String task, long max, String unit) {
        return of(System.console() != null && max > 1, err, task, max, unit);
    }

    void step(long n) {
        if (bar != null) {
            bar.stepBy(n);
        }
    }

    void stepTo(long n) {
        if (bar != null) {
            bar.stepTo(n);
        }
    }

    void extra(String message) {
        if (bar != null) {
            bar.setExtraMessage(message);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
