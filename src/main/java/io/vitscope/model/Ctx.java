package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * What every module's forward needs besides its input: where parameters come from (DJL's parameter store while
 * training, the parameters themselves otherwise), whether it is training, and the memory scope that owns the
 * tensors it returns.
 *
 * @param frozen use the parameters without their autograd history (detached views in {@code scope}): a backward pass
 *     then computes gradients for activations only — half the work — and never accumulates into a parameter's
 *     {@code .grad}, which nothing would clear outside a trainer's optimizer step
 */
record Ctx(ParameterStore parameterStore, boolean training, NDManager scope, boolean frozen) {

    Ctx(ParameterStore parameterStore, boolean training, NDManager scope) {
        this(parameterStore, training, scope, false);
    }

    NDArray value(Parameter p, NDArray like) {
        if (parameterStore == null) {
            NDArray a = p.getArray();
            if (frozen && a.hasGradient()) {
                NDArray detached = a.stopGradient();                // shares the storage, no history
                detached.attach(scope);
                return detached;
            }
            return a;
        }
        return parameterStore.getValue(p, like.getDevice(), training);
    }

    Ctx in(NDManager inner) {
        return new Ctx(parameterStore, training, inner, frozen);
    }
}
