package io.tributary.coordinator;

import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.CoordinatorProtocol.StoredState;
import io.tributary.protocol.StateKryo;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Where the coordinator keeps the run's state for a successor: Pekko Distributed Data, one
 * last-writer-wins register per run, written with {@code WriteMajority} to the replicator that runs on
 * every {@code coordinator} node (and only there), and read back with {@code ReadMajority} by the
 * coordinator singleton's next incarnation. Why this and not a journal: the state is one small value
 * (its audits compress to kilobytes) that is replaced, never appended to; the nodes that may take the
 * run over are exactly the ones that hold it; and no database must be run beside a volunteer cluster.
 *
 * <p>What is stored is a {@link StoredRun} as {@link StateKryo} bytes inside a signed
 * {@link StoredState} (a coordinator node wrote it or passed it on, or it is refused on arrival). One
 * write at a time: a change while one is under way is written when it completes, so that the value
 * never goes back. A write that no majority confirms within the time-out is logged and written again
 * with the next change.
 */
final class CoordinatorState {

    /** The register of run {@code runId}. */
    static org.apache.pekko.cluster.ddata.Key<LWWRegister<StoredState>> key(long runId) {
        return LWWRegisterKey.create("tributary-coordinator-" + runId);
    }

    /** How long a write or read waits for a majority. */
    static final Duration MAJORITY_TIMEOUT = Duration.ofSeconds(3);

    /** Largest stored state, compressed: Artery's frames take 256 KiB (the register travels whole). */
    static final int MAX_BYTES = 200 * 1024;

    /** Replies of the replicator, wrapped for the coordinator. */
    record Written(Replicator.UpdateResponse<LWWRegister<StoredState>> response) implements CoordinatorCommand {
    }

    record Read(Replicator.GetResponse<LWWRegister<StoredState>> response) implements CoordinatorCommand {
    }

    /** Time to store what changed since the last write. */
    record Tick() implements CoordinatorCommand {
    }

    private final ActorContext<CoordinatorCommand> ctx;
    private final ActorRef<Replicator.Command> replicator;
    private final long runId;
    private final org.apache.pekko.cluster.ddata.Key<LWWRegister<StoredState>> key;
    private final SelfUniqueAddress self;
    private final StateKryo kryo;
    private final ActorRef<Replicator.UpdateResponse<LWWRegister<StoredState>>> written;
    private boolean inFlight;
    private boolean again;
    private int lastBytes;
    private long stored;
    private long storedBytes;
    private int largest;
    private long notConfirmed;

    private final CoordinatorMetrics metrics;

    CoordinatorState(ActorContext<CoordinatorCommand> ctx, ActorRef<Replicator.Command> replicator, long runId,
                     CoordinatorMetrics metrics) {
        this.ctx = ctx;
        this.metrics = metrics;
        this.replicator = replicator;
        this.runId = runId;
        this.key = key(runId);
        this.self = new SelfUniqueAddress(org.apache.pekko.cluster.Cluster.get(
                org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(ctx.getSystem())).selfUniqueAddress());
        this.kryo = new StateKryo(ActorRefResolver.get(ctx.getSystem()));
        this.written = ctx.messageAdapter(castUpdate(), Written::new);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Class<Replicator.UpdateResponse<LWWRegister<StoredState>>> castUpdate() {
        return (Class) Replicator.UpdateResponse.class;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Class<Replicator.GetResponse<LWWRegister<StoredState>>> castGet() {
        return (Class) Replicator.GetResponse.class;
    }

    /** Asks for the stored state of run {@code runId}; the answer comes as {@link Read}. */
    static void read(ActorContext<CoordinatorCommand> ctx, ActorRef<Replicator.Command> replicator, long runId) {
        ActorRef<Replicator.GetResponse<LWWRegister<StoredState>>> to = ctx.messageAdapter(castGet(), Read::new);
        replicator.tell(new Replicator.Get<>(key(runId), new Replicator.ReadMajority(MAJORITY_TIMEOUT), to));
    }

    /**
     * The stored run in a {@link Read} answer: null when none is stored (a new run); throws
     * {@link IllegalStateException} when it cannot be read, for a coordinator must not start the run over.
     */
    static StoredRun storedIn(Read r, ActorRefResolver resolver, long runId) {
        if (r.response() instanceof Replicator.GetSuccess<LWWRegister<StoredState>> ok) {
            StoredState s = ok.get(key(runId)).getValue();
            if (s.runId() != runId) {
                throw new IllegalStateException("the stored coordinator state is of run " + s.runId() + ", not " + runId);
            }
            Object o = new StateKryo(resolver).read(s.state());
            if (!(o instanceof StoredRun run) || run.runId != runId) {
                throw new IllegalStateException("the stored coordinator state of run " + runId + " holds "
                        + (o == null ? "nothing" : o.getClass().getName()) + ", not the run's state");
            }
            run.planner.rewire();
            return run;
        }
        if (r.response() instanceof Replicator.NotFound<?>) {
            return null;
        }
        throw new IllegalStateException("the coordinator nodes did not answer for the stored state of run " + runId
                + " (" + r.response().getClass().getSimpleName() + "): no majority of them is reachable");
    }

    /** Stores {@code run} now, or when the write under way completes (then the newest state goes). */
    void store(java.util.function.Supplier<StoredRun> run) {
        if (inFlight) {
            again = true;
            return;
        }
        StoredRun r = run.get();
        byte[] bytes = kryo.write(r);
        lastBytes = bytes.length;
        metrics.stateBytes.set(bytes.length);
        if (bytes.length > MAX_BYTES) {
            metrics.stateWrites.labelValues("too_large").inc();
            ctx.getLog().error("the coordinator's state is {} bytes compressed, more than the {} a stored register may"
                    + " hold: it is not stored, and a coordinator that takes over would start from an older one",
                    bytes.length, MAX_BYTES);
            return;
        }
        StoredState s = new StoredState(runId, r.committedSteps, System.currentTimeMillis(), bytes);
        inFlight = true;
        again = false;
        replicator.tell(new Replicator.Update<>(key, LWWRegister.create(self, s),
                new Replicator.WriteMajority(MAJORITY_TIMEOUT), written, reg -> reg.withValue(self, s)));
    }

    /**
     * A write completed; true when another is due (a change came while it was under way).
     */
    boolean written(Written w) {
        inFlight = false;
        if (!(w.response() instanceof Replicator.UpdateSuccess<?>)) {
            metrics.stateWrites.labelValues("not_confirmed").inc();
            notConfirmed++;
            ctx.getLog().warn("the coordinator's state ({} bytes) was not confirmed by a majority of the coordinator"
                    + " nodes ({}); it is written again with the next change", lastBytes,
                    w.response().getClass().getSimpleName());
            return true;
        }
        metrics.stateWrites.labelValues("stored").inc();
        stored++;
        storedBytes += lastBytes;
        largest = Math.max(largest, lastBytes);
        return again;
    }

    /** What this incarnation stored, for the run's end: writes, bytes, the largest, those not confirmed. */
    String summary() {
        return String.format(java.util.Locale.ROOT, "%d write(s) confirmed by a majority (%d bytes in all, the largest"
                + " %d, compressed), %d not confirmed", stored, storedBytes, largest, notConfirmed);
    }
}
