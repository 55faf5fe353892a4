package io.tributary.ps.aggregate;

import java.util.Arrays;

/** Straightforward float64 versions of the rules, to hold the float32 ones against. */
final class Reference {

    private Reference() {
    }

    private static double[] column(AggregationRulesTest.Case c, int i) {
        double[] col = new double[c.count()];
        for (int t = 0; t < c.count(); t++) {
            col[t] = c.slots()[c.which()[t]][i];
        }
        Arrays.sort(col);
        return col;
    }

    static double[] mean(AggregationRulesTest.Case c) {
        return trimmedMean(c, 0);
    }

    static double[] trimmedMean(AggregationRulesTest.Case c, int k) {
        double[] out = new double[c.length()];
        for (int i = 0; i < out.length; i++) {
            double[] col = column(c, i);
            double s = 0;
            for (int t = k; t < col.length - k; t++) {
                s += col[t];
            }
            out[i] = s / (col.length - 2 * k);
        }
        return out;
    }

    static double[] median(AggregationRulesTest.Case c) {
        double[] out = new double[c.length()];
        for (int i = 0; i < out.length; i++) {
            double[] col = column(c, i);
            int m = col.length / 2;
            out[i] = col.length % 2 == 1 ? col[m] : (col[m - 1] + col[m]) / 2;
        }
        return out;
    }

    /** Centered clipping with per-trainer momentum and the previous aggregate as the start, in float64. */
    static final class Clipping {
        private final double tau;
        private final int iterations;
        private final double momentum;
        private final double[][] momenta;
        private final boolean[] started;
        private final double[] previous;

        Clipping(double tau, int iterations, double momentum, int maxTrainers, int length) {
            this.tau = tau;
            this.iterations = iterations;
            this.momentum = momentum;
            this.momenta = new double[maxTrainers][length];
            this.started = new boolean[maxTrainers];
            this.previous = new double[length];
        }

        double[] step(AggregationRulesTest.Case c) {
            int n = c.length();
            for (int t = 0; t < c.count(); t++) {
                int trainer = c.which()[t];
                double keep = started[trainer] ? momentum : 0;
                for (int i = 0; i < n; i++) {
                    momenta[trainer][i] = keep * momenta[trainer][i] + (1 - keep) * c.slots()[trainer][i];
                }
                started[trainer] = true;
            }
            double[] v = previous.clone();
            for (int it = 0; it < iterations; it++) {
                double[] move = new double[n];
                double[] dist = new double[c.count()];
                for (int t = 0; t < c.count(); t++) {
                    double[] m = momenta[c.which()[t]];
                    for (int i = 0; i < n; i++) {
                        dist[t] += (m[i] - v[i]) * (m[i] - v[i]);
                    }
                    dist[t] = Math.sqrt(dist[t]);
                }
                double[] sorted = dist.clone();
                java.util.Arrays.sort(sorted);
                double radius = tau == 0 ? sorted[(sorted.length - 1) / 2] : tau;
                for (int t = 0; t < c.count(); t++) {
                    double[] m = momenta[c.which()[t]];
                    double d = dist[t];
                    double f = d > radius ? radius / d : 1;
                    for (int i = 0; i < n; i++) {
                        move[i] += f * (m[i] - v[i]) / c.count();
                    }
                }
                for (int i = 0; i < n; i++) {
                    v[i] += move[i];
                }
            }
            System.arraycopy(v, 0, previous, 0, n);
            return v;
        }
    }

    static double norm(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    static double distance(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }
}
