package io.tributary.trainer.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.kernels.Backend;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.data.SyntheticDataset;
import io.tributary.trainer.model.Activation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalTrainingTest {

    private static List<LocalTraining.EpochResult> train(Backend backend, OptimizerSettings opt, long seed) {
        Dataset all = SyntheticDataset.generate(3000, 32, 5, 7);
        Dataset train = all.head(2500);
        int[] rest = new int[500];
        for (int i = 0; i < rest.length; i++) {
            rest[i] = 2500 + i;
        }
        Dataset test = all.subset(rest);
        Mlp mlp = new Mlp(ModelSpec.of(Activation.Function.RELU, 32, 24, 5), backend, 50);
        mlp.initialize(seed);
        int[] steps = {0};
        LocalTraining t = new LocalTraining(mlp, opt, train, test, new TrainSettings(3, 50, seed));
        double before = t.evaluate(test);
        List<LocalTraining.EpochResult> results = t.run(new LocalTraining.Listener() {
            @Override
            public void onStep(int epoch, int batch, int batches, float loss, double sps) {
                steps[0]++;
                assertEquals(50, batches);
            }

            @Override
            public void onEpoch(LocalTraining.EpochResult r) {
            }
        });
        assertEquals(150, steps[0], "one step per batch, 3 epochs of 50 batches");
        assertTrue(before < 0.5, "an untrained model should not already be good: " + before);
        return results;
    }

    @Test
    void adamLearnsASyntheticProblemAndLossFalls() {
        try (Backend b = CpuBackend.create()) {
            List<LocalTraining.EpochResult> r = train(b, OptimizerSettings.adam(0.01f), 1);
            assertEquals(3, r.size());
            assertTrue(r.get(2).meanLoss() < r.get(0).meanLoss(), "loss falls: " + r);
            assertTrue(r.get(2).testAccuracy() > 0.9, "accuracy: " + r);
        }
    }

    @Test
    void sgdMomentumLearnsToo() {
        try (Backend b = CpuBackend.create()) {
            List<LocalTraining.EpochResult> r = train(b, OptimizerSettings.sgd(0.05f, 0.9f), 1);
            assertTrue(r.get(2).testAccuracy() > 0.9, "accuracy: " + r);
        }
    }

    @Test
    void sameSeedSameRunOnTheJavaPath() {
        try (Backend b1 = CpuBackend.javaPath(); Backend b2 = CpuBackend.javaPath()) {
            var r1 = train(b1, OptimizerSettings.adam(0.01f), 3);
            var r2 = train(b2, OptimizerSettings.adam(0.01f), 3);
            assertEquals(r1.get(2).meanLoss(), r2.get(2).meanLoss(), 0.0);
            assertEquals(r1.get(2).testAccuracy(), r2.get(2).testAccuracy(), 0.0);
        }
    }
}
