package io.tributary.dataplane;

import io.tributary.wire.FrameAuth;
import io.tributary.wire.FrameAuthorizer;
import io.tributary.wire.FrameType;
import io.tributary.wire.RejectReason;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntHashSet;

/**
 * What each node may send on the data plane, by the session its frames are signed with
 * ({@link FrameAuth}): the roles its certificate grants (from its cluster membership) and the trainer id
 * the coordinator gave it (from the shards' quorum). A frame is refused when
 * <ul>
 *   <li>a gradient comes from a node without the trainer role, or parameters from one without the ps role
 *       ({@link RejectReason#NOT_ITS_ROLE});</li>
 *   <li>a gradient from a trainer node that holds an id in the latest quorum speaks for any other id (one
 *       the coordinator gave to another node, or one nobody holds); parameters carry a shard sender id that
 *       is not their shard's ({@link RejectReason#NOT_ITS_ID});</li>
 *   <li>a gradient comes from a trainer node that holds no id in the latest quorum (it left it, is not
 *       admitted yet, or restarted and its new quorum is on its way): {@link RejectReason#NOT_IN_QUORUM},
 *       dropped without blame, since an honest trainer's frames end here in those moments.</li>
 * </ul>
 * The first two are a member lying about who it is: the {@link OffenceListener} hears of each such
 * member once, on the receiver thread, and every later frame of its session is refused
 * ({@link RejectReason#CAUGHT_LYING}), so that a gradient it sends after the lie is not aggregated while
 * the coordinator takes it out of the quorum.
 *
 * <p>Once told who owns each shard ({@link #owners}: on nodes that hold a parameter replica, from cluster
 * sharding's own placement), parameters of a shard are taken only from its owner: those of any other ps node are
 * refused as {@link RejectReason#NOT_OWNER} without blame (a shard that moved leaves its old owner's frames in
 * flight), and the shard is marked ({@link #takeMissedOwners}) so that whoever keeps the owners looks again at
 * once. Until this node has learned a shard's owner, any ps node's parameters of it pass.
 *
 * <p>Peers and grants change from any thread (copy-on-write under this object's lock); {@link #check}
 * runs on the one receiver thread and allocates nothing but the first time it blames a session.
 */
public final class FrameGrants implements FrameAuthorizer {

    /** Parameter frames of shard {@code k} carry sender id {@code SHARD_SENDER_BASE + k}. */
    public static final int SHARD_SENDER_BASE = 1_000_000;

    /** The roles that bear on frames, as bits. */
    public static final int COORDINATOR = 1;
    public static final int PS = 2;
    public static final int TRAINER = 4;
    /** Every role: a peer learned without its roles (tests, and a node's own endpoint before its membership). */
    public static final int ALL_ROLES = COORDINATOR | PS | TRAINER;

    /** Hears of a member whose authentic frames speak for someone else; called once per session. */
    @FunctionalInterface
    public interface OffenceListener {
        void offence(String endpoint, RejectReason reason, String what);
    }

    private record Peer(int session, int roles) {
    }

    private final Map<String, Peer> peers = new HashMap<>();
    private Map<Integer, String> trainerEndpoints = Map.of();
    private long trainerGeneration = Long.MIN_VALUE;

    /** Everything {@link #check} reads, replaced whole so that one frame is judged against one version of it. */
    private record Tables(Int2IntHashMap rolesBySession, Int2IntHashMap sessionByTrainer, Int2IntHashMap trainerBySession,
                          Int2ObjectHashMap<String> endpointBySession, IntHashSet distrustedSessions,
                          int[] ownerSessionByShard) {
    }

    private volatile Tables tables = new Tables(new Int2IntHashMap(0), new Int2IntHashMap(0), new Int2IntHashMap(-1),
            new Int2ObjectHashMap<>(), new IntHashSet(), null);
    /** The endpoint of each shard's owner (null: not known); null while owners are not checked. */
    private String[] ownerEndpoints;
    /** Shards whose parameters were refused as {@link RejectReason#NOT_OWNER} since {@link #takeMissedOwners}. */
    private volatile java.util.concurrent.atomic.AtomicIntegerArray missedOwners =
            new java.util.concurrent.atomic.AtomicIntegerArray(0);
    private volatile boolean anyMissedOwner;
    /** Endpoints of nodes caught lying elsewhere (on the control plane): their frames are refused too. */
    private final Set<String> distrusted = new java.util.HashSet<>();
    private volatile OffenceListener listener = (endpoint, reason, what) -> { };
    /** Receiver thread only. */
    private final IntHashSet blamed = new IntHashSet();

    /** The bits of {@code roles} (names {@code coordinator}, {@code ps}, {@code trainer}; others ignored). */
    public static int roleBits(Set<String> roles) {
        int bits = 0;
        for (String r : roles) {
            bits |= switch (r) {
                case "coordinator" -> COORDINATOR;
                case "ps" -> PS;
                case "trainer" -> TRAINER;
                default -> 0;
            };
        }
        return bits;
    }

    /** Who hears of offences from now on. */
    public void onOffence(OffenceListener l) {
        this.listener = Objects.requireNonNull(l, "listener");
    }

    /** The node at {@code endpoint} signs with {@code publicKeyText}'s session and holds {@code roleBits}. */
    public synchronized void peer(String endpoint, String publicKeyText, int roleBits) {
        peers.put(endpoint, new Peer(FrameAuth.sessionOf(publicKeyText), roleBits));
        rebuild();
    }

    /**
     * The node at {@code endpoint} was caught lying on the control plane: from now on its frames are
     * refused as {@link RejectReason#CAUGHT_LYING}, as if this receiver had caught it.
     */
    public synchronized void distrust(String endpoint) {
        if (distrusted.add(endpoint)) {
            rebuild();
        }
    }

    /** The node at {@code endpoint} left. */
    public synchronized void remove(String endpoint) {
        if (peers.remove(endpoint) != null) {
            rebuild();
        }
    }

    /**
     * The trainer ids of quorum generation {@code generation} and the data-plane endpoint of each (the
     * coordinator's roster). An older generation than the latest taken changes nothing.
     *
     * @return whether these grants were taken
     */
    public synchronized boolean trainers(long generation, Map<Integer, String> endpoints) {
        if (generation < trainerGeneration) {
            return false;
        }
        trainerGeneration = generation;
        trainerEndpoints = Map.copyOf(endpoints);
        rebuild();
        return true;
    }

    /**
     * From now on parameters of shard {@code k} are taken only from the node at {@code endpointByShard[k]} (null:
     * the owner is not known, and any ps node's parameters of that shard pass until it is).
     */
    public synchronized void owners(String[] endpointByShard) {
        if (ownerEndpoints == null || ownerEndpoints.length != endpointByShard.length) {
            missedOwners = new java.util.concurrent.atomic.AtomicIntegerArray(endpointByShard.length);
        }
        ownerEndpoints = endpointByShard.clone();
        rebuild();
    }

    /**
     * The shards whose parameters were refused as {@link RejectReason#NOT_OWNER} since the last call (their
     * owner may have moved, or was not known yet), cleared; empty when there were none.
     */
    public int[] takeMissedOwners() {
        if (!anyMissedOwner) {
            return new int[0];
        }
        anyMissedOwner = false;
        java.util.concurrent.atomic.AtomicIntegerArray missed = missedOwners;
        int[] taken = new int[missed.length()];
        int n = 0;
        for (int k = 0; k < missed.length(); k++) {
            if (missed.getAndSet(k, 0) != 0) {
                taken[n++] = k;
            }
        }
        return java.util.Arrays.copyOf(taken, n);
    }

    private void rebuild() {
        Int2IntHashMap roles = new Int2IntHashMap(0);
        Int2ObjectHashMap<String> endpoints = new Int2ObjectHashMap<>();
        for (Map.Entry<String, Peer> e : peers.entrySet()) {
            if (e.getValue().roles() != 0) { // a node of no sending role (an observer): absent is "may send nothing"
                roles.put(e.getValue().session(), e.getValue().roles());
            }
            endpoints.put(e.getValue().session(), e.getKey());
        }
        Int2IntHashMap byTrainer = new Int2IntHashMap(0);
        Int2IntHashMap bySession = new Int2IntHashMap(-1);
        for (Map.Entry<Integer, String> e : trainerEndpoints.entrySet()) {
            Peer p = peers.get(e.getValue());
            if (p != null) {
                byTrainer.put(e.getKey().intValue(), p.session());
                bySession.put(p.session(), e.getKey().intValue());
            }
        }
        IntHashSet distrustedSessions = new IntHashSet();
        for (String endpoint : distrusted) {
            Peer p = peers.get(endpoint);
            if (p != null) {
                distrustedSessions.add(p.session());
            }
        }
        int[] ownerSessions = null;
        if (ownerEndpoints != null) {
            ownerSessions = new int[ownerEndpoints.length];
            for (int k = 0; k < ownerEndpoints.length; k++) {
                Peer p = ownerEndpoints[k] == null ? null : peers.get(ownerEndpoints[k]);
                ownerSessions[k] = p == null ? 0 : p.session(); // 0 is no session: nobody's frames match
            }
        }
        tables = new Tables(roles, byTrainer, bySession, endpoints, distrustedSessions, ownerSessions);
    }

    @Override
    public RejectReason check(int session, byte type, int sender, int shard, int tensor) {
        Tables t = tables;
        if (blamed.contains(session) || t.distrustedSessions().contains(session)) {
            // once caught, nothing of its counts: not even a gradient under its own id that follows the lie
            return RejectReason.CAUGHT_LYING;
        }
        int roles = t.rolesBySession().get(session);
        if (type == FrameType.GRADIENT.code()) {
            if ((roles & TRAINER) == 0) {
                return blame(t, session, RejectReason.NOT_ITS_ROLE, WITHOUT_TRAINER_ROLE, sender, shard);
            }
            int owner = t.sessionByTrainer().get(sender);
            if (owner == session) {
                return null;
            }
            if (t.trainerBySession().get(session) < 0) {
                // it holds no id in the latest quorum: a joiner or a restarted trainer whose quorum is still on its
                // way (its id may still point at its old endpoint), or one that just left: refused, not blamed
                return RejectReason.NOT_IN_QUORUM;
            }
            return blame(t, session, RejectReason.NOT_ITS_ID, owner != 0 ? ANOTHERS_ID : NOT_ITS_TRAINER_ID, sender,
                    shard);
        }
        if ((roles & PS) == 0) {
            return blame(t, session, RejectReason.NOT_ITS_ROLE, WITHOUT_PS_ROLE, sender, shard);
        }
        if (sender != SHARD_SENDER_BASE + shard) {
            return blame(t, session, RejectReason.NOT_ITS_ID, ANOTHER_SHARDS_ID, sender, shard);
        }
        int[] owners = t.ownerSessionByShard();
        // a shard whose owner this node has not learned yet (0) passes, as before owners were checked: refusing it
        // stalled a joining trainer for as long as the regions took to answer (17 s in a chaos run)
        if (owners != null && (shard < 0 || shard >= owners.length || (owners[shard] != 0 && owners[shard] != session))) {
            if (shard >= 0 && shard < owners.length) {
                java.util.concurrent.atomic.AtomicIntegerArray missed = missedOwners;
                if (shard < missed.length()) {
                    missed.lazySet(shard, 1);
                    anyMissedOwner = true;
                }
            }
            return RejectReason.NOT_OWNER;
        }
        return null;
    }

    private static final int WITHOUT_TRAINER_ROLE = 0;
    private static final int ANOTHERS_ID = 1;
    private static final int NOT_ITS_TRAINER_ID = 2;
    private static final int WITHOUT_PS_ROLE = 3;
    private static final int ANOTHER_SHARDS_ID = 4;

    /** Blames {@code session} once; the text is made only then, so a flood of refused frames allocates nothing. */
    private RejectReason blame(Tables t, int session, RejectReason reason, int what, int sender, int shard) {
        if (blamed.add(session)) {
            String endpoint = t.endpointBySession().get(session);
            String text = switch (what) {
                case WITHOUT_TRAINER_ROLE -> "sent gradient frames (trainer id " + sender + ", shard " + shard
                        + ") but its certificate does not make it a trainer";
                case ANOTHERS_ID -> "sent gradient frames as trainer " + sender
                        + ", an id the coordinator gave to another node";
                case NOT_ITS_TRAINER_ID -> "sent gradient frames as trainer " + sender + ", but it holds trainer id "
                        + t.trainerBySession().get(session);
                case WITHOUT_PS_ROLE -> "sent parameter frames (shard " + shard
                        + ") but its certificate does not make it a ps node";
                default -> "sent parameter frames of shard " + shard + " under sender id " + sender
                        + " (a shard's frames carry " + (SHARD_SENDER_BASE + shard) + ")";
            };
            try {
                listener.offence(endpoint == null ? "session " + Integer.toHexString(session) : endpoint, reason, text);
            } catch (RuntimeException e) {
                // the receiver thread must go on: the frame is refused and the liar's session stays blamed
                org.slf4j.LoggerFactory.getLogger(FrameGrants.class).error("the offence of {} ({}) could not be"
                        + " reported: {}", endpoint, text, e.toString());
            }
        }
        return reason;
    }

    /** Forgets who was blamed (a new session gets blamed again anyway; tests). */
    void forgetBlame() {
        blamed.clear();
    }
}
