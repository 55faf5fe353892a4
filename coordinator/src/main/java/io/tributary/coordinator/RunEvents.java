package io.tributary.coordinator;

import io.tributary.protocol.NodeProtocol.RunEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's events across the cluster: the coordinator, on whichever {@code coordinator} node the singleton
 * runs, sends every {@link RunListener} call as a {@link RunEvent} to the nodes that follow the run
 * ({@link #sender}); a following node (role {@code observer}: the demo's and the chaos tool's launcher)
 * turns each back into the call on its own listener ({@link #follower}). The codec is one method per call,
 * both directions side by side.
 */
public final class RunEvents {

    private static final Logger LOG = LoggerFactory.getLogger(RunEvents.class);

    /** The receptionist key a following node registers under. */
    public static final ServiceKey<RunEvent> KEY = ServiceKey.create(RunEvent.class, "tributary-run-events");

    /** Events held while no follower is known yet (the run's start is never lost); older ones are dropped. */
    static final int PENDING_LIMIT = 10_000;

    private static final long[] NO_LONGS = {};
    private static final double[] NO_DOUBLES = {};
    private static final String[] NO_TEXTS = {};

    private RunEvents() {
    }

    /**
     * The coordinator's side: a listener that sends every call to the followers the receptionist lists
     * (a system actor of {@code system} follows the listing). Calls come on the coordinator's thread.
     */
    public static RunListener sender(ActorSystem<?> system, long runId) {
        Sender s = new Sender(runId);
        system.systemActorOf(Behaviors.<Receptionist.Listing>setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY, ctx.getSelf()));
            return Behaviors.receiveMessage(l -> {
                s.followers(l.getServiceInstances(KEY));
                return Behaviors.same();
            });
        }), "run-event-followers", org.apache.pekko.actor.typed.Props.empty());
        return s;
    }

    /** A following node's side: registers with the receptionist and calls {@code listener} per event of run {@code runId}. */
    public static Behavior<RunEvent> follower(long runId, RunListener listener) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.receiveMessage(e -> {
                if (e.runId() != runId) {
                    ctx.getLog().warn("a run event '{}' of run {} reached this node, which follows run {}: ignored",
                            e.kind(), e.runId(), runId);
                } else {
                    deliver(e, listener);
                }
                return Behaviors.same();
            });
        });
    }

    /** Both of {@code first} and {@code second} get every call, in that order. */
    public static RunListener both(RunListener first, RunListener second) {
        return first == null ? second : second == null ? first : new Both(first, second);
    }

    private static final class Sender implements RunListener {
        private final long runId;
        private final List<ActorRef<RunEvent>> followers = new CopyOnWriteArrayList<>();
        private final List<RunEvent> pending = new ArrayList<>();

        Sender(long runId) {
            this.runId = runId;
        }

        synchronized void followers(Set<ActorRef<RunEvent>> now) {
            followers.retainAll(now);
            for (ActorRef<RunEvent> f : now) {
                if (!followers.contains(f)) {
                    followers.add(f);
                    pending.forEach(f::tell);
                }
            }
            if (!followers.isEmpty()) {
                pending.clear();
            }
        }

        private synchronized void send(String kind, long[] longs, double[] doubles, String[] texts) {
            RunEvent e = new RunEvent(runId, kind, longs, doubles, texts);
            if (followers.isEmpty()) {
                if (pending.size() >= PENDING_LIMIT) {
                    pending.remove(0);
                }
                pending.add(e);
                return;
            }
            for (ActorRef<RunEvent> f : followers) {
                f.tell(e);
            }
        }

        @Override
        public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
            send("started", new long[]{trainers, shards, totalSteps, stepsPerEpoch, localBatch}, NO_DOUBLES,
                    new String[]{policy});
        }

        @Override
        public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                             double lastAccuracy) {
            send("progress", new long[]{step, totalSteps, liveTrainers}, new double[]{samplesPerSecond, loss,
                    lastAccuracy}, NO_TEXTS);
        }

        @Override
        public void evaluated(int epoch, long step, double accuracy) {
            send("evaluated", new long[]{epoch, step}, new double[]{accuracy}, NO_TEXTS);
        }

        @Override
        public void validationLoss(long step, double loss) {
            send("validationLoss", new long[]{step}, new double[]{loss}, NO_TEXTS);
        }

        @Override
        public void finished(RunResult r) {
            UpdateAudit.Summary u = r.updates();
            WorkPlanner.Summary a = r.samplesAudit();
            send("finished", new long[]{r.steps(), r.epochs(), r.maxStaleness(), r.stepsClosedByDeadline(),
                            r.stepsClosedShort(), r.checksumsCompared(), r.checksumMismatches(), u.audited(), u.lost(),
                            u.duplicates(), u.ownerChanges(), u.conflicts(), u.rolledBack(), a.epochs(), a.expected(),
                            a.trained(), a.missed(), a.twice(), a.unplanned(), a.plans()},
                    new double[]{r.accuracy(), r.samplesPerSecond(), r.seconds(), r.trainSeconds(),
                            r.trainSamplesPerSecond()},
                    new String[]{u.firstProblem() == null ? "" : u.firstProblem()});
        }

        @Override
        public void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
            long[] l = new long[2 + 2 * batches.size()];
            l[0] = plan;
            l[1] = from;
            int i = 2;
            for (Map.Entry<Integer, Integer> b : batches.entrySet()) {
                l[i++] = b.getKey();
                l[i++] = b.getValue();
            }
            send("workPlanned", l, NO_DOUBLES, new String[]{why});
        }

        @Override
        public void trainerJoined(int trainer, int replaced, long step) {
            send("trainerJoined", new long[]{trainer, replaced, step}, NO_DOUBLES, NO_TEXTS);
        }

        @Override
        public void resumed(long step, long totalSteps) {
            send("resumed", new long[]{step, totalSteps}, NO_DOUBLES, NO_TEXTS);
        }

        @Override
        public void psFailover(String node, long step, long toStep) {
            send("psFailover", new long[]{step, toStep}, NO_DOUBLES, new String[]{node});
        }

        @Override
        public void replicasPromoted(String node, long step, double seconds) {
            send("replicasPromoted", new long[]{step}, new double[]{seconds}, new String[]{node});
        }

        @Override
        public void shardMoved(int shard, String from, String to, long version, double seconds) {
            send("shardMoved", new long[]{shard, version}, new double[]{seconds}, new String[]{from, to});
        }

        @Override
        public void failed(String reason) {
            send("failed", NO_LONGS, NO_DOUBLES, new String[]{reason});
        }

        @Override
        public void trainerQuarantined(int trainer, String node, String reason) {
            send("trainerQuarantined", new long[]{trainer}, NO_DOUBLES, new String[]{node, reason});
        }

        @Override
        public void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
            send("coordinatorTookOver", new long[]{step, storedStep}, new double[]{seconds}, new String[]{node});
        }
    }

    /** Calls on {@code listener} what {@code e} says; a malformed event is logged and dropped. */
    static void deliver(RunEvent e, RunListener listener) {
        long[] l = e.longs();
        double[] d = e.doubles();
        String[] t = e.texts();
        try {
            switch (e.kind()) {
                case "started" -> listener.started((int) l[0], (int) l[1], l[2], (int) l[3], (int) l[4], t[0]);
                case "progress" -> listener.progress(l[0], l[1], d[0], (int) l[2], d[1], d[2]);
                case "evaluated" -> listener.evaluated((int) l[0], l[1], d[0]);
                case "validationLoss" -> listener.validationLoss(l[0], d[0]);
                case "finished" -> listener.finished(new RunResult(d[0], l[0], (int) l[1], d[1], d[2], (int) l[2], l[3],
                        l[4], l[5], l[6], new UpdateAudit.Summary(l[7], l[8], l[9], l[10], l[11], l[12],
                        t[0].isEmpty() ? null : t[0]), new WorkPlanner.Summary((int) l[13], l[14], l[15], l[16], l[17],
                        l[18], (int) l[19]), d[3], d[4]));
                case "workPlanned" -> {
                    Map<Integer, Integer> batches = new TreeMap<>();
                    for (int i = 2; i + 1 < l.length; i += 2) {
                        batches.put((int) l[i], (int) l[i + 1]);
                    }
                    listener.workPlanned((int) l[0], l[1], t[0], batches);
                }
                case "trainerJoined" -> listener.trainerJoined((int) l[0], (int) l[1], l[2]);
                case "resumed" -> listener.resumed(l[0], l[1]);
                case "psFailover" -> listener.psFailover(t[0], l[0], l[1]);
                case "replicasPromoted" -> listener.replicasPromoted(t[0], l[0], d[0]);
                case "shardMoved" -> listener.shardMoved((int) l[0], t[0], t[1], l[1], d[0]);
                case "failed" -> listener.failed(t[0]);
                case "trainerQuarantined" -> listener.trainerQuarantined((int) l[0], t[0], t[1]);
                case "coordinatorTookOver" -> listener.coordinatorTookOver(t[0], l[0], l[1], d[0]);
                default -> LOG.warn("a run event of an unknown kind '{}' arrived (a coordinator of a newer version?):"
                        + " ignored", e.kind());
            }
        } catch (ArrayIndexOutOfBoundsException ex) {
            LOG.error("a run event '{}' arrived with too few arguments ({} numbers, {} reals, {} texts): ignored; the"
                    + " coordinator and this node run different versions", e.kind(), l.length, d.length, t.length);
        }
    }

    private record Both(RunListener first, RunListener second) implements RunListener {
        @Override
        public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
            first.started(trainers, shards, totalSteps, stepsPerEpoch, localBatch, policy);
            second.started(trainers, shards, totalSteps, stepsPerEpoch, localBatch, policy);
        }

        @Override
        public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                             double lastAccuracy) {
            first.progress(step, totalSteps, samplesPerSecond, liveTrainers, loss, lastAccuracy);
            second.progress(step, totalSteps, samplesPerSecond, liveTrainers, loss, lastAccuracy);
        }

        @Override
        public void evaluated(int epoch, long step, double accuracy) {
            first.evaluated(epoch, step, accuracy);
            second.evaluated(epoch, step, accuracy);
        }

        @Override
        public void validationLoss(long step, double loss) {
            first.validationLoss(step, loss);
            second.validationLoss(step, loss);
        }

        @Override
        public void finished(RunResult result) {
            first.finished(result);
            second.finished(result);
        }

        @Override
        public void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
            first.workPlanned(plan, from, why, batches);
            second.workPlanned(plan, from, why, batches);
        }

        @Override
        public void trainerJoined(int trainer, int replaced, long step) {
            first.trainerJoined(trainer, replaced, step);
            second.trainerJoined(trainer, replaced, step);
        }

        @Override
        public void resumed(long step, long totalSteps) {
            first.resumed(step, totalSteps);
            second.resumed(step, totalSteps);
        }

        @Override
        public void psFailover(String node, long step, long toStep) {
            first.psFailover(node, step, toStep);
            second.psFailover(node, step, toStep);
        }

        @Override
        public void replicasPromoted(String node, long step, double seconds) {
            first.replicasPromoted(node, step, seconds);
            second.replicasPromoted(node, step, seconds);
        }

        @Override
        public void shardMoved(int shard, String from, String to, long version, double seconds) {
            first.shardMoved(shard, from, to, version, seconds);
            second.shardMoved(shard, from, to, version, seconds);
        }

        @Override
        public void failed(String reason) {
            first.failed(reason);
            second.failed(reason);
        }

        @Override
        public void trainerQuarantined(int trainer, String node, String reason) {
            first.trainerQuarantined(trainer, node, reason);
            second.trainerQuarantined(trainer, node, reason);
        }

        @Override
        public void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
            first.coordinatorTookOver(node, step, storedStep, seconds);
            second.coordinatorTookOver(node, step, storedStep, seconds);
        }
    }
}
