package io.tributary.coordinator;

import io.tributary.protocol.CoordinatorProtocol.RegisterTrainer;

/**
 * Who a trainer's registration speaks for, decided by the node's module (which knows the cluster's
 * members and their certificates; this module must not): the identity the run keys the trainer on —
 * the same identity after a restart gets the same trainer id, and a quarantined one may not register
 * again this run — or why it is refused, or why it cannot be decided yet.
 */
@FunctionalInterface
public interface MemberIdentities {

    /** What {@link #vet} decided. */
    sealed interface Verdict permits Admitted, Refused, Pending {
    }

    /**
     * The registration speaks for {@code identity} (with TLS, its certificate's fingerprint), known to
     * people as {@code name}.
     */
    record Admitted(String identity, String name) implements Verdict {
    }

    /**
     * The registration is refused for {@code reason}. {@code authentic}: it is its node's own word (its
     * signature verified, or TLS is off), so its trainer is told and stops; a forged one is only logged,
     * or a forger could stop another node's trainer by naming it.
     */
    record Refused(String reason, boolean authentic) implements Verdict {
    }

    /** Not decidable yet ({@code reason}): the trainer registers again every few seconds until it is. */
    record Pending(String reason) implements Verdict {
    }

    /** Takes every registration at its word, keyed on its node id: tests without a cluster. */
    MemberIdentities BY_NODE_ID = r -> new Admitted(r.nodeId(), r.nodeId());

    /** Decides who {@code registration} speaks for. */
    Verdict vet(RegisterTrainer registration);

    /**
     * Why an offence report may not be acted on (not signed by its reporter's TLS key, or its reporter is
     * neither a ps node nor the coordinator), or null when it may. Without a cluster (tests): every report.
     */
    default String unvouched(io.tributary.protocol.CoordinatorProtocol.MemberOffence report) {
        return null;
    }
}
