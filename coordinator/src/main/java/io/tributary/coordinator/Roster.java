package io.tributary.coordinator;

import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The run's trainers, in the order they were admitted: who is live, quarantined or rewinding,
 * their work-plan weights and measured speeds, and what follows from that — the quorum the shards
 * wait for, the trainers the next work plan is for, and the gone ones whose undelivered samples it
 * hands on. No messaging: the coordinator tells, this class knows.
 *
 * <p>Ids are below {@code max-trainers}: an id is also the trainer's gradient slot in every shard's
 * {@code ContributionSlots}. A new trainer takes an id never used in the run when there is one, else
 * the id of the trainer gone longest whose id is free again ({@link Member#freesAt}): its undelivered
 * samples were handed on by a work plan that the run has reached, so no plan, bridge, slot or step in
 * hand still means that trainer by the id. The gone trainer is then retired: it keeps its samples
 * (the history's shares by id) but is no longer found by id or node. A quarantined trainer's id is
 * never reused in the run.
 */
final class Roster {

    /** The work-plan weight of an equal share. */
    static final int EQUAL_WEIGHT = 1000;

    /** One admitted trainer. */
    static final class Member {
        final int id;
        /** Who the trainer is (its certificate's fingerprint with TLS; its node id without). */
        final String identity;
        /** Its node's cluster address now (a restart may change it). */
        String nodeId;
        ActorRef<TrainerCommand> ref;
        /** Where its node's data plane receives (from its registration; a restart may change it). */
        String dataEndpoint = "";
        long doneSteps;
        long samples;
        boolean live = true;
        boolean quarantined;
        /** Work-plan weight ({@link #EQUAL_WEIGHT}: an equal share). */
        int weight = EQUAL_WEIGHT;
        /** Measured compute nanoseconds per step (EWMA; 0: none yet). */
        double stepNanos;
        /** Told to rewind and not registered again yet: its step reports are from before the rollback. */
        boolean rewinding;
        /**
         * Gone: once the run has committed this many steps, its id may go to a new trainer (the work
         * plan that handed on its undelivered samples starts here); {@link Long#MAX_VALUE} until then,
         * and while live.
         */
        long freesAt = Long.MAX_VALUE;
        /** Gone: when, in the order trainers went (the one gone longest gives its id first). */
        long goneOrder;

        Member(int id, String identity, String nodeId, ActorRef<TrainerCommand> ref) {
            this.id = id;
            this.identity = identity;
            this.nodeId = nodeId;
            this.ref = ref;
        }

        /** Takes part in the next work plan and is told of plans and leases. */
        boolean active() {
            return live && !quarantined;
        }

        /** Adds one step's measured compute time to its speed (EWMA, a fifth for the new one). */
        void measured(long computeNanos) {
            stepNanos = stepNanos <= 0 ? computeNanos : 0.8 * stepNanos + 0.2 * computeNanos;
        }
    }

    private final int maxTrainers;
    private final Map<String, Member> byIdentity = new LinkedHashMap<>();
    private final Map<Integer, Member> byId = new HashMap<>();
    /** Gone trainers whose id went to another trainer, in the order they were retired. */
    private final List<Member> retired = new ArrayList<>();
    private long goneCount;

    Roster(int maxTrainers) {
        if (maxTrainers < 1) {
            throw new IllegalArgumentException("tributary.cluster.max-trainers must be >= 1, got " + maxTrainers);
        }
        this.maxTrainers = maxTrainers;
    }

    /**
     * Why a new trainer cannot be admitted when the run has committed {@code committedSteps} steps,
     * or null when it can: the run is full of active trainers, or every id is held (by quarantined
     * trainers, or gone ones whose samples are still being handed on).
     */
    String refusal(long committedSteps) {
        int active = activeCount();
        if (active >= maxTrainers) {
            return "the run is full: " + active + " trainers are training (tributary.cluster.max-trainers = "
                    + maxTrainers + "); register again when one has left, or raise max-trainers for the next run";
        }
        if (freeId(committedSteps) >= 0) {
            return null;
        }
        int quarantined = 0;
        long soonest = Long.MAX_VALUE;
        for (Member m : byId.values()) {
            if (m.quarantined) {
                quarantined++;
            } else if (!m.live) {
                soonest = Math.min(soonest, m.freesAt);
            }
        }
        return "no trainer id is free (tributary.cluster.max-trainers = " + maxTrainers + ", an id is a gradient slot "
                + "on every shard): " + active + " trainers are training, " + quarantined
                + " quarantined ones keep theirs for the run" + (soonest == Long.MAX_VALUE ? ""
                : ", and a gone trainer's id frees once its undelivered samples are handed on"
                + " (at step " + soonest + " at the earliest)") + "; register again later, or raise max-trainers for the next run";
    }

    /** Admits the trainer of node {@code nodeId}, keyed on the node id itself (see the next). */
    Member admit(String nodeId, ActorRef<TrainerCommand> ref, long committedSteps) {
        return admit(nodeId, nodeId, ref, committedSteps);
    }

    /**
     * Admits the trainer {@code identity} (its certificate's fingerprint, or its node id without TLS) on
     * node {@code nodeId} under the id {@link #refusal} found free when the run has committed
     * {@code committedSteps} steps; a gone trainer holding it is retired.
     */
    Member admit(String identity, String nodeId, ActorRef<TrainerCommand> ref, long committedSteps) {
        String refusal = refusal(committedSteps);
        if (refusal != null) {
            throw new IllegalStateException(refusal);
        }
        if (byIdentity.containsKey(identity)) {
            throw new IllegalStateException("trainer " + identity + " is admitted already");
        }
        int id = freeId(committedSteps);
        Member previous = byId.remove(id);
        if (previous != null) {
            byIdentity.remove(previous.identity);
            retired.add(previous);
        }
        Member m = new Member(id, identity, nodeId, ref);
        byIdentity.put(identity, m);
        byId.put(m.id, m);
        return m;
    }

    /** Marks a trainer gone; its id frees at {@code freesAt} committed steps (see {@link #handedOn}). */
    void gone(Member m, long freesAt) {
        m.live = false;
        m.goneOrder = goneCount++;
        m.freesAt = freesAt;
    }

    /**
     * A work plan from step {@code from} handed on the undelivered samples of every trainer that is
     * gone now: the ids of those not handed on before free once the run has committed {@code from}
     * steps (a plan after a rollback starts at the cut, below that step: the later step stands).
     */
    void handedOn(long from) {
        for (Member m : byId.values()) {
            if (!m.live && !m.quarantined && m.freesAt == Long.MAX_VALUE) {
                m.freesAt = from;
            }
        }
    }

    /** The lowest id never used, else the id of the trainer gone longest that is free; -1 when none is. */
    private int freeId(long committedSteps) {
        for (int id = 0; id < maxTrainers; id++) {
            if (!byId.containsKey(id)) {
                return id;
            }
        }
        Member oldest = null;
        for (Member m : byId.values()) {
            if (!m.live && !m.quarantined && m.freesAt <= committedSteps
                    && (oldest == null || m.goneOrder < oldest.goneOrder)) {
                oldest = m;
            }
        }
        return oldest == null ? -1 : oldest.id;
    }

    /** The trainer admitted as {@code identity}, or null. */
    Member byIdentity(String identity) {
        return byIdentity.get(identity);
    }

    /** The trainer whose node announced data-plane endpoint {@code endpoint}, or null. */
    Member byEndpoint(String endpoint) {
        for (Member m : byId.values()) {
            if (m.dataEndpoint.equals(endpoint)) {
                return m;
            }
        }
        return null;
    }

    Member byId(int id) {
        return byId.get(id);
    }

    /** Every trainer admitted and not retired, in the order of admission. */
    Collection<Member> all() {
        return Collections.unmodifiableCollection(byIdentity.values());
    }

    int size() {
        return byIdentity.size();
    }

    /** Live and not quarantined: the trainers that hold a place in the run. */
    int activeCount() {
        int n = 0;
        for (Member m : byIdentity.values()) {
            n += m.active() ? 1 : 0;
        }
        return n;
    }

    int liveCount() {
        int n = 0;
        for (Member m : byIdentity.values()) {
            n += m.live ? 1 : 0;
        }
        return n;
    }

    /** The ids of the live trainers: the quorum a sync step waits for. */
    Set<Integer> quorum() {
        Set<Integer> live = new HashSet<>();
        for (Member m : byIdentity.values()) {
            if (m.live) {
                live.add(m.id);
            }
        }
        return live;
    }

    /**
     * The quorum with each trainer's data-plane endpoint: what the shards take gradient frames by (a
     * trainer's frames are accepted only from the node it registered from).
     */
    Map<Integer, String> quorumEndpoints() {
        Map<Integer, String> out = new TreeMap<>();
        for (int id : quorum()) {
            out.put(id, byId.get(id).dataEndpoint);
        }
        return out;
    }

    /** The active trainers, in the order of admission. */
    List<Member> active() {
        List<Member> out = new ArrayList<>();
        for (Member m : byIdentity.values()) {
            if (m.active()) {
                out.add(m);
            }
        }
        return out;
    }

    /** The trainers of the next work plan: row 0 their ids, row 1 their weights. */
    int[][] planMembers() {
        List<Member> active = active();
        int[][] out = new int[2][active.size()];
        for (int i = 0; i < active.size(); i++) {
            out[0][i] = active.get(i).id;
            out[1][i] = active.get(i).weight;
        }
        return out;
    }

    /** Gone or quarantined trainers by id, with the steps they completed (what they did not deliver is handed on). */
    Map<Integer, Long> gone() {
        Map<Integer, Long> out = new HashMap<>();
        for (Member m : byIdentity.values()) {
            if (!m.active()) {
                // a quarantined trainer's own reports are not taken as delivery: its frames may have been refused
                // (caught lying) or its slices rejected, so every slice shard 0 did not commit is handed on
                out.put(m.id, m.quarantined ? 0L : m.doneSteps);
            }
        }
        return out;
    }

    /** The slowest live trainer's completed steps (bounded staleness), or {@code Long.MAX_VALUE} with none live. */
    long slowestDone() {
        long floor = Long.MAX_VALUE;
        for (Member m : byIdentity.values()) {
            if (m.live) {
                floor = Math.min(floor, m.doneSteps);
            }
        }
        return floor;
    }

    /** Samples each trainer reported, by id (the history's shares; a reused id's share sums its trainers'). */
    Map<Integer, Long> samplesByTrainer() {
        Map<Integer, Long> out = new TreeMap<>();
        for (Member m : retired) {
            out.merge(m.id, m.samples, Long::sum);
        }
        for (Member m : byIdentity.values()) {
            out.merge(m.id, m.samples, Long::sum);
        }
        return out;
    }

    /** Tells every live trainer. */
    void tellLive(TrainerCommand message) {
        for (Member m : byIdentity.values()) {
            if (m.live) {
                m.ref.tell(message);
            }
        }
    }

    /** Tells every active trainer that is not rewinding, but {@code except} (may be null). */
    void tellListening(TrainerCommand message, Member except) {
        for (Member m : byIdentity.values()) {
            if (m.active() && !m.rewinding && m != except) {
                m.ref.tell(message);
            }
        }
    }

    /** Tells every trainer admitted and not retired. */
    void tellAll(TrainerCommand message) {
        for (Member m : byIdentity.values()) {
            m.ref.tell(message);
        }
    }
}
