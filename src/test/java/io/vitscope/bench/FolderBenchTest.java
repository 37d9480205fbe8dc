package io.vitscope.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.Prerequisites;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.engine.PackedGemm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link FolderBench} times the forward the caller set up: its prediction runs (more than one batch each, which
 * would pack the weights by default) leave a model unpacked when it came unpacked ({@code bench --folder --no-pack}),
 * so the pipeline and the forward-only variant run the same products.
 */
class FolderBenchTest {

    @Test
    void leavesTheWeightsPackedOrNotAsTheCallerSetThem() {
        Prerequisites.require(PackedGemm.available(), "MKL's packed GEMM through libvitscope_mklfix.so",
                "apt-get install gcc libc6-dev, then mvn compile");
        FolderBench.Options options = new FolderBench.Options(Path.of("src/test/resources/images"), 2, 5, 0, 2);
        for (boolean pack : new boolean[] {false, true}) {
            try (LoadedModel loaded = Models.load(null, Golden.dir("tiny/hf"))) {
                if (pack) {
                    loaded.model().packWeights();
                }
                FolderBench.Report r = new FolderBench(loaded, options).run(step -> { });
                assertEquals(2, r.ratio().length, "one ratio per round");
                if (pack) {
                    assertTrue(loaded.model().isPacked(), "packed by the caller, still packed");
                } else {
                    assertFalse(loaded.model().isPacked(), "unpacked by the caller (--no-pack): not packed behind its back");
                }
            }
        }
    }
}
