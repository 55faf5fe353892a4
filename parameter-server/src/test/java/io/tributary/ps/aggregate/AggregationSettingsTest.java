package io.tributary.ps.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.ps.aggregate.AggregationSettings.Mode;
import io.tributary.ps.aggregate.AggregationSettings.Rule;
import org.junit.jupiter.api.Test;

class AggregationSettingsTest {

    private static AggregationSettings read(String overrides) {
        Config c = ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference());
        return AggregationSettings.from(c);
    }

    @Test
    void defaultsAreTrustedMeanWithoutANormBound() {
        AggregationSettings s = read("");
        assertEquals(Mode.TRUSTED, s.mode());
        assertEquals(Rule.MEAN, s.rule());
        assertEquals(0.2f, s.trimFraction());
        assertTrue(s.autoTau());
        assertEquals(3, s.clipIterations());
        assertEquals(0f, s.clipMomentum());
        assertEquals(0.0, s.maxGradientNorm());
        assertEquals(3f, s.outlierFactor());
        assertEquals(0.3f, s.biasThreshold());
        assertEquals(10, s.biasWarmup());
        assertEquals(2.5f, read("tributary.trust.clip-tau = 2.5").clipTau());
        assertEquals(AggregationSettings.trustedMean(), s);
    }

    @Test
    void untrustedModeMakesCenteredClippingTheAutoRule() {
        assertEquals(Rule.CENTERED_CLIPPING, read("tributary.trust.mode = untrusted").rule());
        assertEquals(Rule.MEDIAN, read("tributary.trust { mode = untrusted, aggregation = median }").rule());
        assertEquals(Rule.TRIMMED_MEAN, read("tributary.trust.aggregation = trimmed-mean").rule());
        assertEquals(Rule.CENTERED_CLIPPING, read("tributary.trust.aggregation = centered-clipping").rule());
    }

    @Test
    void invalidValuesNameTheirKey() {
        String[][] cases = {
            {"tributary.trust.mode = paranoid", "tributary.trust.mode"},
            {"tributary.trust.aggregation = krum", "tributary.trust.aggregation"},
            {"tributary.trust.trim-fraction = 0.5", "tributary.trust.trim-fraction"},
            {"tributary.trust.clip-tau = 0", "tributary.trust.clip-tau"},
            {"tributary.trust.clip-iterations = 0", "tributary.trust.clip-iterations"},
            {"tributary.trust.clip-momentum = 1", "tributary.trust.clip-momentum"},
            {"tributary.trust.clip-tau = -3", "tributary.trust.clip-tau"},
            {"tributary.trust.clip-tau = sometimes", "clip-tau"},
            {"tributary.trust.max-gradient-norm = -1", "tributary.trust.max-gradient-norm"},
            {"tributary.trust.outlier-factor = 0.5", "tributary.trust.outlier-factor"},
            {"tributary.trust.bias-threshold = 1.5", "tributary.trust.bias-threshold"},
            {"tributary.trust.bias-warmup = 0", "tributary.trust.bias-warmup"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void theFactoryBuildsTheConfiguredRule() {
        AggregationSettings s = AggregationSettings.trustedMean();
        for (Rule r : Rule.values()) {
            assertEquals(r.configName(), AggregationRule.create(s.withRule(r), 5, 10).name());
        }
    }
}
