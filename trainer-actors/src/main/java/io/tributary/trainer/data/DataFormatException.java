package io.tributary.trainer.data;

/**
 * A data file or directory is missing or malformed. The message is a single line that
 * names the path, the problem and what to do about it.
 */
public final class DataFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataFormatException(String message) {
        super(oneLine(message));
    }

    public DataFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Messages end up in logs and CLI output, where a stray newline splits one error into two. */
    static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
