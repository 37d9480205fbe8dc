package io.vitscope.cli;

import java.nio.file.Path;

/** Where the project's shipped files are: the system property {@code vitscope.home}, else the working directory. */
final class Home {

    static final String PROPERTY = "vitscope.home";
    /** The shipped Fashion-MNIST model, relative to the home. */
    static final String DEFAULT_MODEL = "models/fashion_vit";

    private Home() {}

    static Path dir() {
        String home = System.getProperty(PROPERTY);
        return Path.of(home != null && !home.isBlank() ? home : "").toAbsolutePath();
    }

    static Path defaultModelDir() {
        return dir().resolve(DEFAULT_MODEL);
    }
}
