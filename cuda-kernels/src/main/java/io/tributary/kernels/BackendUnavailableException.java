package io.tributary.kernels;

/**
 * A backend cannot be opened on this machine. The message is one line that says why and what to
 * install or choose instead, fit to show to a user as is; the cause, when there is one, carries
 * the details for a debug log.
 */
public final class BackendUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String reason) {
        super(oneLine(reason));
    }

    public BackendUnavailableException(String reason, Throwable cause) {
        super(oneLine(reason), cause);
    }

    private static String oneLine(String reason) {
        return reason == null ? "backend unavailable" : reason.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
