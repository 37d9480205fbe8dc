package io.vitscope.weights;

import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it, after validation.
 *
 * @param name the tensor's name, as written in the file
 * @param dtype element type stored in the file
 * @param shape dimensions, outermost first (empty for a 0-d scalar)
 * @param begin first byte of its data, relative to the start of the data section
 * @param end one past its last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a 0-d tensor). */
    public long size() {
        return Shapes.size(shape);
    }

    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.begin == begin && t.end == end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Shapes.format(shape) + " @[" + begin + ", " + end + ")";
    }
}
