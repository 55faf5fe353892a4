package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The one vector shape of this package: the widest the CPU runs well, chosen once. */
final class Lanes {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Lanes() {
    }
}
