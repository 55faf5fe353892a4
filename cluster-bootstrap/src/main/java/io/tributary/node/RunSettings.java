package io.tributary.node;

import com.typesafe.config.Config;
import io.tributary.coordinator.RunRecorder;
import io.tributary.kernels.BackendMode;
import io.tributary.trainer.cluster.Attack;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What a node needs of the run's configuration beyond the module-level settings records
 * ({@code ModelSpec}, {@code ShardSettings}, {@code TrainSettings}, {@code WorkSettings},
 * {@code DataSettings}): read once when the node starts and checked here, so that nothing past the
 * edge reads a configuration key.
 *
 * @param runId           {@code tributary.cluster.run-id}
 * @param minTrainers     trainers the run waits for before it starts
 * @param evalEverySteps  evaluations between epochs (0: after each epoch only)
 * @param reputationRate  {@code tributary.trust.reputation-rate}
 * @param quarantineBelow {@code tributary.trust.quarantine-below}
 * @param resumeFrom      the checkpoint or run folder to go on from; null for a fresh run
 * @param runDir          where history, checkpoints and credits go; null: not recorded
 * @param configHash      the hash of the run's {@code tributary} configuration (the history records it)
 * @param chaosControl    the chaos tool's control file; null: no in-process faults
 * @param backend         {@code tributary.backend.mode}
 * @param dataPlane       {@code tributary.data-plane}
 * @param trainer         {@code tributary.trainer}
 */
public record RunSettings(long runId, int minTrainers, int evalEverySteps, double reputationRate, double quarantineBelow,
                          Path resumeFrom, Path runDir, String configHash, Path chaosControl, BackendMode backend,
                          DataPlaneSettings dataPlane, TrainerSettings trainer) {

    /** {@code tributary.data-plane}: the Aeron port, MTU, frame signing and time-outs. */
    public record DataPlaneSettings(int port, int mtu, boolean authenticate, Duration sendTimeout,
                                    Duration requestTimeout, long bandwidthCap) {
        public DataPlaneSettings {
            if (bandwidthCap < 0) {
                throw new IllegalArgumentException("tributary.data-plane.bandwidth-cap = " + bandwidthCap
                        + " is invalid: bytes per second, >= 0 (0: no cap)");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("tributary.data-plane.port = " + port + " is invalid: use 0 (any free "
                        + "port) or 1..65535");
            }
            positive(sendTimeout, "tributary.data-plane.send-timeout");
            positive(requestTimeout, "tributary.data-plane.request-timeout");
        }
    }

    /** {@code tributary.trainer}: GPU fallback, and the faults and attacks tests and chaos runs give a trainer. */
    public record TrainerSettings(int gpuFailuresBeforeCpu, double slowdown, Attack attack, double lieZ) {
        public TrainerSettings {
            if (gpuFailuresBeforeCpu < 1) {
                throw new IllegalArgumentException("tributary.trainer.gpu-failures-before-cpu = " + gpuFailuresBeforeCpu
                        + " is invalid: it must be >= 1");
            }
            if (!(slowdown >= 1.0)) {
                throw new IllegalArgumentException("tributary.trainer.slowdown = " + slowdown + " is invalid: it must be"
                        + " >= 1 (1: full speed)");
            }
        }
    }

    public RunSettings {
        if (minTrainers < 1) {
            throw new IllegalArgumentException("tributary.cluster.min-trainers = " + minTrainers + " is invalid: it must "
                    + "be >= 1");
        }
        if (evalEverySteps < 0) {
            throw new IllegalArgumentException("tributary.cluster.eval-every-steps = " + evalEverySteps + " is invalid: "
                    + "use 0 (after each epoch) or a positive number of steps");
        }
    }

    public static RunSettings from(Config root) {
        Config cluster = root.getConfig("tributary.cluster");
        Config trust = root.getConfig("tributary.trust");
        Config dp = root.getConfig("tributary.data-plane");
        Config t = root.getConfig("tributary.trainer");
        return new RunSettings(cluster.getLong("run-id"), cluster.getInt("min-trainers"), cluster.getInt("eval-every-steps"),
                trust.getDouble("reputation-rate"), trust.getDouble("quarantine-below"),
                pathOrNull(cluster.getString("resume-from")), pathOrNull(cluster.getString("run-dir")),
                RunRecorder.configHash(root), pathOrNull(root.getString("tributary.chaos.control-file")),
                BackendMode.parse(root.getString("tributary.backend.mode")),
                new DataPlaneSettings(dp.getInt("port"), dp.getInt("mtu"), dp.getBoolean("authenticate"),
                        dp.getDuration("send-timeout"), dp.getDuration("request-timeout"), dp.getBytes("bandwidth-cap")),
                new TrainerSettings(t.getInt("gpu-failures-before-cpu"), t.getDouble("slowdown"),
                        Attack.parse(t.getString("attack")), t.getDouble("lie-z")));
    }

    private static Path pathOrNull(String s) {
        return s.isBlank() ? null : Path.of(s.trim());
    }

    private static void positive(Duration d, String key) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(key + " = " + d + " is invalid: it must be positive");
        }
    }
}
