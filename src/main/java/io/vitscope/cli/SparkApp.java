package io.vitscope.cli;

/**
 * The main class of the {@code spark-submit} jar: {@code vitscope dataset} with the arguments given, on the master
 * {@code spark-submit} chose (see docs/datasets.md).
 */
public final class SparkApp {

    private SparkApp() {}

    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "dataset";
        System.arraycopy(args, 0, all, 1, args.length);
        Main.main(all);
    }
}
