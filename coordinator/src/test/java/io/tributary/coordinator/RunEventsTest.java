package io.tributary.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tributary.protocol.NodeProtocol.RunEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's listener calls reach a following node as {@link RunEvent}s and come back out as the
 * same calls with the same arguments (the expectations are the arguments given here); events sent
 * before any follower is known are held for the first one.
 */
class RunEventsTest {

    private static final ActorTestKit KIT = ActorTestKit.create();

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    /** Records every call as one line. */
    private static final class Recorder implements RunListener {
        final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        RunResult result;

        @Override
        public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch, String policy) {
            calls.add("started " + trainers + " " + shards + " " + totalSteps + " " + stepsPerEpoch + " " + localBatch
                    + " " + policy);
        }

        @Override
        public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers, double loss,
                             double lastAccuracy) {
            calls.add("progress " + step + " " + totalSteps + " " + samplesPerSecond + " " + liveTrainers + " " + loss
                    + " " + lastAccuracy);
        }

        @Override
        public void evaluated(int epoch, long step, double accuracy) {
            calls.add("evaluated " + epoch + " " + step + " " + accuracy);
        }

        @Override
        public void finished(RunResult r) {
            result = r;
            calls.add("finished");
        }

        @Override
        public void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
            calls.add("workPlanned " + plan + " " + from + " " + why + " " + batches);
        }

        @Override
        public void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
            calls.add("coordinatorTookOver " + node + " " + step + " " + storedStep + " " + seconds);
        }

        @Override
        public void failed(String reason) {
            calls.add("failed " + reason);
        }
    }

    @Test
    void everyCallArrivesAsTheSameCallAndNothingSentBeforeAFollowerIsLost() {
        // a system of its own: the other test's follower would take the held events (they go to the first follower)
        ActorTestKit kit = ActorTestKit.create("RunEventsTestOwn");
        try {
            everyCallArrives(kit);
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static void everyCallArrives(ActorTestKit kit) {
        RunListener out = RunEvents.sender(kit.system(), 7L);
        // before any follower: held
        out.started(3, 4, 476, 476, 42, "sync");
        TestProbe<RunEvent> follower = kit.createTestProbe();
        kit.system().receptionist().tell(Receptionist.register(RunEvents.KEY, follower.ref()));
        Recorder in = new Recorder();
        RunEvent first = follower.receiveMessage(Duration.ofSeconds(10));
        RunEvents.deliver(first, in);
        out.progress(52, 476, 612.5, 3, 0.1552, Double.NaN);
        out.evaluated(0, 50, 0.9096);
        Map<Integer, Integer> batches = new TreeMap<>(Map.of(0, 42, 2, 43, 3, 43));
        out.workPlanned(1, 51, "trainer 1 gone", batches);
        out.coordinatorTookOver("pekko://tributary@127.0.0.1:43609", 52, 47, 0.08);
        out.failed("no majority");
        UpdateAudit.Summary u = new UpdateAudit.Summary(1904, 0, 0, 2, 0, 0, null);
        WorkPlanner.Summary a = new WorkPlanner.Summary(1, 59_976, 59_976, 0, 0, 0, 3);
        RunResult r = new RunResult(0.9684, 476, 1, 612.0, 94.3, 0, 3, 1, 5652, 0, u, a, 90.1, 665.6);
        out.finished(r);
        for (int i = 0; i < 6; i++) { // the six calls after the start
            RunEvents.deliver(follower.receiveMessage(Duration.ofSeconds(10)), in);
        }
        assertEquals(List.of("started 3 4 476 476 42 sync", "progress 52 476 612.5 3 0.1552 NaN",
                "evaluated 0 50 0.9096", "workPlanned 1 51 trainer 1 gone {0=42, 2=43, 3=43}",
                "coordinatorTookOver pekko://tributary@127.0.0.1:43609 52 47 0.08", "failed no majority", "finished"),
                in.calls);
        assertEquals(r, in.result, "the run's result, every figure and both audits");
        assertNull(in.result.updates().firstProblem());
    }

    @Test
    void anEventOfAnotherRunIsNotDelivered() {
        Recorder in = new Recorder();
        TestProbe<Object> nothing = KIT.createTestProbe();
        var follower = KIT.spawn(RunEvents.follower(8L, in));
        follower.tell(new RunEvent(9L, "failed", new long[0], new double[0], new String[] {"not this run"}));
        follower.tell(new RunEvent(8L, "failed", new long[0], new double[0], new String[] {"this run"}));
        nothing.awaitAssert(Duration.ofSeconds(5), () -> {
            synchronized (in.calls) {
                assertEquals(List.of("failed this run"), List.copyOf(in.calls));
            }
            return null;
        });
    }
}
