package io.tributary.cli;

import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.RevocationList;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code tributary certs}: the cluster's CA and its node certificates. An operator admits a
 * volunteer with two commands: {@code certs sign} on the CA's machine, then the volunteer's
 * {@code tributary node --tls-dir DIR} with the folder it wrote.
 */
final class CertsCommand {

    static final String USAGE = String.join("\n",
            "usage: tributary certs init CA_DIR [--name NAME] [--days N]",
            "         make a new cluster CA (ca.crt, ca.key) in CA_DIR; keep ca.key on the operator's machine",
            "       tributary certs sign CA_DIR --name NODE --roles R1,R2 --out DIR [--days N]",
            "         sign a certificate for one node with the roles it may take (coordinator, ps, trainer);",
            "         writes node.crt, node.key and ca.crt into DIR for 'tributary node --tls-dir DIR'",
            "       tributary certs revoke CA_DIR --cert NODE_DIR/node.crt [--reason TEXT]",
            "         revoke a node's certificate: appends it to CA_DIR/revoked.txt; copy that file into every",
            "         node's TLS folder, and nodes refuse the certificate and down a member holding it",
            "",
            "defaults: --days 3650 for a CA, 365 for a node; --name tributary for a CA.");

    private CertsCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.get(0).equals("help") || args.get(0).equals("--help") || args.get(0).equals("-h")) {
            out.println(USAGE);
            return args.isEmpty() ? 2 : 0;
        }
        try {
            String sub = args.get(0);
            if (args.size() < 2 || args.get(1).startsWith("--")) {
                throw new IllegalArgumentException("'certs " + sub + "' needs the CA folder first, e.g. tributary certs "
                        + sub + " cluster-ca" + (sub.equals("sign") ? " --name alice --roles trainer --out alice-tls" : ""));
            }
            Path caDir = Path.of(args.get(1));
            String name = null;
            String roles = null;
            Path outDir = null;
            Integer days = null;
            Path certFile = null;
            String reason = null;
            for (int i = 2; i < args.size(); i++) {
                String a = args.get(i);
                String v = i + 1 < args.size() ? args.get(i + 1) : null;
                if (v == null || v.startsWith("--")) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                i++;
                switch (a) {
                    case "--name" -> name = v;
                    case "--roles" -> roles = v;
                    case "--out" -> outDir = Path.of(v);
                    case "--cert" -> certFile = Path.of(v);
                    case "--reason" -> reason = v;
                    case "--days" -> {
                        try {
                            days = Integer.parseInt(v);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--days needs a whole number of days, got '" + v + "'", e);
                        }
                        if (days < 1) {
                            throw new IllegalArgumentException("--days must be at least 1, got " + days);
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' for 'certs " + sub + "'");
                }
            }
            switch (sub) {
                case "init" -> {
                    X509Certificate ca = ClusterCertificates.createCa(caDir, name == null ? "tributary" : name,
                            Duration.ofDays(days == null ? 3650 : days));
                    out.println("cluster CA " + ClusterCertificates.subjectName(ca) + " in " + caDir.toAbsolutePath()
                            + ", valid until " + ca.getNotAfter().toInstant());
                    out.println("keep " + caDir.resolve(ClusterCertificates.CA_KEY) + " secret; sign nodes with: tributary"
                            + " certs sign " + caDir + " --name NODE --roles trainer --out NODE-tls");
                }
                case "sign" -> {
                    if (name == null || roles == null || outDir == null) {
                        throw new IllegalArgumentException("'certs sign' needs --name, --roles and --out");
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
                    X509Certificate cert = ClusterCertificates.signNode(caDir, outDir, name, granted, now.minusSeconds(60),
                            now.plus(Duration.ofDays(days == null ? 365 : days)));
                    out.println("signed " + ClusterCertificates.subjectName(cert) + " with roles "
                            + ClusterCertificates.grantedRoles(cert) + ", valid until " + cert.getNotAfter().toInstant()
                            + ", in " + outDir.toAbsolutePath());
                    out.println("give that folder to the node's owner; it joins with: tributary node --roles " + roles
                            + " --tls-dir " + outDir + " --join SEED_HOST:PORT");
                }
                case "revoke" -> {
                    if (certFile == null) {
                        throw new IllegalArgumentException("'certs revoke' needs --cert FILE (the node's node.crt)");
                    }
                    X509Certificate cert = ClusterCertificates.revoke(caDir, certFile, reason);
                    out.println("revoked " + ClusterCertificates.subjectName(cert) + " (serial "
                            + RevocationList.serialHex(cert.getSerialNumber()) + ") in "
                            + caDir.resolve(RevocationList.FILE).toAbsolutePath());
                    out.println("copy " + caDir.resolve(RevocationList.FILE) + " into every node's TLS folder (--tls-dir):"
                            + " within seconds each node refuses that certificate and downs a member holding it");
                }
                default -> throw new IllegalArgumentException("unknown certs command '" + sub + "': use init, sign or revoke");
            }
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            err.println("tributary: error: " + e.getMessage());
            return 2;
        }
    }
}
