package io.tributary.coordinator;

import io.tributary.kernels.Backend;
import io.tributary.trainer.data.Dataset;
import io.tributary.trainer.model.Evaluation;
import io.tributary.trainer.model.Mlp;
import io.tributary.trainer.model.ModelSpec;
import java.util.function.Supplier;

/**
 * The coordinator's own copy of the model, for measuring test accuracy: its backend, model and the
 * test set are made at the first evaluation (a coordinator that never evaluates loads nothing).
 */
final class Evaluator implements AutoCloseable {

    /** Test samples evaluated at once. */
    static final int EVAL_BATCH = 500;

    private final Supplier<Backend> backends;
    private final ModelSpec spec;
    private final Supplier<Dataset> testSets;
    private Backend backend;
    private Mlp model;
    private Dataset test;

    Evaluator(Supplier<Backend> backends, ModelSpec spec, Supplier<Dataset> testSets) {
        this.backends = backends;
        this.spec = spec;
        this.testSets = testSets;
    }

    /** Test accuracy of the model with these parameters (the whole flat vector). */
    double accuracy(float[] parameters) {
        if (model == null) {
            backend = backends.get();
            test = testSets.get();
            model = new Mlp(spec, backend, EVAL_BATCH);
        }
        backend.upload(parameters, 0, model.parameters());
        return Evaluation.accuracy(model, test);
    }

    @Override
    public void close() {
        if (backend != null) {
            backend.close();
        }
    }
}
