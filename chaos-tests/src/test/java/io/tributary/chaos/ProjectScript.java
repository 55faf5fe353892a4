package io.tributary.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the project's scripts (scripts/NAME) from the repository root for the slow tests, bounded in time:
 * its output is printed and returned; a script that ends with status 2 (this machine cannot do it: not root, no
 * namespaces) makes the test skipped with that output, and one that overruns is stopped (its trap cleans up).
 */
final class ProjectScript {

    /** What the script printed and its exit status. */
    record Result(String output, int status) {
    }

    private ProjectScript() {
    }

    static Result run(Path tmp, String script, int minutes, String... args) throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path log = tmp.resolve(script + ".log");
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("scripts/" + script).toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(minutes, TimeUnit.MINUTES);
        if (!done) {
            p.destroy(); // SIGTERM: the script's trap stops its nodes and undoes what it set up
            p.waitFor(30, TimeUnit.SECONDS);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(done, "scripts/" + script + " did not end within " + minutes + " minutes:\n" + out);
        assumeTrue(p.exitValue() != 2, "skipped: this machine cannot run scripts/" + script + ":\n" + out);
        return new Result(out, p.exitValue());
    }
}
