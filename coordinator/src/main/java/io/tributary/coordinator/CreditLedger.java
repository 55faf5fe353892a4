package io.tributary.coordinator;

import io.tributary.history.JsonWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Who contributed what to a run, per trainer: samples processed, steps done, compute time, gradient
 * slices the shards accepted and rejected, and a reputation. The coordinator keeps it (on its own
 * thread: not thread-safe), exports it as metrics, writes it to {@code credits.json} and prints it
 * with {@code tributary credits}.
 *
 * <p>Reputation starts at 1 and moves by an exponential average over the trainer's gradient
 * slices: {@code r <- (1 - rate) r + rate} for an accepted slice, {@code r <- (1 - rate) r} for a
 * rejected one (non-finite, or over {@code tributary.trust.max-gradient-norm}). Its steady value is
 * the fraction accepted lately; a trainer whose reputation falls below the quarantine threshold is
 * quarantined by the coordinator. Slices that robust aggregation down-weights (clipping, trimming)
 * do not count against it yet.
 */
public final class CreditLedger {

    /** A trainer's standing. */
    public enum Status {
        LIVE, GONE, QUARANTINED, FINISHED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One trainer's credits (mutable; the coordinator's copy). */
    public static final class Entry {
        final int trainer;
        final String node;
        long samples;
        long steps;
        long computeNanos;
        long accepted;
        long rejected;
        long outliers;
        double reputation = 1.0;
        Status status = Status.LIVE;

        Entry(int trainer, String node) {
            this.trainer = trainer;
            this.node = node;
        }

        public int trainer() {
            return trainer;
        }

        public String node() {
            return node;
        }

        public long samples() {
            return samples;
        }

        public long steps() {
            return steps;
        }

        public double computeSeconds() {
            return computeNanos / 1e9;
        }

        public long accepted() {
            return accepted;
        }

        public long rejected() {
            return rejected;
        }

        /** Accepted slices a robust rule had to clip or trim (far from the aggregate); they cost reputation. */
        public long outliers() {
            return outliers;
        }

        public double reputation() {
            return reputation;
        }

        public Status status() {
            return status;
        }
    }

    private final double rate;
    private final double quarantineBelow;
    /** The entry of the trainer that holds each id now. */
    private final Map<Integer, Entry> entries = new TreeMap<>();
    /** Every entry of the run, in the order of admission: an id that went to another trainer has one per trainer. */
    private final List<Entry> history = new ArrayList<>();

    /**
     * @param rate            weight of one slice in the reputation, in (0, 1]
     * @param quarantineBelow reputation under which a trainer is to be quarantined; 0 never
     */
    public CreditLedger(double rate, double quarantineBelow) {
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException("tributary.trust.reputation-rate = " + rate + " is invalid: use (0, 1]");
        }
        if (!(quarantineBelow >= 0 && quarantineBelow < 1)) {
            throw new IllegalArgumentException("tributary.trust.quarantine-below = " + quarantineBelow
                    + " is invalid: use [0, 1) (0 turns quarantine off)");
        }
        this.rate = rate;
        this.quarantineBelow = quarantineBelow;
    }

    /**
     * A trainer was admitted. A new node under an id another trainer had gets an entry of its own
     * (the other's stays, under its node); the same node again keeps its entry.
     */
    public void admitted(int trainer, String node) {
        Entry e = entries.get(trainer);
        if (e == null || !e.node.equals(node)) {
            e = new Entry(trainer, node);
            entries.put(trainer, e);
            history.add(e);
        }
    }

    /**
     * Shard 0 committed a step with {@code trainer}'s gradient in it, and the work plan gave it {@code samples}
     * samples of that step: verified facts (the shard accepted the slice; the coordinator planned the
     * samples), so the samples and steps credited are these, never the trainer's own report.
     */
    public void served(int trainer, int samples) {
        Entry e = entries.get(trainer);
        if (e != null) {
            e.samples += samples;
            e.steps++;
        }
    }

    /** A trainer says it computed a step in {@code computeNanos}: its own report, the one credit not verified. */
    public void computed(int trainer, long computeNanos) {
        Entry e = entries.get(trainer);
        if (e != null) {
            e.computeNanos += computeNanos;
        }
    }

    /**
     * A shard closed a step with the slices of {@code contributors}, of which {@code rejected}
     * failed its check and {@code outliers} were aggregated but lay far from the aggregate (a robust
     * rule clipped or trimmed them). Both count 0 in the reputation, the others 1. Returns the trainers that have just fallen below the quarantine threshold
     * (live ones only; each once).
     */
    public List<Integer> sliceVerdicts(Set<Integer> contributors, Set<Integer> rejected, Set<Integer> outliers) {
        List<Integer> fallen = new ArrayList<>(0);
        for (int t : contributors) {
            Entry e = entries.get(t);
            if (e == null) {
                continue;
            }
            boolean ok = !rejected.contains(t);
            if (ok) {
                e.accepted++;
                if (outliers.contains(t)) {
                    e.outliers++;
                    ok = false;
                }
            } else {
                e.rejected++;
            }
            e.reputation = (1 - rate) * e.reputation + (ok ? rate : 0);
            if (e.status == Status.LIVE && quarantineBelow > 0 && e.reputation < quarantineBelow) {
                fallen.add(t);
            }
        }
        return fallen;
    }

    /** Marks a trainer's status (gone, quarantined, finished). */
    public void status(int trainer, Status status) {
        Entry e = entries.get(trainer);
        if (e != null && e.status != Status.QUARANTINED) {
            e.status = status;
        }
    }

    /** The entry of the trainer that holds id {@code trainer} now, or null. */
    public Entry entry(int trainer) {
        return entries.get(trainer);
    }

    /**
     * All entries by trainer id; where an id went to another trainer, each of its trainers' entries
     * in the order they were admitted (the one that holds it now last).
     */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>(history);
        out.sort(Comparator.comparingInt(Entry::trainer)); // stable: admission order within an id
        return out;
    }

    public double quarantineBelow() {
        return quarantineBelow;
    }

    /** The ledger as JSON (an object with a "trainers" array), for {@code credits.json}. */
    public String toJson(long runId, long step) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("run").value(runId)
                .name("step").value(step)
                .name("quarantine_below").value(quarantineBelow, 4)
                .name("trainers").beginArray();
        for (Entry e : entries()) {
            w.beginObject()
                    .name("trainer").value(e.trainer)
                    .name("node").value(e.node)
                    .name("samples").value(e.samples)
                    .name("steps").value(e.steps)
                    .name("compute_seconds").value(e.computeSeconds(), 3)
                    .name("accepted").value(e.accepted)
                    .name("rejected").value(e.rejected)
                    .name("outliers").value(e.outliers)
                    .name("reputation").value(e.reputation, 4)
                    .name("status").value(e.status.label())
                    .endObject();
        }
        return w.endArray().endObject().toString();
    }
}
