package io.tributary.protocol;

import java.util.Objects;

/** What one node tells another about membership itself (not about a run). */
public final class NodeProtocol {

    private NodeProtocol() {
    }

    /**
     * Sent by a member to a node it is about to down because the node claims a role its TLS
     * certificate does not grant: {@code by} is the sender's address, {@code reason} the check that
     * failed. The refused node logs it, so that both sides say why.
     */
    public record AdmissionDenied(String by, String reason) implements WireMessage {
        public AdmissionDenied {
            Objects.requireNonNull(by, "by");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
