package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import io.vitscope.weights.Shapes;
import io.vitscope.weights.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Lazy tensor transforms the layouts are written with: rename, permute-and-reshape, concatenate along dim 0. None
 * reads data until the model asks for it.
 */
final class Tensors {

    private Tensors() {}

    /** The same data under another name. */
    static TensorSource renamed(String name, TensorSource source) {
        if (source.name().equals(name)) {
            return source;
        }
        return TensorSource.derived(name, source.shape(), source.file(),
                name + " " + Shapes.format(source.shape()) + " <- " + source.name(), source::readInto);
    }

    /**
     * {@code source.permute(perm).reshape(outShape)}, as numpy's {@code transpose} followed by a row-major reshape.
     *
     * @throws InvalidInputException when the source's rank is not the permutation's, or the element counts differ
     */
    static TensorSource permuted(String name, TensorSource source, int[] perm, long[] outShape) {
        long[] in = source.shape();
        if (in.length != perm.length) {
            throw new InvalidInputException(source.file(), "tensor '" + source.name() + "' " + Shapes.format(in)
                    + " should have rank " + perm.length + " to become " + name);
        }
        if (Shapes.size(in) != Shapes.size(outShape)) {
            throw new InvalidInputException(source.file(), "tensor '" + source.name() + "' " + Shapes.format(in)
                    + " cannot become " + name + " " + Shapes.format(outShape));
        }
        int[] p = perm.clone();
        long[] out = outShape.clone();
        String description = name + " " + Shapes.format(out) + " = " + source.name() + ".transpose("
                + Arrays.toString(p) + ")";
        return TensorSource.derived(name, out, source.file(), description, dst -> {
            FloatBuffer src = source.readFloats();
            int rank = in.length;
            long[] inStride = new long[rank];
            long s = 1;
            for (int d = rank - 1; d >= 0; d--) {
                inStride[d] = s;
                s *= in[d];
            }
            long[] permShape = new long[rank];
            long[] permStride = new long[rank];
            for (int d = 0; d < rank; d++) {
                permShape[d] = in[p[d]];
                permStride[d] = inStride[p[d]];
            }
            ByteBuffer le = dst.order() == ByteOrder.LITTLE_ENDIAN ? dst : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long n = Shapes.size(in);
            long[] idx = new long[rank];
            long pos = 0;
            for (long i = 0; i < n; i++) {
                le.putFloat(src.get((int) pos));
                for (int d = rank - 1; d >= 0; d--) {
                    idx[d]++;
                    pos += permStride[d];
                    if (idx[d] < permShape[d]) {
                        break;
                    }
                    pos -= idx[d] * permStride[d];
                    idx[d] = 0;
                }
            }
            if (le != dst) {
                dst.position(le.position());
            }
        });
    }

    /** The parts (each already in its final layout) stacked along dim 0 into {@code outShape}. */
    static TensorSource concat(String name, List<TensorSource> parts, long[] outShape) {
        long total = 0;
        for (TensorSource t : parts) {
            total += t.size();
        }
        if (total != Shapes.size(outShape)) {
            throw new InvalidInputException(parts.get(0).file(), name + " " + Shapes.format(outShape) + " cannot be "
                    + "stacked from " + parts.stream().map(t -> t.name() + " " + Shapes.format(t.shape())).toList());
        }
        List<TensorSource> list = List.copyOf(parts);
        return TensorSource.derived(name, outShape, list.get(0).file(),
                name + " " + Shapes.format(outShape) + " = cat(" + list.stream().map(TensorSource::name).toList() + ")",
                dst -> list.forEach(t -> t.readInto(dst)));
    }
}
