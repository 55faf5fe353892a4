package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.protocol.StateKryo;
import io.tributary.protocol.TrainerProtocol.TrainerCommand;
import io.tributary.protocol.WorkPlan;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The state a coordinator stores for its successor ({@link StoredRun} through {@link StateKryo}): what is
 * read back goes on exactly as the original would have — the expectations are the hand-counted samples
 * of an epoch and the refs the roster held, not what the codec says.
 */
class CoordinatorStateTest {

    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final int SPE = 10;
    private static final int G = 128;
    private static final int[] THREE = {0, 1, 2};
    private static final int[] EQUAL3 = {1000, 1000, 1000};

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private static StateKryo kryo() {
        return new StateKryo(ActorRefResolver.get(KIT.system()));
    }

    private static void serve(WorkPlanner planner, WorkPlan p, long s) {
        for (int i = 0; i < p.trainers().length; i++) {
            if (p.sliceSize(i, s) > 0) {
                planner.served(p.trainers()[i], s);
            }
        }
    }

    @Test
    void aPlannerReadBackHalfwayFinishesTheEpochWithEverySampleOnce() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 4, true);
        WorkPlan plan = planner.start(0, THREE, EQUAL3);
        for (long s = 0; s < 5; s++) {
            serve(planner, plan, s);
            planner.extend(s + 1, THREE, EQUAL3);
        }
        StoredRun run = new StoredRun();
        run.runId = 7;
        run.planner = planner;
        run.committedSteps = 5;
        StoredRun back = (StoredRun) kryo().read(kryo().write(run));
        back.planner.rewire();
        assertNotSame(planner, back.planner);
        assertEquals(7, back.runId);
        assertEquals(5, back.committedSteps);
        assertEquals(planner.leasedUntil(), back.planner.leasedUntil());
        for (long s = 5; s < SPE; s++) {
            serve(back.planner, plan, s); // the successor takes the commits of the rest of the epoch
            back.planner.extend(s + 1, THREE, EQUAL3);
        }
        back.planner.closeBefore(SPE);
        WorkPlanner.Summary a = back.planner.summary();
        assertEquals(SPE * G, a.expected());
        assertEquals(SPE * G, a.trained(), "the first half's marks came along: every sample trained once");
        assertEquals(0, a.missed());
        assertEquals(0, a.twice());
    }

    @Test
    void aCommitThePredecessorTookIsNotCountedAgainByTheSuccessor() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, SPE, 4, true);
        WorkPlan plan = planner.start(0, THREE, EQUAL3);
        for (long s = 0; s < 4; s++) {
            serve(planner, plan, s);
            planner.extend(s + 1, THREE, EQUAL3);
        }
        WorkPlanner back = (WorkPlanner) kryo().read(kryo().write(planner));
        back.rewire();
        assertEquals(0, back.served(0, 3), "step 3 of trainer 0 was marked before the store: not again");
        int slice = plan.sliceSize(plan.indexOf(0), 4);
        assertTrue(slice >= G / 3, "trainer 0 has a third of step 4");
        assertEquals(slice, back.served(0, 4), "step 4 is new: trainer 0's slice is marked");
    }

    @Test
    void theRosterComesBackWithTheTrainersRefsAndCredits() {
        ActorRef<TrainerCommand> a = KIT.<TrainerCommand>createTestProbe().ref();
        ActorRef<TrainerCommand> b = KIT.<TrainerCommand>createTestProbe().ref();
        Roster roster = new Roster(8);
        Roster.Member ma = roster.admit("node-a", a, 0);
        Roster.Member mb = roster.admit("node-b", b, 0);
        ma.samples = 1234;
        roster.gone(mb, 40);
        CreditLedger ledger = new CreditLedger(0.1, 0.2);
        ledger.served(ma.id, 1234);
        StoredRun run = new StoredRun();
        run.roster = roster;
        run.ledger = ledger;
        StoredRun back = (StoredRun) kryo().read(kryo().write(run));
        List<Roster.Member> members = new ArrayList<>(back.roster.all());
        assertEquals(2, members.size());
        assertEquals(a, back.roster.byId(ma.id).ref, "the same trainer actor, resolved again");
        assertEquals(b, back.roster.byId(mb.id).ref);
        assertEquals(1234, back.roster.byId(ma.id).samples);
        assertTrue(back.roster.byId(ma.id).live);
        assertTrue(!back.roster.byId(mb.id).live, "a gone trainer stays gone");
        assertEquals(1, back.roster.liveCount());
        assertEquals(ledger.toJson(7, 40), back.ledger.toJson(7, 40));
    }

    @Test
    void bytesItDidNotWriteAreRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> kryo().read(new byte[] {1, 2, 3, 4, 5}));
        assertTrue(e.getMessage().contains("stored state"), e.getMessage());
    }

    @Test
    void aLeaseRaisedOnTakeOverStopsAtTheLastStoredPlan() {
        WorkPlanner planner = new WorkPlanner(1, SPE, G, 3 * SPE, 4, true);
        planner.start(0, THREE, EQUAL3); // the plan of epoch 0: steps 0..9, leased to 4
        planner.leaseAtLeast(7);
        assertEquals(7, planner.leasedUntil(), "raised to the bound");
        planner.leaseAtLeast(5);
        assertEquals(7, planner.leasedUntil(), "never lowered");
        planner.leaseAtLeast(25);
        assertEquals(SPE, planner.leasedUntil(), "not into epoch 1, whose plan is not stored");
    }
}
