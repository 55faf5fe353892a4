package io.tributary.trainer.cluster;

import io.tributary.dataplane.FrameGrants;
import io.tributary.dataplane.NodeDataPlane;
import io.tributary.protocol.ShardLayout;
import io.tributary.wire.FrameType;
import io.tributary.wire.OfferFailedException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hostile member's data-plane lies, for the hostile-member suite ({@code tributary.trainer.attack} =
 * {@code steal-slot}, {@code extra-votes} or {@code forge-parameters}): frames this trainer's node really
 * signs, so the MAC passes, that speak for someone else. Each step, before its honest gradient goes out:
 * <ul>
 *   <li>{@code steal-slot}: -100 x its gradient to every shard, as the trainer with the id below its own
 *       (above it for trainer 0), so that the victim's honest chunks would be dropped as duplicates;</li>
 *   <li>{@code extra-votes}: the same under ids {@link #EXTRA_IDS}, which no trainer of a small run holds;</li>
 *   <li>{@code forge-parameters}: zero parameters of version {@link #FORGED_VERSION} for every shard, to the
 *       trainer and evaluation replicas of every other node it knows, which would lock their honest
 *       frames out as stale.</li>
 * </ul>
 * The defence (docs/security.md) refuses each before it reaches a slot or a replica, and the node that
 * catches it downs the liar and has its trainer quarantined. Allocates only at construction.
 */
final class HostileFrames {

    private static final Logger LOG = LoggerFactory.getLogger(HostileFrames.class);
    /** Trainer ids an {@code extra-votes} attacker votes under. */
    static final int[] EXTRA_IDS = {10, 11, 12};
    /** The version of forged parameters. */
    static final long FORGED_VERSION = 1L << 40;

    private final Attack attack;
    private final NodeDataPlane plane;
    private final ShardLayout layout;
    private final float[] lie;
    private boolean told;

    HostileFrames(Attack attack, NodeDataPlane plane, int parameterCount) {
        if (!attack.framesLie()) {
            throw new IllegalArgumentException(attack.configName() + " does not lie on the data plane");
        }
        this.attack = attack;
        this.plane = plane;
        this.layout = plane.layout();
        this.lie = new float[parameterCount];
    }

    /** Sends this step's lies; {@code shardEndpoint} says where each shard receives. */
    void send(int trainerId, long step, float[] gradient, java.util.function.IntFunction<String> shardEndpoint) {
        if (attack == Attack.FORGE_PARAMETERS) {
            forgeParameters();
            return;
        }
        for (int i = 0; i < lie.length; i++) {
            lie[i] = -100f * gradient[i];
        }
        if (attack == Attack.STEAL_SLOT) {
            gradients(trainerId == 0 ? 1 : trainerId - 1, step, shardEndpoint);
        } else {
            for (int id : EXTRA_IDS) {
                gradients(id, step, shardEndpoint);
            }
        }
        if (!told) {
            told = true;
            LOG.warn("HOSTILE (tributary.trainer.attack = {}): trainer {} sends gradient frames under another id from"
                    + " step {} on", attack.configName(), trainerId, step);
        }
    }

    private void gradients(int asId, long step, java.util.function.IntFunction<String> shardEndpoint) {
        for (int k = 0; k < layout.shardCount(); k++) {
            String endpoint = shardEndpoint.apply(k);
            if (endpoint == null) {
                continue;
            }
            try {
                plane.send(endpoint, FrameType.GRADIENT, asId, k, 0, step, lie, layout.offset(k), layout.length(k));
            } catch (OfferFailedException | IllegalArgumentException e) {
                LOG.warn("HOSTILE: gradient as trainer {} to shard {} not sent: {}", asId, k, e.getMessage());
            }
        }
    }

    private void forgeParameters() {
        java.util.Arrays.fill(lie, 0f);
        Set<String> targets = plane.auth() == null ? Set.of() : plane.auth().peerEndpoints();
        for (String target : targets) {
            if (target.equals(plane.endpoint())) {
                continue;
            }
            for (int k = 0; k < layout.shardCount(); k++) {
                for (int replica : new int[] {NodeDataPlane.TRAINER_REPLICA, NodeDataPlane.COORDINATOR_REPLICA}) {
                    try {
                        plane.send(target, FrameType.PARAMETERS, FrameGrants.SHARD_SENDER_BASE + k, k, replica,
                                FORGED_VERSION, lie, layout.offset(k), layout.length(k));
                    } catch (OfferFailedException | IllegalArgumentException e) {
                        LOG.warn("HOSTILE: forged parameters of shard {} to {} not sent: {}", k, target, e.getMessage());
                    }
                }
            }
        }
        if (!told) {
            told = true;
            LOG.warn("HOSTILE (tributary.trainer.attack = forge-parameters): parameter frames of version {} to {}",
                    FORGED_VERSION, targets);
        }
    }
}
