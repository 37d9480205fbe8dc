package io.vitscope.weights;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * Element types of tensor files, named as safetensors names them, with their numpy equivalents.
 *
 * <p>Everything is read as float32 in the end because that is what the model computes in; the conversions live
 * here so that BF16 in particular never reaches DJL, whose PyTorch engine aborts the JVM on it.
 */
public enum DType {
    F64(8, "f8", "float64"),
    F32(4, "f4", "float32"),
    F16(2, "f2", "float16"),
    BF16(2, null, "bfloat16"),
    I64(8, "i8", "int64"),
    I32(4, "i4", "int32"),
    I16(2, "i2", "int16"),
    I8(1, "i1", "int8"),
    U64(8, "u8", "uint64"),
    U32(4, "u4", "uint32"),
    U16(2, "u2", "uint16"),
    U8(1, "u1", "uint8"),
    BOOL(1, "b1", "bool");

    private final int itemSize;
    private final String numpyCode;
    private final String numpyName;

    DType(int itemSize, String numpyCode, String numpyName) {
        this.itemSize = itemSize;
        this.numpyCode = numpyCode;
        this.numpyName = numpyName;
    }

    /** Bytes per element. */
    public int itemSize() {
        return itemSize;
    }

    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** numpy's name ({@code float32}, {@code int64}, {@code bool}, ...). */
    public String numpyName() {
        return numpyName;
    }

    /**
     * The little-endian numpy type string of a {@code .npy} header ({@code <f4}, {@code |b1}); null for BF16, which
     * numpy has no type for.
     */
    public String numpyDescr() {
        if (numpyCode == null) {
            return null;
        }
        return (itemSize == 1 ? "|" : "<") + numpyCode;
    }

    /** The safetensors name ({@code F32}, {@code BF16}), or null when there is none. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The type of a numpy type code without byte order ({@code f4}, {@code b1}), or null. */
    static DType fromNumpyCode(String code) {
        String c = code.toLowerCase(Locale.ROOT);
        for (DType t : values()) {
            if (c.equals(t.numpyCode)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Converts {@code count} elements of this type from {@code src} (little-endian, at its position) to float32
     * written to {@code dst} (little-endian, at its position); both positions advance.
     */
    void toFloat32(ByteBuffer src, ByteBuffer dst, int count) {
        switch (this) {
            case F32 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getFloat());
            }
            case F64 -> {
                for (int i = 0; i < count; i++) dst.putFloat((float) src.getDouble());
            }
            case F16 -> {
                for (int i = 0; i < count; i++) dst.putFloat(halfToFloat(src.getShort()));
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) dst.putFloat(bfloat16ToFloat(src.getShort()));
            }
            case I64 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getLong());
            }
            case I32 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getInt());
            }
            case I16 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getShort());
            }
            case I8 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.get());
            }
            case U64 -> {
                for (int i = 0; i < count; i++) dst.putFloat(unsignedLongToFloat(src.getLong()));
            }
            case U32 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getInt() & 0xFFFF_FFFFL);
            }
            case U16 -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.getShort() & 0xFFFF);
            }
            case U8, BOOL -> {
                for (int i = 0; i < count; i++) dst.putFloat(src.get() & 0xFF);
            }
        }
    }

    /** Reads one element at {@code src}'s position as a float (advancing it). */
    float readFloat(ByteBuffer src) {
        return switch (this) {
            case F32 -> src.getFloat();
            case F64 -> (float) src.getDouble();
            case F16 -> halfToFloat(src.getShort());
            case BF16 -> bfloat16ToFloat(src.getShort());
            case I64 -> src.getLong();
            case I32 -> src.getInt();
            case I16 -> src.getShort();
            case I8 -> src.get();
            case U64 -> unsignedLongToFloat(src.getLong());
            case U32 -> src.getInt() & 0xFFFF_FFFFL;
            case U16 -> src.getShort() & 0xFFFF;
            case U8, BOOL -> src.get() & 0xFF;
        };
    }

    /** Reads one element at {@code src}'s position as a double (advancing it); exact for every float type. */
    double readDouble(ByteBuffer src) {
        return switch (this) {
            case F64 -> src.getDouble();
            case U64 -> unsignedLongToDouble(src.getLong());
            default -> readFloat(src);
        };
    }

    /**
     * Reads one integer element at {@code src}'s position (advancing it). U64 values above {@code Long.MAX_VALUE}
     * come back negative, as Java's signed longs have it.
     */
    long readLong(ByteBuffer src) {
        return switch (this) {
            case I64, U64 -> src.getLong();
            case I32 -> src.getInt();
            case U32 -> src.getInt() & 0xFFFF_FFFFL;
            case I16 -> src.getShort();
            case U16 -> src.getShort() & 0xFFFF;
            case I8 -> src.get();
            case U8, BOOL -> src.get() & 0xFF;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** IEEE 754 binary16 to float32; exact (every half is a float). */
    public static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            float magnitude = mant * 0x1p-24f; // subnormal (or zero): mant × 2^-24, exact in float
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13)); // Inf, or NaN keeping its payload
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 is the upper half of a float32. */
    public static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    private static float unsignedLongToFloat(long v) {
        return (float) unsignedLongToDouble(v);
    }

    private static double unsignedLongToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }
}
