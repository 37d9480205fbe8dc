package io.vitscope;

import io.vitscope.engine.Engines;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The tests' engine start: {@link Engines#start()} before any test class runs, as the CLI's root does before a
 * command. Registered for every test class through JUnit's extension auto-detection
 * ({@code META-INF/services/org.junit.jupiter.api.extension.Extension} and {@code junit-platform.properties}), so
 * no test can load libtorch before the MKL fast path is in place. Repeated calls do nothing more.
 *
 * <p>libtorch's thread count comes from {@code -Dai.djl.pytorch.num_threads} (e.g. {@code mvn test
 * -Dtest.jvm.args="... -Dai.djl.pytorch.num_threads=1"}), which the engine reads once when it loads.
 */
public final class EngineSetup implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        Engines.start();
    }
}
