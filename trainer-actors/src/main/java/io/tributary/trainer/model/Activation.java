package io.tributary.trainer.model;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/** An element-wise non-linearity: ReLU, sigmoid or tanh. */
public final class Activation implements Layer {

    /** The supported functions. */
    public enum Function {
        RELU, SIGMOID, TANH;

        /** Parses a config value, naming the valid ones on a bad value. */
        public static Function parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown activation '" + value + "': use relu, sigmoid or tanh", e);
            }
        }
    }

    private final Function function;
    private final int size;
    private Backend backend;
    private BatchViews output;
    private BatchViews inputGrad;
    private Tensor lastInput;
    private Tensor lastOutput;

    public Activation(Function function, int size) {
        this.function = function;
        this.size = size;
    }

    @Override
    public int inputSize() {
        return size;
    }

    @Override
    public int outputSize() {
        return size;
    }

    @Override
    public int parameterCount() {
        return 0;
    }

    @Override
    public void bind(Backend b, Tensor params, Tensor grads, int maxBatch) {
        this.backend = b;
        this.output = new BatchViews(b.allocate(maxBatch * size), size, maxBatch);
        this.inputGrad = new BatchViews(b.allocate(maxBatch * size), size, maxBatch);
    }

    @Override
    public void free() {
        output.free(backend);
        inputGrad.free(backend);
    }

    @Override
    public void initialize(float[] host, int offset, SplittableRandom random) {
        // no parameters
    }

    @Override
    public Tensor forward(Tensor input, int batch) {
        lastInput = input;
        Tensor y = output.rows(batch);
        switch (function) {
            case RELU -> backend.relu(input, y);
            case SIGMOID -> backend.sigmoid(input, y);
            case TANH -> backend.tanh(input, y);
        }
        lastOutput = y;
        return y;
    }

    @Override
    public Tensor backward(Tensor gradOutput, int batch, boolean needInputGradient) {
        if (!needInputGradient) {
            return null;
        }
        Tensor dx = inputGrad.rows(batch);
        switch (function) {
            case RELU -> backend.reluBackward(lastInput, gradOutput, dx);
            case SIGMOID -> backend.sigmoidBackward(lastOutput, gradOutput, dx);
            case TANH -> backend.tanhBackward(lastOutput, gradOutput, dx);
        }
        return dx;
    }
}
