package io.vitscope.zoo;

import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooProvider;
import io.vitscope.engine.Engines;

/**
 * Registers {@link VitscopeModelZoo} with DJL (META-INF/services/ai.djl.repository.zoo.ZooProvider). DJL lists the
 * zoos when a {@code Criteria} loads its first model, before it starts the engine: the provider starts it the way
 * vitscope wants ({@link Engines#start()}: the MKL fast path must be in place before libtorch loads), so a program
 * that only ever goes through {@code Criteria} runs as fast as one that calls {@code Engines.start()} itself.
 */
public final class VitscopeZooProvider implements ZooProvider {

    @Override
    public ModelZoo getModelZoo() {
        Engines.start();
        return new VitscopeModelZoo();
    }
}
