package io.vitscope.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBarConsumer;

/**
 * Draws a progress bar on a {@link PrintWriter} (a command's error stream, which tests can capture) rather than the
 * PrintStream the library's own consumers want. Used by downloads here and by the CLI's other long commands.
 */
public final class WriterProgressConsumer implements ProgressBarConsumer {

    private final PrintWriter out;

    public WriterProgressConsumer(PrintWriter out) {
        this.out = out;
    }

    @Override
    public int getMaxRenderedLength() {
        return 100;  // a fixed width: asking the terminal would pull in JLine's native probing
    }

    @Override
    public void accept(String rendered) {
        out.print('\r');
        out.print(rendered);
        out.flush();
    }

    @Override
    public void close() {
        out.println();
        out.flush();
    }
}
