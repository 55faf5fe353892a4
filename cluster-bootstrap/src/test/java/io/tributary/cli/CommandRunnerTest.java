package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.config.ConfigError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** What a command's failure becomes: the line on stderr and the exit status. */
class CommandRunnerTest {

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Command(name = "tributary")
    static final class Failing implements Callable<Integer> {
        private final Throwable failure;

        Failing(Throwable failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            if (failure instanceof Exception e) {
                throw e;
            }
            throw (Error) failure;
        }
    }

    private int run(Throwable failure) {
        err.reset();
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return CommandRunner.execute(new CommandLine(new Failing(failure)), new String[0], sink,
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anErrorTheUserCanFixIsOneLineAndStatusTwo() {
        assertEquals(2, run(new ConfigError("unknown config key 'tributary.x': remove it")));
        assertEquals("tributary: error: unknown config key 'tributary.x': remove it\n", stderr());
        assertEquals(2, run(new IllegalArgumentException("--roles needs at least one role")));
        assertEquals("tributary: error: --roles needs at least one role\n", stderr());
        assertEquals(2, run(new NoSuchFileException("runs/demo-1/credits.json")));
        assertEquals("tributary: error: runs/demo-1/credits.json\n", stderr());
    }

    @Test
    void anUnexpectedErrorIsStatusOne() {
        assertEquals(1, run(new NullPointerException("a bug")));
        assertTrue(stderr().contains("tributary: internal error: java.lang.NullPointerException: a bug"), stderr());
        // an Error too (not an OutOfMemoryError here: Surefire takes that for its fork dying)
        assertEquals(1, run(new NoClassDefFoundError("io/tributary/Missing")));
        assertTrue(stderr().contains("tributary: internal error: java.lang.NoClassDefFoundError: io/tributary/Missing"),
                stderr());
    }
}
