package io.vitscope.cli;

import java.io.PrintStream;

/**
 * Where a command's start-up time goes: with {@code VITSCOPE_TIMINGS=1} in the environment (or
 * {@code -Dvitscope.timings=true}) each {@link #mark} prints one line to stderr — the phase that just ended, its
 * duration and the time since the process started. Off, a mark is one field read. {@code scripts/bench_coldstart.sh}
 * collects these lines; docs/benchmarks.md ("Cold start") reads them.
 *
 * <p>The clock starts at {@code -Dvitscope.t0} (epoch milliseconds, set by {@code scripts/vitscope} when it starts,
 * so that its own staleness check and the JVM's start-up are counted; {@code -Dvitscope.t1}: when it started
 * {@code java}), else at the process's start time.
 */
final class Timings {

    private static final boolean ON = "1".equals(System.getenv("VITSCOPE_TIMINGS"))
            || Boolean.getBoolean("vitscope.timings");
    private static final long ORIGIN = ON ? start() : 0;
    private static long last = ON ? millis("vitscope.t1", ORIGIN) : 0;

    private Timings() {}

    /** Ends {@code phase}: prints its duration and the time since the start, when timings are on. */
    static synchronized void mark(String phase) {
        if (!ON) {
            return;
        }
        long now = System.currentTimeMillis();
        PrintStream err = System.err;
        err.printf("vitscope: timing %-28s %6d ms  (at %6d ms)%n", phase, now - last, now - ORIGIN);
        err.flush();
        last = now;
    }

    private static long start() {
        return millis("vitscope.t0", ProcessHandle.current().info().startInstant()
                .map(java.time.Instant::toEpochMilli).orElse(System.currentTimeMillis()));
    }

    private static long millis(String property, long otherwise) {
        String t = System.getProperty(property);
        return t != null && t.matches("\\d{13}") ? Long.parseLong(t) : otherwise;
    }
}
