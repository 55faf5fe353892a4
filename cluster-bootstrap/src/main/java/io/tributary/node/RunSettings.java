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

    /**
     * {@code tributary.data-plane}: the Aeron port, MTU, frame signing and time-outs. {@code port} and {@code mtu}
     * may be {@link NodeSettings#AUTO}: {@link NodeSettings#resolvedDataPlanePort} and {@link #mtuFor} say what
     * they are for a node.
     */
    public record DataPlaneSettings(int port, int mtu, boolean authenticate, Duration sendTimeout,
                                    Duration requestTimeout, long bandwidthCap) {

        /** The MTU a cluster on one machine uses by default: loopback carries 64 KiB datagrams. */
        public static final int LOOPBACK_MTU = 65504;

        /** The MTU for {@code node}: as configured, or for auto 65504 on one machine's loopback, else 1408. */
        public int mtuFor(NodeSettings node) {
            if (mtu != NodeSettings.AUTO) {
                return mtu;
            }
            return node.allOnLoopback() ? LOOPBACK_MTU : io.tributary.wire.DataPlane.Settings.DEFAULT_MTU_LENGTH;
        }

        public DataPlaneSettings {
            if (bandwidthCap < 0) {
                throw new IllegalArgumentException("tributary.data-plane.bandwidth-cap = " + bandwidthCap
                        + " is invalid: bytes per second, >= 0 (0: no cap)");
            }
            if (port != NodeSettings.AUTO && (port < 0 || port > 65535)) {
                throw new IllegalArgumentException("tributary.data-plane.port = " + port + " is invalid: use 0 (any free "
                        + "port), 1..65535 or auto (the Pekko port + 1)");
            }
            if (mtu != NodeSettings.AUTO && (mtu < 1024 || mtu > 65504 || mtu % 32 != 0)) {
                throw new IllegalArgumentException("tributary.data-plane.mtu = " + mtu + " is invalid: use a multiple of"
                        + " 32 in 1024..65504, or auto (65504 on one machine's loopback, else 1408)");
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
                new DataPlaneSettings(autoInt(dp, "port", "tributary.data-plane.port"),
                        autoInt(dp, "mtu", "tributary.data-plane.mtu"), dp.getBoolean("authenticate"),
                        dp.getDuration("send-timeout"), dp.getDuration("request-timeout"), dp.getBytes("bandwidth-cap")),
                new TrainerSettings(t.getInt("gpu-failures-before-cpu"), t.getDouble("slowdown"),
                        Attack.parse(t.getString("attack")), t.getDouble("lie-z")));
    }

    /** {@code key} of {@code c} as a whole number, or {@link NodeSettings#AUTO} for {@code auto}. */
    private static int autoInt(Config c, String key, String name) {
        String v = c.getString(key).trim();
        if (v.equalsIgnoreCase("auto")) {
            return NodeSettings.AUTO;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " = '" + v + "' is invalid: give a whole number or auto");
        }
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
