package io.tributary.ps.shard;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who a shard's sync step waits for and who has contributed to it: the quorum of the latest
 * generation the coordinator sent, {@code backup} trainers that may be missing, the contributors of
 * the step in hand (an empty contribution counts, without a slot to aggregate) and the slots ready
 * to aggregate, in arrival order.
 */
final class StepQuorum {

    private final Set<Integer> contributors = new HashSet<>();
    private final List<Integer> readySlots = new ArrayList<>();
    private Set<Integer> quorum = Set.of();
    private long generation = -1;
    private int backup;

    /** Takes a quorum of a newer generation; returns false (and changes nothing) for an older or the same one. */
    boolean update(long generation, Set<Integer> trainers, int backup) {
        if (generation <= this.generation) {
            return false;
        }
        this.generation = generation;
        this.quorum = Set.copyOf(trainers);
        this.backup = backup;
        return true;
    }

    Set<Integer> quorum() {
        return quorum;
    }

    long generation() {
        return generation;
    }

    int backup() {
        return backup;
    }

    boolean inQuorum(int trainer) {
        return quorum.contains(trainer);
    }

    /** The first contribution of the step opens it (its deadline starts then). */
    boolean open() {
        return !contributors.isEmpty();
    }

    boolean contributed(int trainer) {
        return contributors.contains(trainer);
    }

    /** A trainer's gradient of the step is complete in its slot. */
    void slotReady(int trainer) {
        contributors.add(trainer);
        readySlots.add(trainer);
    }

    /** A trainer has nothing for this step (no samples): it counts, with nothing to aggregate. */
    void empty(int trainer) {
        contributors.add(trainer);
    }

    /** Contributors, empty ones included (what the commit reports). */
    int contributorCount() {
        return contributors.size();
    }

    /** Slots to aggregate, in arrival order. */
    List<Integer> readySlots() {
        return readySlots;
    }

    /**
     * Whether the step may close now: every quorum member contributed but at most {@code backup}
     * (and never all of them). Contributors outside the quorum do not count.
     */
    boolean enough() {
        if (quorum.isEmpty()) {
            return false;
        }
        int fromQuorum = 0;
        for (int t : quorum) {
            if (contributors.contains(t)) {
                fromQuorum++;
            }
        }
        return fromQuorum >= quorum.size() - Math.min(backup, quorum.size() - 1);
    }

    /** The step closed or was dropped: the next one starts empty. */
    void clear() {
        contributors.clear();
        readySlots.clear();
    }
}
