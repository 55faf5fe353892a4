package io.tributary.ps.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.protocol.ConsistencyPolicy;
import io.tributary.ps.optim.OptimizerSettings;
import io.tributary.wire.Encoding;
import org.junit.jupiter.api.Test;

/** The policy, the rounds, the outer optimizer and the parameter encoding, read from configuration. */
class ShardSettingsTest {

    private static ShardSettings read(String hocon) {
        return ShardSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
    }

    @Test
    void syncKeepsTheConfiguredOptimizerAndOneStepPerStep() {
        ShardSettings s = read("tributary.consistency.policy = sync\ntributary.consistency.inner-steps = 30");
        assertEquals(ConsistencyPolicy.SYNC, s.policy());
        assertEquals(1, s.innerSteps(), "inner steps mean nothing outside local SGD");
        assertEquals(OptimizerSettings.Type.ADAM, s.optimizer().type());
        assertEquals(Encoding.FLOAT32, s.parameterEncoding());
    }

    @Test
    void localSgdTakesItsRoundsAndTheOuterNesterovOptimizer() {
        ShardSettings s = read("tributary.consistency.policy = local-sgd\ntributary.consistency.inner-steps = 30\n"
                + "tributary.consistency.outer-learning-rate = 0.5\ntributary.consistency.outer-momentum = 0.8\n"
                + "tributary.data-plane.parameter-encoding = bfloat16");
        assertEquals(ConsistencyPolicy.LOCAL_SGD, s.policy());
        assertTrue(s.policy().synchronous(), "a round closes like a sync step");
        assertEquals(30, s.innerSteps());
        assertEquals(OptimizerSettings.Type.NESTEROV, s.optimizer().type());
        assertEquals(0.5f, s.optimizer().learningRate());
        assertEquals(0.8f, s.optimizer().momentum());
        assertEquals(Encoding.BFLOAT16, s.parameterEncoding());
    }

    @Test
    void badValuesNameTheirKey() {
        IllegalArgumentException rounds = assertThrows(IllegalArgumentException.class,
                () -> read("tributary.consistency.policy = local-sgd\ntributary.consistency.inner-steps = 0"));
        assertTrue(rounds.getMessage().contains("tributary.consistency.inner-steps"), rounds.getMessage());
        IllegalArgumentException outer = assertThrows(IllegalArgumentException.class,
                () -> read("tributary.consistency.policy = local-sgd\ntributary.consistency.outer-momentum = 1.0"));
        assertTrue(outer.getMessage().contains("tributary.consistency.outer-momentum"), outer.getMessage());
        IllegalArgumentException encoding = assertThrows(IllegalArgumentException.class,
                () -> read("tributary.data-plane.parameter-encoding = int4"));
        assertTrue(encoding.getMessage().contains("tributary.data-plane.parameter-encoding")
                && encoding.getMessage().contains("int8"), encoding.getMessage());
        IllegalArgumentException policy = assertThrows(IllegalArgumentException.class,
                () -> read("tributary.consistency.policy = diloco"));
        assertTrue(policy.getMessage().contains("local-sgd"), policy.getMessage());
    }

    @Test
    void everyNodeReadsTheSameGradientEncodingKey() {
        Config c = ConfigFactory.parseString("tributary.data-plane.gradient-encoding = float16")
                .withFallback(ConfigFactory.load());
        assertEquals(Encoding.FLOAT16, ShardSettings.encoding(c, "tributary.data-plane.gradient-encoding"));
    }
}
