package io.vitscope.cli;

import io.vitscope.hub.DownloadListener;
import java.io.PrintWriter;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;

/**
 * Shows downloads as a progress bar on a terminal. Callers decide whether there is one ({@code System.console()});
 * piped output gets {@link DownloadListener#NONE} or a notes-only listener instead, so logs hold no bar frames.
 */
public final class ProgressBarListener implements DownloadListener, AutoCloseable {

    private static final long SMALL_FILE = 1_000_000;

    private final PrintWriter out;
    private ProgressBar bar;

    /** @param out where the bar is drawn, usually the command's error stream so that stdout stays clean */
    public ProgressBarListener(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void started(String file, long alreadyHave, long total) {
        close();
        if (total >= 0 && total < SMALL_FILE) {
            return;  // a config.json: a bar would flash by showing 0/0 MB
        }
        bar = TerminalBar.builder(out, file, total, "MB", 1_000_000).startsFrom(alreadyHave, Duration.ZERO).build();
    }

    @Override
    public synchronized void progressed(long bytes) {
        if (bar != null) {
            bar.stepTo(bytes);
        }
    }

    @Override
    public synchronized void finished() {
        close();
    }

    @Override
    public synchronized void note(String message) {
        // The bar redraws its own line with '\r'; a note needs a line of its own.
        out.println(bar != null ? System.lineSeparator() + message : message);
        out.flush();
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
