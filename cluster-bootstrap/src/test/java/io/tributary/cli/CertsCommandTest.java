package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.tls.TlsMaterial;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertsCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return CertsCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anOperatorAdmitsAVolunteerWithTwoCommands(@TempDir Path dir) throws Exception {
        assertEquals(0, run("init", dir.resolve("ca").toString(), "--name", "lab"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("cluster CA CN=lab cluster CA"), out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run("sign", dir.resolve("ca").toString(), "--name", "alice", "--roles", "trainer",
                "--out", dir.resolve("alice").toString(), "--days", "30"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("tributary node --roles trainer --tls-dir"));
        TlsMaterial.Node alice = TlsMaterial.loadNode(dir.resolve("alice"));
        assertEquals(Set.of("trainer"), alice.roles());
        long days = (alice.certificate().getNotAfter().getTime() - System.currentTimeMillis()) / 86_400_000L;
        assertTrue(days >= 29 && days <= 30, "valid for " + days + " days");
    }

    @Test
    void badUseGetsOneLineAndExitStatus2(@TempDir Path dir) {
        assertEquals(2, run());
        assertEquals(2, run("sign", "--name", "x"));
        assertTrue(err().contains("needs the CA folder first"), err());
        assertEquals(2, run("sign", dir.resolve("none").toString(), "--name", "x", "--roles", "ps", "--out", dir.resolve("x").toString()));
        assertTrue(err().contains("does not exist") && err().contains("ca.crt"), err());
        assertEquals(0, run("init", dir.resolve("ca").toString()));
        assertEquals(2, run("init", dir.resolve("ca").toString()));
        assertTrue(err().contains("already holds a cluster CA"), err());
        assertEquals(2, run("sign", dir.resolve("ca").toString(), "--name", "x", "--roles", "gpu", "--out", dir.resolve("x").toString()));
        assertTrue(err().contains("role 'gpu' is unknown"), err());
        assertEquals(2, run("sign", dir.resolve("ca").toString(), "--name", "x", "--out", dir.resolve("x").toString()));
        assertTrue(err().contains("needs --name, --roles and --out"), err());
        assertEquals(2, run("sign", dir.resolve("ca").toString(), "--name", "x", "--roles", "ps", "--out", dir.resolve("x").toString(),
                "--days", "soon"));
        assertTrue(err().contains("--days needs a whole number"), err());
        assertEquals(0, run("sign", dir.resolve("ca").toString(), "--name", "x", "--roles", "ps", "--out", dir.resolve("x").toString()));
        assertEquals(2, run("sign", dir.resolve("ca").toString(), "--name", "y", "--roles", "ps", "--out", dir.resolve("x").toString()));
        assertTrue(err().contains("already holds a node key"), err());
        for (String line : err().split("\n")) {
            assertTrue(line.startsWith("tributary: error: "), line);
        }
    }
}
