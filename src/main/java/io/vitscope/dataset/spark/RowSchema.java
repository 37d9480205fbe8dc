package io.vitscope.dataset.spark;

import io.vitscope.dataset.DatasetRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The Parquet schema of {@code predictions/} and the conversions between its rows and {@link DatasetRow}s. */
public final class RowSchema {

    private static final DataType FLOATS = DataTypes.createArrayType(DataTypes.FloatType, false);
    private static final DataType FLOAT_TABLE = DataTypes.createArrayType(FLOATS, false);

    private RowSchema() {}

    /** The columns, with one {@code attention_block<i>} column per block in {@code attentionBlocks}. */
    public static StructType of(int[] attentionBlocks) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("path", DataTypes.StringType, false),
                DataTypes.createStructField("sha256", DataTypes.StringType, true),
                DataTypes.createStructField("factor", DataTypes.DoubleType, false),
                DataTypes.createStructField("top_index", DataTypes.createArrayType(DataTypes.IntegerType, false), true),
                DataTypes.createStructField("top_label", DataTypes.createArrayType(DataTypes.StringType, false), true),
                DataTypes.createStructField("top_prob", FLOATS, true),
                DataTypes.createStructField("label", DataTypes.IntegerType, true),
                DataTypes.createStructField("entropy", FLOAT_TABLE, true),
                DataTypes.createStructField("error", DataTypes.StringType, true)));
        for (int b : attentionBlocks) {
            f.add(DataTypes.createStructField(attentionColumn(b), FLOAT_TABLE, true));
        }
        return DataTypes.createStructType(f);
    }

    public static String attentionColumn(int block) {
        return "attention_block" + block;
    }

    /** A row of {@link #of}({@code attentionBlocks}); an error row has nulls in the attention columns. */
    public static Row toRow(DatasetRow r, int attentionBlocks) {
        List<Object> v = new ArrayList<>(Arrays.asList(r.path(), r.sha256(), r.factor(),
                r.topIndex() == null ? null : seq(Arrays.stream(r.topIndex()).boxed().toList()),
                r.topLabel() == null ? null : seq(List.of(r.topLabel())),
                floats(r.topProb()), r.label(), table(r.entropy()), r.error()));
        for (int i = 0; i < attentionBlocks; i++) {
            v.add(r.attention() == null ? null : table(r.attention().get(i)));
        }
        return RowFactory.create(v.toArray());
    }

    /** A row read back from the Parquet; {@code attentionBlocks} as written. */
    public static DatasetRow fromRow(Row row, int[] attentionBlocks) {
        boolean ok = row.isNullAt(row.fieldIndex("error"));
        List<float[][]> attention = null;
        if (ok) {
            attention = new ArrayList<>();
            for (int b : attentionBlocks) {
                attention.add(toTable(row.getList(row.fieldIndex(attentionColumn(b)))));
            }
        }
        int label = row.fieldIndex("label");
        return new DatasetRow(row.getString(row.fieldIndex("path")), row.getString(row.fieldIndex("sha256")),
                row.getDouble(row.fieldIndex("factor")),
                ok ? row.<Integer>getList(row.fieldIndex("top_index")).stream().mapToInt(Integer::intValue).toArray()
                        : null,
                ok ? row.<String>getList(row.fieldIndex("top_label")).toArray(String[]::new) : null,
                ok ? toFloats(row.getList(row.fieldIndex("top_prob"))) : null,
                row.isNullAt(label) ? null : row.getInt(label),
                ok ? toTable(row.getList(row.fieldIndex("entropy"))) : null,
                attention, row.getString(row.fieldIndex("error")));
    }

    /** Spark's row encoder takes Scala sequences for array columns. */
    private static <T> scala.collection.Seq<T> seq(List<T> list) {
        return scala.jdk.javaapi.CollectionConverters.asScala(list);
    }

    private static scala.collection.Seq<Float> floats(float[] a) {
        if (a == null) {
            return null;
        }
        List<Float> out = new ArrayList<>(a.length);
        for (float x : a) {
            out.add(x);
        }
        return seq(out);
    }

    private static scala.collection.Seq<scala.collection.Seq<Float>> table(float[][] a) {
        if (a == null) {
            return null;
        }
        List<scala.collection.Seq<Float>> out = new ArrayList<>(a.length);
        for (float[] r : a) {
            out.add(floats(r));
        }
        return seq(out);
    }

    private static float[] toFloats(List<?> list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) list.get(i)).floatValue();
        }
        return out;
    }

    /** A nested array as Spark hands it back: a list of Scala sequences. */
    private static float[][] toTable(List<?> rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            Object r = rows.get(i);
            List<?> inner = r instanceof List<?> l ? l
                    : scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) r);
            out[i] = toFloats(inner);
        }
        return out;
    }
}
