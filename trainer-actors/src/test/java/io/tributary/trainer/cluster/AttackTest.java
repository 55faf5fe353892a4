package io.tributary.trainer.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AttackTest {

    @Test
    void eachAttackCorruptsAsNamed() {
        float[] g = {1f, -2f};
        Attack.SIGN_FLIP_SCALE.apply(g);
        assertArrayEquals(new float[] {-100f, 200f}, g);
        Attack.NONE.apply(g);
        assertArrayEquals(new float[] {-100f, 200f}, g);
        Attack.NAN.apply(g);
        assertTrue(Float.isNaN(g[0]) && Float.isNaN(g[1]));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Attack.parse("gaslight")).getMessage()
                .contains("tributary.trainer.attack"));
    }
}
