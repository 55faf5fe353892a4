package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AttackTest {

    @Test
    void eachAttackCorruptsAsNamed() {
        float[] g = {1f, -2f};
        Attack.SIGN_FLIP_SCALE.corruptor(2).apply(g);
        assertArrayEquals(new float[] {-100f, 200f}, g);
        Attack.NONE.corruptor(2).apply(g);
        assertArrayEquals(new float[] {-100f, 200f}, g);
        Attack.SIGN_FLIP.corruptor(2).apply(g);
        assertArrayEquals(new float[] {100f, -200f}, g);
        Attack.NAN.corruptor(2).apply(g);
        assertTrue(Float.isNaN(g[0]) && Float.isNaN(g[1]));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Attack.parse("gaslight")).getMessage()
                .contains("little-is-enough"));
        assertEquals(Attack.LITTLE_IS_ENOUGH, Attack.parse("little-is-enough"));
    }

    @Test
    void littleIsEnoughSendsTheRunningMeanLessZSpreads() {
        // gradients: coordinate 0 around 1 with spread 0.5, coordinate 1 constant 3
        Attack.Corruptor c = Attack.LITTLE_IS_ENOUGH.corruptor(2, 1.0f);
        Random random = new Random(7);
        float[] g = new float[2];
        for (int step = 0; step < 400; step++) {
            g[0] = 1f + (float) (0.5 * random.nextGaussian());
            g[1] = 3f;
            c.apply(g);
        }
        // after many steps: about mean - z * sigma = 1 - 0.5 in coordinate 0, exactly 3 in coordinate 1
        assertEquals(1f - 1.0f * 0.5f, g[0], 0.25f);
        assertEquals(3f, g[1], 1e-3f);
    }

    @Test
    void innerProductSendsMinusHalfTheRunningMean() {
        Attack.Corruptor c = Attack.parse("inner-product").corruptor(2);
        float[] g = {2f, -4f};
        c.apply(g); // the first step: the mean is the gradient itself
        assertEquals(-1f, g[0], 1e-6f);
        assertEquals(2f, g[1], 1e-6f);
        g[0] = 12f;
        g[1] = -4f;
        c.apply(g); // mean 0.9 * 2 + 0.1 * 12 = 3, then -0.5 x 3
        assertEquals(-1.5f, g[0], 1e-5f);
        assertEquals(2f, g[1], 1e-5f);
    }

    @Test
    void theDefaultZIsThePapersForFiveTrainersAndOneAttacker() {
        // s = floor(5/2 + 1) - 1 = 2, z = Phi^-1(3/5)
        assertEquals(0.2533, Attack.paperZ(5, 1), 1e-4);
        assertEquals(0.0, Attack.inverseNormal(0.5), 1e-9);
        assertEquals(1.6449, Attack.inverseNormal(0.95), 1e-4);
    }
}
