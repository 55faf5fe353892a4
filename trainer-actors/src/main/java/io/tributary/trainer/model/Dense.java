package io.tributary.trainer.model;

import io.tributary.kernels.Backend;
import io.tributary.kernels.Tensor;
import java.util.SplittableRandom;

/**
 * A fully connected layer {@code Y = X·W + b}. Parameter layout in its slice: W as an
 * {@code in × out} row-major matrix, then b ({@code out} values).
 */
public final class Dense implements Layer {

    private final int in;
    private final int out;
    private Backend backend;
    private Tensor weights;
    private Tensor bias;
    private Tensor weightGrad;
    private Tensor biasGrad;
    private BatchViews output;
    private BatchViews inputGrad;
    private Tensor lastInput;

    public Dense(int in, int out) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("dense layer sizes must be >= 1, got " + in + "x" + out);
        }
        this.in = in;
        this.out = out;
    }

    @Override
    public int inputSize() {
        return in;
    }

    @Override
    public int outputSize() {
        return out;
    }

    @Override
    public int parameterCount() {
        return in * out + out;
    }

    @Override
    public void bind(Backend b, Tensor params, Tensor grads, int maxBatch) {
        this.backend = b;
        this.weights = params.slice(0, in * out);
        this.bias = params.slice(in * out, out);
        this.weightGrad = grads.slice(0, in * out);
        this.biasGrad = grads.slice(in * out, out);
        this.output = new BatchViews(b.allocate(maxBatch * out), out, maxBatch);
        this.inputGrad = new BatchViews(b.allocate(maxBatch * in), in, maxBatch);
    }

    /** He (Kaiming) uniform initialisation for ReLU networks; biases start at zero. */
    @Override
    public void free() {
        output.free(backend);
        inputGrad.free(backend);
    }

    @Override
    public void initialize(float[] host, int offset, SplittableRandom random) {
        double limit = Math.sqrt(6.0 / in);
        for (int i = 0; i < in * out; i++) {
            host[offset + i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        }
        for (int i = 0; i < out; i++) {
            host[offset + in * out + i] = 0f;
        }
    }

    @Override
    public Tensor forward(Tensor input, int batch) {
        lastInput = input;
        Tensor y = output.rows(batch);
        backend.gemm(false, false, batch, out, in, 1f, input, weights, 0f, y);
        backend.addRowVector(batch, out, bias, y);
        return y;
    }

    @Override
    public Tensor backward(Tensor gradOutput, int batch, boolean needInputGradient) {
        // dW = X^T · dY, db = column sums of dY, dX = dY · W^T
        backend.gemm(true, false, in, out, batch, 1f, lastInput, gradOutput, 0f, weightGrad);
        backend.columnSums(batch, out, gradOutput, biasGrad);
        if (!needInputGradient) {
            return null;
        }
        Tensor dx = inputGrad.rows(batch);
        backend.gemm(false, true, batch, in, out, 1f, gradOutput, weights, 0f, dx);
        return dx;
    }
}
