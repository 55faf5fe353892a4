package io.tributary.ps.protocol;

import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Control-plane messages between nodes and the training coordinator (a cluster singleton). Each
 * sealed interface is the protocol of its future owner; every record here is registered in
 * {@link ProtocolRegistry}. Records are immutable: collections are copied on construction.
 */
public final class ControlMessages {

    private ControlMessages() {
    }

    /** What the training coordinator receives from nodes. */
    public sealed interface CoordinatorCommand extends WireMessage permits JoinRequest {
    }

    /** The coordinator's answer to a {@link JoinRequest}. */
    public sealed interface JoinReply extends WireMessage permits JoinAccepted, JoinRejected {
    }

    /** What the coordinator announces to trainers and parameter shards as the run goes on. */
    public sealed interface RunEvent extends WireMessage permits StepCommit, TrainerLeft {
    }

    /**
     * A node asks to take part in the run.
     *
     * @param roles              the node's roles ({@code coordinator}, {@code ps}, {@code trainer})
     * @param backendDescription the compute backend it chose and why, for the logs and the dashboard
     * @param aeronPort          where its data plane receives gradient and parameter frames
     * @param replyTo            where the coordinator sends the {@link JoinReply}
     */
    public record JoinRequest(String nodeId, int protocolVersion, Set<String> roles, String backendDescription,
                              int aeronPort, ActorRef<JoinReply> replyTo) implements CoordinatorCommand {
        public JoinRequest {
            Objects.requireNonNull(nodeId, "nodeId");
            roles = Set.copyOf(roles);
            Objects.requireNonNull(backendDescription, "backendDescription");
            Objects.requireNonNull(replyTo, "replyTo");
        }
    }

    /** The node is in: it trains data partition {@code partitionIndex} of {@code partitionCount} from {@code modelVersion}. */
    public record JoinAccepted(long runId, int partitionIndex, int partitionCount, long modelVersion) implements JoinReply {
    }

    /** The node may not join; {@code reason} says why and what to change. */
    public record JoinRejected(String reason) implements JoinReply {
        public JoinRejected {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Step {@code step} of run {@code runId} closed with the gradients of {@code contributors} trainers. */
    public record StepCommit(long runId, long step, int contributors) implements RunEvent {
    }

    /** A trainer left the quorum (left, was downed or was rejected); its partition is handed on. */
    public record TrainerLeft(String nodeId, String reason) implements RunEvent {
        public TrainerLeft {
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
