package io.tributary.ps.shard;

import io.tributary.kernels.Tensor;
import io.tributary.kernels.cpu.CpuBackend;
import io.tributary.ps.aggregate.AggregationRule;
import io.tributary.ps.aggregate.AggregationSettings;
import io.tributary.ps.aggregate.BiasScreen;
import io.tributary.ps.aggregate.ContributionCheck;
import io.tributary.ps.aggregate.OutlierScreen;
import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.FloatChecksum;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;

/**
 * How a shard turns the trainers' gradient slots of one step into one update: each slot is checked
 * ({@link ContributionCheck}: finite, norm-bounded), trainers the {@link BiasScreen} suspects are
 * left out, the rest are combined by the configured {@link AggregationRule}, then the
 * {@link OutlierScreen} names the slices far from the aggregate and the bias screen follows each
 * trainer's deviation. All scratch space is allocated here, once; a step allocates only the
 * verdicts it reports.
 */
final class StepAggregation {

    /** Rejections are logged at most once per this many steps (versions), with the count since the last line. */
    static final long REJECTION_LOG_INTERVAL = 100;

    /** What closing a step found: each contributor's CRC32, the rejected and the outlying trainers. */
    record Verdicts(Map<Integer, Long> checksums, Set<Integer> rejected, Set<Integer> outliers, boolean aggregated) {
    }

    private final int shard;
    private final ContributionSlots slots;
    private final Logger log;
    private final float biasThreshold;
    private final float[][] slotArrays;
    private final Tensor[] slotTensors;
    private final float[] gradArray;
    private final Tensor gradient;
    private final int[] accepted;
    private final int[] suspects;
    private final boolean[] outlier;
    private final ContributionCheck check;
    private final AggregationRule rule;
    private final OutlierScreen outliers;
    private final BiasScreen bias;
    private final FloatChecksum checksum = new FloatChecksum();
    private long rejectedSinceLog;
    private long lastRejectionLog = Long.MIN_VALUE;

    StepAggregation(int shard, ShardSettings settings, ContributionSlots slots, Logger log) {
        this.shard = shard;
        this.slots = slots;
        this.log = log;
        int maxTrainers = settings.maxTrainers();
        int length = slots.length();
        AggregationSettings trust = settings.trust();
        boolean robust = trust.rule() != AggregationSettings.Rule.MEAN;
        this.biasThreshold = trust.biasThreshold();
        this.slotArrays = new float[maxTrainers][];
        this.slotTensors = new Tensor[maxTrainers];
        for (int t = 0; t < maxTrainers; t++) {
            slotArrays[t] = slots.slot(t);
            slotTensors[t] = CpuBackend.wrap(slotArrays[t]);
        }
        this.gradArray = new float[length];
        this.gradient = CpuBackend.wrap(gradArray);
        this.accepted = new int[maxTrainers];
        this.suspects = new int[maxTrainers];
        this.outlier = new boolean[maxTrainers];
        this.check = new ContributionCheck(trust.maxGradientNorm());
        this.rule = AggregationRule.create(trust, maxTrainers, length);
        this.outliers = new OutlierScreen(robust ? trust.outlierFactor() : 0f, maxTrainers);
        this.bias = new BiasScreen(robust ? trust.biasThreshold() : 0f, trust.biasWarmup(), maxTrainers, length);
    }

    /** The rule's name, for the log. */
    String ruleName() {
        return rule.name();
    }

    /** The aggregate of the last step closed (what the optimizer applies). */
    Tensor gradient() {
        return gradient;
    }

    /** A trainer's slot as a tensor (bounded staleness applies it on its own). */
    Tensor slot(int trainer) {
        return slotTensors[trainer];
    }

    /** CRC32 of a trainer's slot as it stands (what the trainer reported it sent). */
    long checksum(int trainer) {
        return checksum.of(slots.slot(trainer), 0, slots.length());
    }

    /** Trainer {@code trainer} left the quorum: its slot may go to another, its bias history goes. */
    void forget(int trainer) {
        bias.reset(trainer);
    }

    /**
     * Closes a sync step over the slots of {@code ready} (in arrival order): checks, aggregates, calls
     * {@code update} once with the aggregate in {@link #gradient()} when any slot was accepted, then
     * screens; every slot is released.
     */
    Verdicts close(List<Integer> ready, long step, Runnable update) {
        Map<Integer, Long> checksums = new HashMap<>();
        Set<Integer> rejected = new HashSet<>(2);
        int acceptedCount = 0;
        int suspectCount = 0;
        for (int t : ready) {
            checksums.put(t, checksum(t));
            if (admit(t, step)) {
                if (bias.suspect(t)) {
                    // left out of the aggregate, but still screened against it (kept until then)
                    suspects[suspectCount++] = t;
                    rejected.add(t);
                } else {
                    accepted[acceptedCount++] = t;
                }
            } else {
                rejected.add(t);
                slots.release(t);
            }
        }
        if (acceptedCount > 0) {
            // in arrival order: with the mean rule, the same float operations as summing slot by slot
            rule.aggregate(slotArrays, accepted, acceptedCount, slots.length(), gradArray);
            update.run();
        }
        Set<Integer> outlying = Set.of();
        if (acceptedCount > 0 && outliers.screen(slotArrays, accepted, acceptedCount, slots.length(), gradArray, outlier) > 0) {
            outlying = new HashSet<>(2);
            for (int i = 0; i < acceptedCount; i++) {
                if (outlier[i]) {
                    outlying.add(accepted[i]);
                }
            }
        }
        if (bias.enabled() && acceptedCount >= 3) {
            screenBias(acceptedCount, suspectCount, step);
        }
        for (int i = 0; i < acceptedCount; i++) {
            slots.release(accepted[i]);
        }
        for (int i = 0; i < suspectCount; i++) {
            slots.release(suspects[i]);
        }
        return new Verdicts(checksums, rejected, outlying, acceptedCount > 0);
    }

    /**
     * Runs the contribution check on a trainer's completed slot; a rejection is counted and logged at
     * most once per {@link #REJECTION_LOG_INTERVAL} steps. The caller releases the slot.
     */
    boolean admit(int trainer, long step) {
        ContributionCheck.Verdict verdict = check.check(slots.slot(trainer), slots.length());
        if (verdict == ContributionCheck.Verdict.ACCEPTED) {
            return true;
        }
        rejectedSinceLog++;
        if (lastRejectionLog == Long.MIN_VALUE || step - lastRejectionLog >= REJECTION_LOG_INTERVAL) {
            log.warn("shard {}: {} contribution(s) rejected since {}; latest: trainer {} at step {}, {} "
                            + "(L2 norm {}, bound {})", shard, rejectedSinceLog,
                    lastRejectionLog == Long.MIN_VALUE ? "the start" : "step " + lastRejectionLog, trainer, step,
                    verdict, check.norm(), check.maxNorm() > 0 ? check.maxNorm() : "none");
            rejectedSinceLog = 0;
            lastRejectionLog = step;
        }
        return false;
    }

    private void screenBias(int acceptedCount, int suspectCount, long step) {
        for (int i = 0; i < acceptedCount; i++) {
            screenBias(accepted[i]);
        }
        for (int i = 0; i < suspectCount; i++) {
            screenBias(suspects[i]);
        }
        int nominated = bias.nominate(accepted, acceptedCount);
        if (nominated >= 0) {
            log.warn("shard {}: trainer {} keeps leaning one way (consistency {} over {} steps > {}): its slices are left"
                            + " out of the aggregate and count as rejected until it stops", shard, nominated,
                    String.format(Locale.ROOT, "%.3f", bias.consistency(nominated)), bias.seen(nominated), biasThreshold);
        }
        if (step % REJECTION_LOG_INTERVAL == 0) {
            StringBuilder line = new StringBuilder();
            for (int t = 0; t < accepted.length; t++) {
                if (bias.seen(t) > 0) {
                    line.append(line.length() == 0 ? "" : ", ").append(t).append('=')
                            .append(String.format(Locale.ROOT, "%.3f", bias.consistency(t)));
                }
            }
            log.info("shard {}: bias consistency at version {} (trainer=cosine, threshold {}): {}", shard, step,
                    biasThreshold, line);
        }
    }

    private void screenBias(int trainer) {
        boolean before = bias.suspect(trainer);
        boolean now = bias.observe(trainer, slotArrays[trainer], gradArray);
        if (before && !now) {
            log.info("shard {}: trainer {} no longer leans one way (consistency {} < {}): aggregated again", shard,
                    trainer, String.format(Locale.ROOT, "%.3f", bias.consistency(trainer)), bias.release());
        }
    }
}
