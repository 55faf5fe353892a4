package io.tributary.cli;

import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.RevocationList;
import io.tributary.tls.SignedRevocations;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tributary certs}: the cluster's CA and its node certificates. An operator admits a
 * volunteer with two commands: {@code certs sign} on the CA's machine, then the volunteer's
 * {@code tributary node --tls-dir DIR} with the folder it wrote.
 */
@Command(name = "certs",
        description = "Make a cluster CA, request a node certificate (the key stays on the node), sign one with the"
                + " roles it may take, or revoke one.")
final class CertsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    final HelpOption help = new HelpOption();

    private final PrintStream out;

    private CertsCommand(PrintStream out) {
        this.out = out;
    }

    /** The command with its subcommands; it prints to {@code out}. */
    static CommandLine commandLine(PrintStream out) {
        return new CommandLine(new CertsCommand(out)).addSubcommand("help", new CommandLine.HelpCommand());
    }

    /** Runs {@code tributary certs ARGS} on its own; returns the exit status. */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandRunner.execute(commandLine(out).setCommandName("tributary certs"), args.toArray(String[]::new),
                out, err);
    }

    /** A bare {@code tributary certs}: the usage on stderr, exit status 2. */
    @Override
    public Integer call() {
        return CommandRunner.usageOnStderr(spec);
    }

    @Command(name = "init", description = {"Make a new cluster CA (ca.crt, ca.key) in CA_DIR; keep ca.key on the"
            + " operator's machine."})
    int init(@Parameters(paramLabel = "CA_DIR", arity = "0..1", description = "the CA's folder") Path caDir,
             @Option(names = "--name", paramLabel = "NAME", description = "the CA's name (default tributary)")
             String name,
             @Option(names = "--days", paramLabel = "N", converter = WholeNumber.class,
                     description = "days it stays valid (default 3650)") Integer days,
             @Mixin HelpOption help) throws IOException {
        Path dir = caDir(caDir, "init", "");
        X509Certificate ca = ClusterCertificates.createCa(dir, name == null ? "tributary" : name,
                Duration.ofDays(days == null ? 3650 : days));
        out.println("cluster CA " + ClusterCertificates.subjectName(ca) + " in " + dir.toAbsolutePath()
                + ", valid until " + ca.getNotAfter().toInstant());
        out.println("keep " + dir.resolve(ClusterCertificates.CA_KEY) + " secret; sign nodes with: tributary"
                + " certs sign " + dir + " --name NODE --roles trainer --out NODE-tls");
        return CommandRunner.OK;
    }

    @Command(name = "request", description = {"On the volunteer's machine: make this node's key (node.key, owner-only)"
            + " and a certificate request (node.csr) in DIR; send the operator node.csr only, the key stays here."})
    int request(@Parameters(paramLabel = "DIR", arity = "0..1", description = "the node's TLS folder") Path dir,
                @Option(names = "--name", paramLabel = "NODE", description = "the node's name (needed)") String name,
                @Mixin HelpOption help) throws IOException {
        if (dir == null || name == null) {
            throw new IllegalArgumentException("'certs request' needs the node's folder and --name, e.g. tributary certs"
                    + " request alice-tls --name alice");
        }
        Path csr = ClusterCertificates.request(dir, name);
        out.println("made " + dir.resolve(ClusterCertificates.NODE_KEY) + " (keep it here) and " + csr);
        out.println("send " + csr + " to the cluster's operator, who signs it with: tributary certs sign CA_DIR --csr "
                + ClusterCertificates.NODE_CSR + " --roles trainer --out DIR; put the node.crt and ca.crt it gives back"
                + " into " + dir);
        return CommandRunner.OK;
    }

    @Command(name = "sign", description = {"Sign a certificate for one node with the roles it may take (coordinator,"
            + " ps, trainer); writes node.crt, node.key and ca.crt into DIR for 'tributary node --tls-dir DIR'."
            + " With --csr FILE (from 'certs request') no key is made: it writes node.crt and ca.crt for the key the"
            + " request carries, and the name is the request's."})
    int sign(@Parameters(paramLabel = "CA_DIR", arity = "0..1", description = "the CA's folder") Path caDir,
             @Option(names = "--name", paramLabel = "NODE", description = "the node's name (needed without --csr)")
             String name,
             @Option(names = "--csr", paramLabel = "FILE", description = "a volunteer's node.csr: sign its key")
             Path csr,
             @Option(names = "--roles", paramLabel = "ROLES",
                     description = "the roles it may take, separated by commas (needed)")
             String roles,
             @Option(names = "--out", paramLabel = "DIR", description = "where to write its TLS folder (needed)")
             Path outDir,
             @Option(names = "--days", paramLabel = "N", converter = WholeNumber.class,
                     description = "days it stays valid (default 365)") Integer days,
             @Mixin HelpOption help) throws IOException {
        Path dir = caDir(caDir, "sign", " --name alice --roles trainer --out alice-tls");
        if (csr != null && name != null) {
            throw new IllegalArgumentException("'certs sign --csr' takes the node's name from the request: leave out"
                    + " --name");
        }
        if ((name == null && csr == null) || roles == null || outDir == null) {
            throw new IllegalArgumentException("'certs sign' needs --name (or --csr FILE), --roles and --out");
        }
        Set<String> granted = new LinkedHashSet<>();
        for (String r : roles.split(",")) {
            if (!r.isBlank()) {
                granted.add(r.trim());
            }
        }
        if (granted.isEmpty()) {
            throw new IllegalArgumentException("--roles needs at least one of coordinator, ps, trainer");
        }
        Instant now = Instant.now();
        Instant until = now.plus(Duration.ofDays(days == null ? 365 : days));
        X509Certificate cert = csr != null
                ? ClusterCertificates.signRequest(dir, csr, granted, now.minusSeconds(60), until, outDir)
                : ClusterCertificates.signNode(dir, outDir, name, granted, now.minusSeconds(60), until);
        out.println("signed " + ClusterCertificates.subjectName(cert) + " with roles "
                + ClusterCertificates.grantedRoles(cert) + ", valid until " + cert.getNotAfter().toInstant()
                + ", in " + outDir.toAbsolutePath());
        if (csr != null) {
            out.println("give node.crt and ca.crt from that folder back to the node's owner, who puts them next to its"
                    + " node.key and joins with: tributary node --roles " + roles + " --tls-dir DIR --join SEED_HOST:PORT");
        } else {
            out.println("give that folder to the node's owner; it joins with: tributary node --roles " + roles
                    + " --tls-dir " + outDir + " --join SEED_HOST:PORT");
        }
        return CommandRunner.OK;
    }

    @Command(name = "revoke", description = {"Revoke a node's certificate: appends it to CA_DIR/revoked.txt; copy that"
            + " file into every node's TLS folder, and nodes refuse the certificate and down a member holding it."})
    int revoke(@Parameters(paramLabel = "CA_DIR", arity = "0..1", description = "the CA's folder") Path caDir,
               @Option(names = "--cert", paramLabel = "FILE", description = "the node's node.crt (needed)")
               Path certFile,
               @Option(names = "--reason", paramLabel = "TEXT", description = "why, kept in the list") String reason,
               @Mixin HelpOption help) throws IOException {
        Path dir = caDir(caDir, "revoke", " --cert alice-tls/node.crt");
        if (certFile == null) {
            throw new IllegalArgumentException("'certs revoke' needs --cert FILE (the node's node.crt)");
        }
        X509Certificate cert = ClusterCertificates.revoke(dir, certFile, reason);
        out.println("revoked " + ClusterCertificates.subjectName(cert) + " (serial "
                + RevocationList.serialHex(cert.getSerialNumber()) + ") in "
                + dir.resolve(RevocationList.FILE).toAbsolutePath());
        out.println("publish it: tributary certs publish " + dir + " --to HOST:METRICS_PORT (any running node; the"
                + " cluster carries it to every member), or copy " + dir.resolve(RevocationList.FILE) + " and "
                + dir.resolve(SignedRevocations.SIGNATURE_FILE) + " into every node's TLS folder (--tls-dir): within"
                + " seconds each node refuses that certificate and downs a member holding it");
        return CommandRunner.OK;
    }

    @Command(name = "publish", description = {"Send the CA-signed revocation list (CA_DIR/revoked.txt and revoked.sig,"
            + " written by 'certs revoke') to one node's metrics endpoint; the cluster carries it to every member,"
            + " each of which checks the CA's signature, and downs holders of revoked certificates within seconds."})
    int publish(@Parameters(paramLabel = "CA_DIR", arity = "0..1", description = "the CA's folder") Path caDir,
                @Option(names = "--to", paramLabel = "HOST:PORT", description = "a node's metrics endpoint (needed)")
                String to,
                @Mixin HelpOption help) throws IOException {
        Path dir = caDir(caDir, "publish", " --to 10.0.0.5:9464");
        if (to == null || !to.matches("[^:/\\s]+:[0-9]{1,5}")) {
            throw new IllegalArgumentException("'certs publish' needs --to HOST:PORT, a node's metrics endpoint (the port"
                    + " its log names: metrics at http://HOST:PORT/metrics)");
        }
        SignedRevocations.Update update = SignedRevocations.read(dir);
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5)).build();
        java.net.http.HttpResponse<String> r;
        try {
            r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + to + "/revocations"))
                    .timeout(Duration.ofSeconds(20))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(update.signature() + "\n" + update.list()))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new IllegalArgumentException("nothing answers at http://" + to + "/revocations: give the metrics"
                    + " endpoint of a running node", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing the revocation list", e);
        }
        if (r.statusCode() != 200) {
            throw new IllegalArgumentException("the node at " + to + " refused the list (HTTP " + r.statusCode() + "): "
                    + r.body().trim());
        }
        out.println("published " + dir.resolve(RevocationList.FILE) + ": " + r.body().trim());
        return CommandRunner.OK;
    }

    private static Path caDir(Path caDir, String sub, String example) {
        if (caDir == null) {
            throw new IllegalArgumentException("'certs " + sub + "' needs the CA folder first, e.g. tributary certs "
                    + sub + " cluster-ca" + example);
        }
        return caDir;
    }
}
