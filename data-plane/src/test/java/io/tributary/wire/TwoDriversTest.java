package io.tributary.wire;

import static io.tributary.wire.WireTestSupport.settings;

import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Two real media drivers on 127.0.0.1 per test, a trainer's and a shard's, and the agent that runs
 * the shard side's receiver; all closed after each test.
 */
abstract class TwoDriversTest {

    protected static final long RUN = 42L;
    protected static final int STREAM = 1001;

    protected DataPlane trainerSide;
    protected DataPlane shardSide;
    private AgentRunner runner;

    @BeforeEach
    void launchDrivers() {
        trainerSide = DataPlane.launch(settings());
        shardSide = DataPlane.launch(settings());
    }

    @AfterEach
    void closeDrivers() {
        CloseHelper.closeAll(runner, trainerSide, shardSide);
        afterClose();
    }

    /** Checks a test class makes once everything is closed. */
    protected void afterClose() {
    }

    /** Runs {@code receiver} on an agent thread of its own; a failure in it fails the test. */
    protected void start(FrameReceiver receiver) {
        runner = new AgentRunner(new BackoffIdleStrategy(), t -> { throw new AssertionError(t); }, null, receiver);
        AgentRunner.startOnThread(runner);
    }
}
