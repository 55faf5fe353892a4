package io.tributary.ps.aggregate;

/**
 * Combines the accepted trainers' gradient slots of one step into one gradient. Implementations
 * preallocate their scratch for (max trainers, length) at construction and allocate nothing per
 * call; a rule with state across steps ({@link CenteredClipping}) belongs to one shard.
 */
public interface AggregationRule {

    /**
     * Writes into {@code out[0, length)} the aggregate of {@code slots[which[0]] .. slots[which[count - 1]]},
     * each read over {@code [0, length)}. The slots must hold finite values ({@link ContributionCheck}).
     *
     * @param slots  one gradient per trainer, indexed by trainer
     * @param which  the accepted trainers, in the order they are combined
     * @param count  how many entries of {@code which} are used, 1..max trainers
     * @param length the number of elements, at most the length the rule was built for
     * @param out    receives the aggregate; must not be one of the slots
     */
    void aggregate(float[][] slots, int[] which, int count, int length, float[] out);

    /** The config name of the rule ({@code tributary.trust.aggregation}). */
    String name();

    /** The rule {@code settings} name, sized for {@code maxTrainers} slots of {@code length} elements. */
    static AggregationRule create(AggregationSettings settings, int maxTrainers, int length) {
        return switch (settings.rule()) {
            case MEAN -> new Mean(maxTrainers, length);
            case TRIMMED_MEAN -> new TrimmedMean(settings.trimFraction(), maxTrainers, length);
            case MEDIAN -> new CoordinateMedian(maxTrainers, length);
            case CENTERED_CLIPPING -> new CenteredClipping(settings.clipTau(), settings.clipIterations(),
                    settings.clipMomentum(), maxTrainers, length);
        };
    }
}
