package io.tributary.chaos;

/** A scenario file is wrong; the message names the file, the key and its line. */
public final class ScenarioException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ScenarioException(String oneLine) {
        super(oneLine);
    }
}
