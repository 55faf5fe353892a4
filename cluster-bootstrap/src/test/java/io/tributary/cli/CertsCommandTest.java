package io.tributary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.tls.RevocationList;
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

    /** The volunteer's key stays on its machine: request there, sign the request at the operator's, copy back. */
    @Test
    void aVolunteerRequestsAndTheOperatorSignsTheRequest(@TempDir Path dir) throws Exception {
        String ca = dir.resolve("ca").toString();
        assertEquals(0, run("init", ca));
        assertEquals(0, run("request", dir.resolve("bob").toString(), "--name", "bob"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("send " + dir.resolve("bob/node.csr")),
                out.toString(StandardCharsets.UTF_8));
        assertEquals(2, run("sign", ca, "--csr", dir.resolve("bob/node.csr").toString(), "--name", "bob", "--roles",
                "trainer", "--out", dir.resolve("back").toString()));
        assertTrue(err().contains("takes the node's name from the request"), err());
        assertEquals(0, run("sign", ca, "--csr", dir.resolve("bob/node.csr").toString(), "--roles", "trainer", "--out",
                dir.resolve("back").toString()));
        assertTrue(java.nio.file.Files.notExists(dir.resolve("back/node.key")));
        java.nio.file.Files.copy(dir.resolve("back/node.crt"), dir.resolve("bob/node.crt"));
        java.nio.file.Files.copy(dir.resolve("back/ca.crt"), dir.resolve("bob/ca.crt"));
        TlsMaterial.Node bob = TlsMaterial.loadNode(dir.resolve("bob"));
        assertEquals(Set.of("trainer"), bob.roles());
        assertEquals(2, run("request", dir.resolve("bob").toString(), "--name", "bob"));
        assertTrue(err().contains("already holds a node key"), err());
    }

    @Test
    void revokingAppendsTheSerialToTheListThatLaterNodesGetToo(@TempDir Path dir) throws Exception {
        String ca = dir.resolve("ca").toString();
        assertEquals(0, run("init", ca));
        assertEquals(0, run("sign", ca, "--name", "mallory", "--roles", "trainer", "--out", dir.resolve("mallory").toString()));
        assertEquals(0, run("revoke", ca, "--cert", dir.resolve("mallory/node.crt").toString(), "--reason", "sent NaN"));
        String said = out.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("revoked CN=mallory") && said.contains("copy "), said);
        TlsMaterial.Node mallory = TlsMaterial.loadNode(dir.resolve("mallory"));
        RevocationList list = RevocationList.load(dir.resolve("ca"));
        assertEquals(1, list.size());
        assertTrue(list.reason(mallory.certificate()).orElseThrow().contains("sent NaN"));
        assertEquals(2, run("revoke", ca, "--cert", dir.resolve("mallory/node.crt").toString()));
        assertTrue(err().contains("already revoked"), err());
        // a node signed after the revocation carries the list in its folder
        assertEquals(0, run("sign", ca, "--name", "bob", "--roles", "trainer", "--out", dir.resolve("bob").toString()));
        assertTrue(RevocationList.load(dir.resolve("bob")).reason(mallory.certificate()).isPresent());
        assertTrue(RevocationList.load(dir.resolve("bob")).reason(TlsMaterial.loadNode(dir.resolve("bob")).certificate()).isEmpty());
        // only this CA's certificates can be revoked with it
        assertEquals(0, run("init", dir.resolve("other").toString()));
        assertEquals(2, run("revoke", dir.resolve("other").toString(), "--cert", dir.resolve("bob/node.crt").toString()));
        assertTrue(err().contains("was not signed by the CA"), err());
        assertEquals(2, run("revoke", ca));
        assertTrue(err().contains("needs --cert"), err());
    }

    @Test
    void aMalformedRevocationListNamesTheLine(@TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve(RevocationList.FILE), "# revoked\nabc123 CN=x\nnot-hex CN=y\n");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RevocationList.load(dir));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("'not-hex'"), e.getMessage());
        assertEquals(0, RevocationList.load(dir.resolve("absent")).size());
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
        assertTrue(err().contains("needs --name (or --csr FILE), --roles and --out"), err());
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
