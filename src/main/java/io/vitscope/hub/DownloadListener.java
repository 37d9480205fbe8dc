package io.vitscope.hub;

/** What a download reports while it runs; the CLI shows it as a progress bar, tests record it, scripts ignore it. */
public interface DownloadListener {

    /** Reports nothing. */
    DownloadListener NONE = new DownloadListener() {};

    /**
     * A transfer of {@code file} begins (again, after a retry or a restart).
     *
     * @param alreadyHave bytes already on disk from an earlier, interrupted transfer
     * @param total the file's size, or -1 when the server does not say
     */
    default void started(String file, long alreadyHave, long total) {}

    /** {@code bytes} of the file are now on disk. */
    default void progressed(long bytes) {}

    /** The transfer of the current file ended, successfully or not. */
    default void finished() {}

    /** Something the user may want to know: a resume, a restart, a retry. */
    default void note(String message) {}
}
