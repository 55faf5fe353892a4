package io.tributary.coordinator;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Checks, at the coordinator, that every shard's updates form one unbroken sequence from one owner
 * at a time. Each {@code ShardCommitted} carries the shard's version after the update (its update
 * id: 1, 2, 3, ...) and the owner (the shard incarnation that applied it). Per shard:
 *
 * <ul>
 *   <li>a version that is not the previous one plus one is a <em>lost</em> update (a gap: an update
 *       committed and then forgotten) or a <em>duplicate</em> (the same id again or an older one: a
 *       shard that lost its state and applied updates again);</li>
 *   <li>a commit from an owner that another owner has already followed is a <em>conflict</em>: two
 *       owners of one shard at once. A change of owner that continues the sequence is a hand-over.</li>
 * </ul>
 *
 * Not thread-safe: the coordinator's thread uses it.
 */
public final class UpdateAudit {

    /** The counts a run ends with. */
    public record Summary(long audited, long lost, long duplicates, long ownerChanges, long conflicts, long rolledBack,
                          String firstProblem) {
        public boolean clean() {
            return lost == 0 && duplicates == 0 && conflicts == 0;
        }
    }

    private static final class ShardTrack {
        long lastVersion;
        String owner;
        final Set<String> retired = new HashSet<>();
    }

    private final Map<Integer, ShardTrack> shards = new HashMap<>();
    private final long initialVersion;
    private long audited;
    private long lost;
    private long duplicates;
    private long ownerChanges;
    private long conflicts;
    private long rolledBack;
    private String firstProblem;

    /** An audit of shards that start at version 0. */
    public UpdateAudit() {
        this(0);
    }

    /** An audit of shards that start at {@code initialVersion} (a resumed run). */
    public UpdateAudit(long initialVersion) {
        this.initialVersion = initialVersion;
    }

    /**
     * One commit of {@code shard}, reaching {@code version}, applied by {@code owner}.
     *
     * @return what is wrong with it (lost, duplicate, second owner), or null when nothing is
     */
    public String committed(int shard, long version, String owner) {
        String wrong = null;
        ShardTrack t = shards.computeIfAbsent(shard, k -> {
            ShardTrack fresh = new ShardTrack();
            fresh.lastVersion = initialVersion;
            return fresh;
        });
        audited++;
        if (t.owner == null) {
            t.owner = owner;
        } else if (!t.owner.equals(owner)) {
            if (t.retired.contains(owner)) {
                conflicts++;
                wrong = problem("shard " + shard + ": owner " + owner + " committed version " + version + " after " + t.owner
                        + " had taken the shard over (two owners at once)");
            } else {
                ownerChanges++;
                t.retired.add(t.owner);
                t.owner = owner;
            }
        }
        if (version == t.lastVersion + 1) {
            t.lastVersion = version;
        } else if (version <= t.lastVersion) {
            duplicates++;
            wrong = problem("shard " + shard + ": version " + version + " committed again after version " + t.lastVersion
                    + " (by " + owner + ")");
        } else {
            lost += version - t.lastVersion - 1;
            wrong = problem("shard " + shard + ": versions " + (t.lastVersion + 1) + ".." + (version - 1)
                    + " never reported before version " + version);
            t.lastVersion = version;
        }
        return wrong;
    }

    private String problem(String what) {
        if (firstProblem == null) {
            firstProblem = what;
        }
        return what;
    }

    /**
     * The coordinator rolled {@code shard} back to the checkpoint of {@code version}: the updates
     * after it are void (counted as rolled back) and the ids go on from {@code version}.
     */
    public void rolledBack(int shard, long version) {
        ShardTrack t = shards.computeIfAbsent(shard, k -> {
            ShardTrack fresh = new ShardTrack();
            fresh.lastVersion = initialVersion;
            return fresh;
        });
        rolledBack += Math.max(0, t.lastVersion - version);
        t.lastVersion = version;
    }

    /** Whether {@code shard} has committed (or been rolled back) in this run: it holds state of the run. */
    public boolean owned(int shard) {
        return shards.containsKey(shard);
    }

    /** The last version {@code shard} reported (or was rolled back to); the initial version before any. */
    public long lastVersion(int shard) {
        ShardTrack t = shards.get(shard);
        return t == null ? initialVersion : t.lastVersion;
    }

    /** The incarnation that applied {@code shard}'s last reported update, or null before any. */
    public String owner(int shard) {
        ShardTrack t = shards.get(shard);
        return t == null ? null : t.owner;
    }

    /** How many times a shard's updates came from a new owner (hand-overs), without building a summary. */
    public long ownerChanges() {
        return ownerChanges;
    }

    public Summary summary() {
        return new Summary(audited, lost, duplicates, ownerChanges, conflicts, rolledBack, firstProblem);
    }
}
