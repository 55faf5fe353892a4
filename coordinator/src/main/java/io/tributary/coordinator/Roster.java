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

    Roster(int maxTrainers) {
        if (maxTrainers < 1) {
            throw new IllegalArgumentException("tributary.cluster.max-trainers must be >= 1, got " + maxTrainers);
        }
        this.maxTrainers = maxTrainers;
    }

    /** Why a new trainer cannot be admitted, or null when it can. */
    String refusal() {
        return byIdentity.size() >= maxTrainers
                ? "the run is full (tributary.cluster.max-trainers = " + maxTrainers + ")" : null;
    }

    /** Admits the trainer of node {@code nodeId}, keyed on the node id itself, with the next id. */
    Member admit(String nodeId, ActorRef<TrainerCommand> ref) {
        return admit(nodeId, nodeId, ref);
    }

    /** Admits the trainer {@code identity} on node {@code nodeId} with the next id. */
    Member admit(String identity, String nodeId, ActorRef<TrainerCommand> ref) {
        if (refusal() != null) {
            throw new IllegalStateException(refusal());
        }
        if (byIdentity.containsKey(identity)) {
            throw new IllegalStateException("trainer " + identity + " is admitted already");
        }
        Member m = new Member(byIdentity.size(), identity, nodeId, ref);
        byIdentity.put(identity, m);
        byId.put(m.id, m);
        return m;
    }

    /** The trainer admitted as {@code identity}, or null. */
    Member byIdentity(String identity) {
        return byIdentity.get(identity);
    }

    Member byId(int id) {
        return byId.get(id);
    }

    /** Every trainer ever admitted, in the order of admission. */
    Collection<Member> all() {
        return Collections.unmodifiableCollection(byIdentity.values());
    }

    int size() {
        return byIdentity.size();
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
                out.put(m.id, m.doneSteps);
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

    /** Samples each trainer reported, by id (the history's shares). */
    Map<Integer, Long> samplesByTrainer() {
        Map<Integer, Long> out = new TreeMap<>();
        for (Member m : byIdentity.values()) {
            out.put(m.id, m.samples);
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

    /** Tells every trainer ever admitted. */
    void tellAll(TrainerCommand message) {
        for (Member m : byIdentity.values()) {
            m.ref.tell(message);
        }
    }
}
