package io.tributary.ps.aggregate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The one vector shape of this package: the widest the CPU runs well, chosen once. */
final class Lanes {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Lanes() {
    }

    /** {@code sum (a - b)^2} over {@code [start, end)}: float lanes, then double. Keep blocks short (about 1024). */
    static double distanceSq(float[] a, float[] b, int start, int end) {
        int vectorEnd = start + S.loopBound(end - start);
        FloatVector acc = FloatVector.zero(S);
        int i = start;
        for (; i < vectorEnd; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, a, i).sub(FloatVector.fromArray(S, b, i));
            acc = d.fma(d, acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return s;
    }
}
