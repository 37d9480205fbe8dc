/**
 * vitscope models the DJL way: a model zoo ({@link io.vitscope.zoo.VitscopeModelZoo}, group id {@code io.vitscope},
 * registered for {@code ServiceLoader} through {@link io.vitscope.zoo.VitscopeZooProvider}), a
 * {@link io.vitscope.zoo.VitTranslatorFactory} and a {@link io.vitscope.zoo.VitBlockFactory}, so that DJL's
 * {@code Criteria} gives a {@code ZooModel} whose block is vitscope's {@code VisionTransformer}.
 *
 * <p>May use {@code io.vitscope.checkpoint} (loading), {@code io.vitscope.model} (the network), {@code io.vitscope.predict}
 * (the translator), {@code io.vitscope.hub} (the local cache) and DJL's zoo API; nothing uses it but DJL's service
 * loading.
 */
package io.vitscope.zoo;
