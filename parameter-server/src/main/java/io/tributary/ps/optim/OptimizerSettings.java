package io.tributary.ps.optim;

import com.typesafe.config.Config;
import java.util.Locale;

/**
 * Optimizer configuration, read once from {@code tributary.optimizer} and validated.
 *
 * @param type          {@code adam}, {@code adamw}, {@code sgd} or {@code nesterov}
 * @param learningRate  step size, &gt; 0
 * @param momentum      SGD momentum in [0, 1)
 * @param beta1         Adam first-moment decay in [0, 1)
 * @param beta2         Adam second-moment decay in [0, 1)
 * @param epsilon       Adam denominator guard, &gt; 0
 * @param weightDecay   L2 weight decay (SGD), decoupled weight decay (AdamW), &gt;= 0
 */
public record OptimizerSettings(Type type, float learningRate, float momentum, float beta1, float beta2,
                                float epsilon, float weightDecay) {

    /**
     * The optimizers a shard (or, under local SGD, a trainer) can apply: Adam, AdamW (decoupled weight
     * decay), SGD with heavy-ball momentum, SGD with Nesterov momentum.
     */
    public enum Type { ADAM, ADAMW, SGD, NESTEROV }

    public OptimizerSettings {
        require(learningRate > 0 && Float.isFinite(learningRate), "learning-rate", learningRate, "a finite number > 0");
        require(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)");
        require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
        require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
        require(epsilon > 0, "epsilon", epsilon, "> 0");
        require(weightDecay >= 0, "weight-decay", weightDecay, ">= 0");
    }

    private static void require(boolean ok, String key, float value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("tributary.optimizer." + key + " = " + value + " is invalid: it must be " + rule);
        }
    }

    /** Reads the {@code tributary.optimizer} block. */
    public static OptimizerSettings from(Config root) {
        Config c = root.getConfig("tributary.optimizer");
        String type = c.getString("type");
        Type t;
        try {
            t = Type.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tributary.optimizer.type = '" + type + "' is unknown: use adam, adamw, sgd or nesterov", e);
        }
        return new OptimizerSettings(t, (float) c.getDouble("learning-rate"), (float) c.getDouble("momentum"),
                (float) c.getDouble("beta1"), (float) c.getDouble("beta2"), (float) c.getDouble("epsilon"),
                (float) c.getDouble("weight-decay"));
    }

    /** Adam with the usual defaults at the given learning rate. */
    public static OptimizerSettings adam(float learningRate) {
        return new OptimizerSettings(Type.ADAM, learningRate, 0.9f, 0.9f, 0.999f, 1e-8f, 0f);
    }

    /** SGD with Nesterov momentum (local SGD's outer optimizer). */
    public static OptimizerSettings nesterov(float learningRate, float momentum) {
        return new OptimizerSettings(Type.NESTEROV, learningRate, momentum, 0.9f, 0.999f, 1e-8f, 0f);
    }

    /** Its name in configuration. */
    public String typeName() {
        return type.name().toLowerCase(Locale.ROOT);
    }

    /** SGD with momentum. */
    public static OptimizerSettings sgd(float learningRate, float momentum) {
        return new OptimizerSettings(Type.SGD, learningRate, momentum, 0.9f, 0.999f, 1e-8f, 0f);
    }
}
