package io.tributary.wire;

/**
 * A frame could not be sent: the publication stayed back-pressured or unconnected past the send
 * deadline, or it is closed or exhausted. {@link #result()} is the last {@code offer} result.
 */
public final class OfferFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long result;

    public OfferFailedException(String message, long result) {
        super(message);
        this.result = result;
    }

    /** The last {@code Publication.offer} result, e.g. {@code Publication.NOT_CONNECTED}. */
    public long result() {
        return result;
    }

    /** The name of {@link #result()}, e.g. {@code "NOT_CONNECTED"}. */
    public String resultName() {
        return FramePublisher.offerResultName(result);
    }
}
