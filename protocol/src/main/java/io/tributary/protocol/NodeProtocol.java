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

    /**
     * The cluster's revocation list ({@code list}, the text of {@code revoked.txt}) with the CA's signature
     * over it: a node takes it only when the signature verifies under its own CA certificate and it
     * holds every certificate the node's list revokes already.
     */
    public record RevocationUpdate(String list, String signature) implements WireMessage {
        public RevocationUpdate {
            Objects.requireNonNull(list, "list");
            Objects.requireNonNull(signature, "signature");
        }
    }

    /**
     * One event of a run, from the coordinator (wherever the singleton runs) to the nodes that follow
     * the run (role {@code observer}: the demo's and chaos tool's launcher): {@code kind} names the
     * {@code RunListener} call, the arrays carry its arguments in the order that call's codec writes them.
     */
    public record RunEvent(long runId, String kind, long[] longs, double[] doubles, String[] texts)
            implements WireMessage {
        public RunEvent {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(longs, "longs");
            Objects.requireNonNull(doubles, "doubles");
            Objects.requireNonNull(texts, "texts");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RunEvent e && e.runId == runId && e.kind.equals(kind)
                    && java.util.Arrays.equals(e.longs, longs) && java.util.Arrays.equals(e.doubles, doubles)
                    && java.util.Arrays.equals(e.texts, texts);
        }

        @Override
        public int hashCode() {
            return Objects.hash(runId, kind, java.util.Arrays.hashCode(longs), java.util.Arrays.hashCode(doubles),
                    java.util.Arrays.hashCode(texts));
        }

        @Override
        public String toString() {
            return "RunEvent[" + runId + ", " + kind + ", " + java.util.Arrays.toString(longs) + ", "
                    + java.util.Arrays.toString(doubles) + ", " + java.util.Arrays.toString(texts) + "]";
        }
    }
}
