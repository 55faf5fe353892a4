package io.tributary.coordinator;

import io.tributary.coordinator.Roster.Member;
import io.tributary.protocol.ProtocolRegistry;
import io.tributary.protocol.CoordinatorProtocol.CoordinatorCommand;
import io.tributary.protocol.CoordinatorProtocol.MemberOffence;
import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;
import io.tributary.protocol.TrainerProtocol.Rejected;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.protocol.WorkPlan;
import io.tributary.ps.shard.ShardSettings;
import java.util.Locale;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;

/**
 * Who trains in the run: trainers register (the run starts once enough have), come back after a
 * restart, join mid-run, go, or are quarantined when the credit ledger says their contributions
 * keep being rejected. Who a registration speaks for is {@link MemberIdentities}' word: a trainer is
 * keyed on that identity (its certificate, with TLS), not on the address it registers from; the ledger goes to the metrics and {@code credits.json}. The roster itself
 * ({@link Roster}) knows; this class decides and tells.
 */
final class RosterKeeper {

    /**
     * A trainer's actor terminated (it stopped, or its node is gone). The actor is named because an
     * id outlives it: the trainer may have registered again from a new actor, or its id may have gone
     * to another trainer, and then this is about neither.
     */
    record TrainerTerminated(int trainerId, ActorRef<TrainerCommand> trainer) implements CoordinatorCommand {
    }

    private final ActorContext<CoordinatorCommand> ctx;
    private final TrainingCoordinator.Settings settings;
    private final Roster roster;
    private final CreditLedger ledger;
    private final WorkDispatch work;
    private final RunListener listener;
    private final CoordinatorMetrics metrics;
    private final RunRecorder recorder;
    private final RunView run;
    private final MemberIdentities identities;

    /** A coordinator took the run over: it watches every trainer still in it, as its predecessor did. */
    void watchAll() {
        for (Roster.Member m : roster.all()) {
            if (m.live) {
                ctx.watchWith(m.ref, new TrainerTerminated(m.id, m.ref));
            }
        }
    }

    RosterKeeper(ActorContext<CoordinatorCommand> ctx, TrainingCoordinator.Settings settings, Roster roster,
                 CreditLedger ledger, WorkDispatch work, RunListener listener, CoordinatorMetrics metrics,
                 RunRecorder recorder, RunView run, MemberIdentities identities) {
        this.identities = identities;
        this.ctx = ctx;
        this.settings = settings;
        this.roster = roster;
        this.ledger = ledger;
        this.work = work;
        this.listener = listener;
        this.metrics = metrics;
        this.recorder = recorder;
        this.run = run;
    }

    void onRegister(RegisterTrainer r) {
        if (r.protocolVersion() != ProtocolRegistry.PROTOCOL_VERSION) {
            r.trainer().tell(new Rejected("protocol version " + r.protocolVersion() + " differs from the coordinator's "
                    + ProtocolRegistry.PROTOCOL_VERSION + ": run the same Tributary release on every node"));
            return;
        }
        MemberIdentities.Verdict verdict = identities.vet(r);
        if (verdict instanceof MemberIdentities.Pending p) {
            ctx.getLog().info("the trainer registration from {} waits: {}", r.nodeId(), p.reason());
            return;
        }
        if (verdict instanceof MemberIdentities.Refused f) {
            ctx.getLog().error("refused the trainer registration from {} (trainer {}): {}{}", r.nodeId(),
                    r.trainer().path(), f.reason(), f.authentic() ? "" : "; the trainer it names is not told (the"
                            + " registration is not its node's word)");
            metrics.registrationsRefused.inc();
            if (f.authentic()) {
                r.trainer().tell(new Rejected(f.reason()));
            }
            return;
        }
        MemberIdentities.Admitted who = (MemberIdentities.Admitted) verdict;
        Member known = roster.byIdentity(who.identity());
        if (known != null && known.quarantined) {
            String reason = "trainer " + known.id + " (" + who.name() + ") was quarantined in run " + settings.runId()
                    + " (last from " + known.nodeId + "); it may not register again this run, from any address";
            ctx.getLog().error("refused the trainer registration from {}: {}", r.nodeId(), reason);
            metrics.registrationsRefused.inc();
            r.trainer().tell(new Rejected(reason));
            return;
        }
        if (known != null) {
            // A restarted trainer (same identity): same id, from where the run stands, with the plans from there.
            if (!known.nodeId.equals(r.nodeId())) {
                ctx.getLog().warn("trainer {} ({}) registers again from {} (was {})", known.id, who.name(), r.nodeId(),
                        known.nodeId);
                known.nodeId = r.nodeId();
            }
            if (!known.ref.equals(r.trainer())) {
                // the old incarnation's end (its node may go only now) must not mark the new one gone
                ctx.unwatch(known.ref);
            }
            known.ref = r.trainer();
            known.rewinding = false;
            boolean moved = !known.dataEndpoint.equals(r.dataEndpoint());
            known.dataEndpoint = r.dataEndpoint();
            ctx.watchWith(r.trainer(), new TrainerTerminated(known.id, r.trainer()));
            if (run.started()) {
                long at = settings.shards().policy().synchronous() ? run.committedSteps() : known.doneSteps;
                boolean back = !known.live;
                known.live = true;
                known.freesAt = Long.MAX_VALUE;
                if (back || moved) {
                    // the shards learn where its gradients now come from before it is told to send any
                    run.sendQuorum();
                }
                known.ref.tell(run.assignment(known, at));
                if (back) {
                    work.replan("trainer " + known.id + " is back", known, known, at);
                }
                work.sendPlans(known, at);
            }
            return;
        }
        String full = roster.refusal(run.committedSteps());
        if (full != null) {
            r.trainer().tell(new Rejected(full));
            return;
        }
        if (run.started()) {
            joinMidRun(r, who);
            return;
        }
        Member m = roster.admit(who.identity(), r.nodeId(), r.trainer(), run.committedSteps());
        m.dataEndpoint = r.dataEndpoint();
        ledger.admitted(m.id, m.nodeId);
        ctx.watchWith(r.trainer(), new TrainerTerminated(m.id, r.trainer()));
        ctx.getLog().info("trainer {} registered from {} as {} ({}), data plane {}", m.id, r.nodeId(), who.name(),
                r.backend(), r.dataEndpoint());
        if (roster.size() >= settings.minTrainers()) {
            run.startRun();
        }
    }

    /**
     * A trainer that registers after the start joins the quorum at the step the run stands at, gets
     * a share of the next work plan (from the lease on) and, for the steps before it, a bridge of its
     * own from the end of the epoch; where the epoch has too little left for one, its steps until
     * the next plan are empty.
     */
    private void joinMidRun(RegisterTrainer r, MemberIdentities.Admitted who) {
        Member m = roster.admit(who.identity(), r.nodeId(), r.trainer(), run.committedSteps());
        m.dataEndpoint = r.dataEndpoint();
        m.doneSteps = run.committedSteps();
        ledger.admitted(m.id, m.nodeId);
        ctx.watchWith(r.trainer(), new TrainerTerminated(m.id, r.trainer()));
        run.sendQuorum();
        m.ref.tell(run.assignment(m, run.committedSteps()));
        work.replan("trainer " + m.id + " joined", m, m, run.committedSteps());
        WorkPlan bridge = work.planner().bridgeOf(m.id, run.committedSteps());
        ctx.getLog().warn("trainer {} joined mid-run from {} at step {}: {}", m.id, r.nodeId(), run.committedSteps(),
                bridge != null ? "it computes on " + bridge.sliceSize(0, run.committedSteps()) + " samples a step from then on"
                        : "it gets a batch from step " + work.planner().leasedUntil() + " on (the next work plan)");
        work.sendPlans(m, run.committedSteps());
        listener.trainerJoined(m.id, -1, run.committedSteps());
    }

    void onTrainerTerminated(TrainerTerminated t) {
        Member m = roster.byId(t.trainerId());
        if (m == null || !m.live || !m.ref.equals(t.trainer()) || run.finished()) {
            return;
        }
        // before the start nothing was planned for it: its id is free at once; after, once its samples are handed on
        roster.gone(m, run.started() ? Long.MAX_VALUE : 0);
        ledger.status(m.id, CreditLedger.Status.GONE);
        ctx.getLog().warn("trainer {} ({}) is gone; {} trainers remain", m.id, m.nodeId, roster.liveCount());
        if (run.started()) {
            run.sendQuorum();
            work.replan("trainer " + m.id + " gone", null);
        }
    }

    /**
     * A trainer's reputation fell below {@code tributary.trust.quarantine-below}: it leaves the
     * quorum at once, is told why and stops, its undelivered samples go to the others (a new work plan),
     * and its node is downed (unless it is this node), which removes its data-plane key everywhere
     * so that its frames are dropped. The operator is told in the log, the listener and a metric.
     */
    void quarantine(int id) {
        CreditLedger.Entry e = ledger.entry(id);
        if (e == null) {
            return;
        }
        quarantine(id, String.format(Locale.ROOT, "reputation %.2f fell below %.2f: of its %d gradient "
                        + "slices %d were rejected (non-finite, over the norm bound, or leaning one way step after step) "
                        + "and %d lay far outside the others' "
                        + "(clipped or trimmed by the aggregation rule)", e.reputation(), ledger.quarantineBelow(),
                e.rejected() + e.accepted(), e.rejected(), e.outliers()));
    }

    /**
     * A member caught lying about who it is on the data plane (its reporter downed it already): its trainer,
     * if it has one in this run, is quarantined with the reporter's words as the reason.
     */
    void onOffence(MemberOffence o) {
        String unvouched = identities.unvouched(o);
        if (unvouched != null) {
            ctx.getLog().error("ignored a report that member {} {} (said to come from {}): {}", o.member(), o.offence(),
                    o.reporter(), unvouched);
            return;
        }
        for (Member m : roster.all()) {
            if (m.nodeId.equals(o.member())) {
                quarantine(m.id, "its node " + o.offence() + " (caught by " + o.reporter() + ")");
                return;
            }
        }
        ctx.getLog().error("member {} {} (caught by {}); it holds no trainer of this run, so there is nothing to"
                + " quarantine: its reporter downed it", o.member(), o.offence(), o.reporter());
    }

    /** Quarantines trainer {@code id} for {@code reason} (see {@link #quarantine(int)}). */
    void quarantine(int id, String reason) {
        Member m = roster.byId(id);
        CreditLedger.Entry e = ledger.entry(id);
        if (m == null || e == null || m.quarantined) {
            return;
        }
        m.quarantined = true;
        ledger.status(id, CreditLedger.Status.QUARANTINED);
        ctx.getLog().error("trainer {} ({}) quarantined: {}. It leaves the quorum, its node is downed; check that"
                + " volunteer before it joins another run", id, m.nodeId, reason);
        metrics.trainersQuarantined.inc();
        listener.trainerQuarantined(id, m.nodeId, reason);
        if (m.live) {
            m.live = false;
            if (run.started()) {
                run.sendQuorum();
            }
            m.ref.tell(new Rejected("quarantined by the coordinator: " + reason));
            if (run.started()) {
                work.replan("trainer " + id + " quarantined", null);
            }
        }
        try {
            Address address = AddressFromURIString.parse(m.nodeId);
            Cluster cluster = Cluster.get(ctx.getSystem());
            if (address.equals(cluster.selfMember().address())) {
                ctx.getLog().warn("trainer {} runs on the coordinator's own node: it is stopped, the node stays", id);
            } else {
                cluster.manager().tell(new Down(address));
            }
        } catch (RuntimeException ex) {
            ctx.getLog().warn("trainer {}: its node id '{}' is not a cluster address ({}); the node is not downed",
                    id, m.nodeId, ex.getMessage());
        }
        publishCredits(run.committedSteps());
    }

    /** The ledger to the metrics and, when the run is recorded, to {@code credits.json}. */
    void publishCredits(long step) {
        for (CreditLedger.Entry e : ledger.entries()) {
            String t = Integer.toString(e.trainer());
            metrics.creditSamples.labelValues(t).set(e.samples());
            metrics.creditSlices.labelValues(t, "accepted").set(e.accepted());
            metrics.creditSlices.labelValues(t, "rejected").set(e.rejected());
            metrics.creditSlices.labelValues(t, "outlier").set(e.outliers());
            metrics.creditComputeSeconds.labelValues(t).set(e.computeSeconds());
            metrics.creditReputation.labelValues(t).set(e.reputation());
        }
        if (recorder != null) {
            recorder.writeCredits(ledger.toJson(settings.runId(), step));
        }
    }
}
