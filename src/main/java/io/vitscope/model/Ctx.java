package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * What every module's forward needs besides its input: where parameters come from (DJL's parameter store while
 * training, the parameters themselves otherwise), whether it is training, and the memory scope that owns the
 * tensors it returns.
 */
record Ctx(ParameterStore parameterStore, boolean training, NDManager scope) {

    NDArray value(Parameter p, NDArray like) {
        if (parameterStore == null) {
            return p.getArray();
        }
        return parameterStore.getValue(p, like.getDevice(), training);
    }

    Ctx in(NDManager inner) {
        return new Ctx(parameterStore, training, inner);
    }
}
