package io.vitscope.zoo;

import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooProvider;

/** Registers {@link VitscopeModelZoo} with DJL (META-INF/services/ai.djl.repository.zoo.ZooProvider). */
public final class VitscopeZooProvider implements ZooProvider {

    @Override
    public ModelZoo getModelZoo() {
        return new VitscopeModelZoo();
    }
}
