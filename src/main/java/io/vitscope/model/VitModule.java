package io.vitscope.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.vitscope.probe.Probed;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module of the ViT: a DJL block that knows its timm path and its parameters' timm names, and whose forward
 * the probe layer can observe. Subclasses implement {@link #apply(Ctx, NDArray)}; DJL's {@code forward} and
 * vitscope's own calls both end there.
 */
public abstract class VitModule extends AbstractBlock implements Probed {

    private String path = "";
    private final LinkedHashMap<String, VitModule> modules = new LinkedHashMap<>();
    private final LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();
    private final Map<Parameter, Shape> shapes = new java.util.IdentityHashMap<>();
    private final Map<Parameter, Initializer> initializers = new java.util.IdentityHashMap<>();

    protected VitModule() {
        super((byte) 1);
    }

    /** Registers a child under its timm attribute name ({@code attn}, {@code blocks.4} is child {@code 4} of a list). */
    protected final <M extends VitModule> M child(String name, M module) {
        addChildBlock(name, module);
        modules.put(name, module);
        module.setPath(path.isEmpty() ? name : path + "." + name);
        return module;
    }

    /**
     * Registers a parameter under its timm name. Its shape is kept here, not in DJL's parameter: DJL refuses
     * {@code setArray} on a parameter whose shape was preset, and loading a checkpoint sets arrays.
     *
     * @param init how to initialise it when trained from scratch; null for the type's default (zeros for biases and
     *     LayerNorm's beta, ones for its gamma)
     */
    protected final Parameter param(String name, Shape shape, Parameter.Type type, Initializer init) {
        Parameter p = addParameter(Parameter.builder().setName(name).setType(type).build());
        params.put(name, p);
        shapes.put(p, shape);
        initializers.put(p, init != null ? init : type.getInitializer());
        return p;
    }

    /** The shape a parameter must have. */
    final Shape shapeOf(Parameter p) {
        return shapes.get(p);
    }

    /** Fills every parameter below this module that has no value yet, with its initializer. */
    final void initializeParameters(ai.djl.ndarray.NDManager manager) {
        for (Parameter p : params.values()) {
            if (!p.isInitialized()) {
                NDArray a = initializers.get(p).initialize(manager, shapes.get(p), DataType.FLOAT32);
                p.setArray(a);
            }
        }
        for (VitModule m : modules.values()) {
            m.initializeParameters(manager);
        }
    }

    /** Every parameter below this module by full timm name, with the shape it must have. */
    public final LinkedHashMap<String, Shape> parameterShapes() {
        LinkedHashMap<String, Shape> out = new LinkedHashMap<>();
        collectShapes("", out);
        return out;
    }

    private void collectShapes(String prefix, Map<String, Shape> out) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            out.put(prefix + e.getKey(), shapes.get(e.getValue()));
        }
        for (Map.Entry<String, VitModule> e : modules.entrySet()) {
            e.getValue().collectShapes(prefix + e.getKey() + ".", out);
        }
    }

    /**
     * Whether every parameter below this module has a value (DJL's own check also wants recorded input shapes). Every
     * forward asks (VisionTransformer.checkInput), so it walks the tree without building the path map of
     * {@link #namedParameters()}, which had taken 0.3 % of a narrow model's forward.
     */
    @Override
    public boolean isInitialized() {
        for (Parameter p : params.values()) {
            if (!p.isInitialized()) {
                return false;
            }
        }
        for (VitModule m : modules.values()) {
            if (!m.isInitialized()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        // Parameter shapes are fixed at construction (see param); nothing to infer.
    }

    void setPath(String p) {
        this.path = p;
        for (Map.Entry<String, VitModule> e : modules.entrySet()) {
            e.getValue().setPath(p.isEmpty() ? e.getKey() : p + "." + e.getKey());
        }
    }

    @Override
    public final String path() {
        return path;
    }

    @Override
    public final List<VitModule> probedChildren() {
        return Collections.unmodifiableList(new ArrayList<>(modules.values()));
    }

    /** Every parameter below this module by its full timm name ({@code blocks.0.attn.qkv.weight}), in module order. */
    public final LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, VitModule> e : modules.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out);
        }
    }

    /** Every module below and including this one, by path relative to this one ({@code ""} for itself). */
    public final LinkedHashMap<String, VitModule> namedModules() {
        LinkedHashMap<String, VitModule> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, VitModule> out) {
        out.put(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), this);
        for (Map.Entry<String, VitModule> e : modules.entrySet()) {
            e.getValue().collectModules(prefix + e.getKey() + ".", out);
        }
    }

    /** The module's forward on one tensor. */
    abstract NDArray apply(Ctx ctx, NDArray x);

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(apply(new Ctx(parameterStore, training, x.getManager()), x));
    }

    @Override
    protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, DataType dataType, Shape... inputShapes) {
        // Every parameter's shape is fixed at construction, so children need no shape inference.
        for (VitModule m : modules.values()) {
            m.initialize(manager, dataType, inputShapes);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + (path.isEmpty() ? "root" : path) + ")";
    }
}
