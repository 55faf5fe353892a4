package io.tributary.coordinator;

import io.tributary.kernels.Backend;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.model.Evaluation;
import io.tributary.trainer.model.ModelShape;
import io.tributary.trainer.model.TrainableModel;
import java.util.function.Supplier;

/**
 * The coordinator's own copy of the model, for measuring it on the test (validation) set: its
 * backend, model and the set are made at the first evaluation (a coordinator that never evaluates
 * loads nothing). Accuracy for every model; the mean loss too for the GPT (per character), whose
 * quality is its loss.
 */
final class Evaluator implements AutoCloseable {

    /** Test samples evaluated at once. */
    static final int EVAL_BATCH = 500;
    /** Windows evaluated at once for a sequence model (each is a whole context of positions). */
    static final int SEQUENCE_EVAL_BATCH = 32;

    private final Supplier<Backend> backends;
    private final ModelShape spec;
    private final Supplier<Dataset> testSets;
    private Backend backend;
    private TrainableModel model;
    private Dataset test;
    private double lastLoss = Double.NaN;

    Evaluator(Supplier<Backend> backends, ModelShape spec, Supplier<Dataset> testSets) {
        this.backends = backends;
        this.spec = spec;
        this.testSets = testSets;
    }

    /** Whether {@link #lastLoss} is measured (sequence models). */
    boolean measuresLoss() {
        return spec.labelsPerSample() > 1;
    }

    /** Test accuracy of the model with these parameters (the whole flat vector); also the loss where measured. */
    double accuracy(float[] parameters) {
        if (model == null) {
            backend = backends.get();
            test = testSets.get();
            model = spec.build(backend, measuresLoss() ? SEQUENCE_EVAL_BATCH : EVAL_BATCH);
        }
        backend.upload(parameters, 0, model.parameters());
        if (measuresLoss()) {
            lastLoss = Evaluation.loss(model, test);
        }
        return Evaluation.accuracy(model, test);
    }

    /** The mean test loss of the last {@link #accuracy} call (NaN where not measured). */
    double lastLoss() {
        return lastLoss;
    }

    @Override
    public void close() {
        if (backend != null) {
            backend.close();
        }
    }
}
