package io.tributary.node;

/** A node could not start; the one-line message names the input at fault and how to fix it. */
public final class NodeStartException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NodeStartException(String oneLine) {
        super(oneLine);
    }

    public NodeStartException(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }
}
