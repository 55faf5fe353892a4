package io.tributary.history;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint or history file is not what it claims to be: truncated, malformed or inconsistent.
 * The message is one line that starts with the file.
 */
public final class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A problem with {@code file}; {@code problem} is one line, without the file name. */
    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}
