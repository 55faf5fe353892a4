package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.tls.ClusterCertificates;
import io.tributary.tls.TlsMaterial;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The join-time role check (issue 15, item 5: it must not fail open). A member whose certificate this node has
 * not seen is tried again until the last try, and then refused, never let through; one whose certificate is seen
 * holds the roles the certificate grants and no more. Certificates from a real CA made here.
 */
class RoleCheckTest {

    private static final Address MEMBER = new Address("pekko", "tributary", "127.0.0.1", 2602);
    private static final Address SELF = new Address("pekko", "tributary", "127.0.0.1", 2601);

    @Test
    void aMemberWhoseCertificateThisNodeNeverSawIsRefusedAfterTheLastTryNotLetThrough() {
        Set<String> claims = Set.of("coordinator", "ps", "trainer");
        for (int attempt = 1; attempt < NodeGuardian.ROLE_CHECK_ATTEMPTS; attempt++) {
            assertEquals(NodeGuardian.RoleVerdict.Kind.RETRY,
                    NodeGuardian.judgeRoles(MEMBER, claims, Optional.empty(), attempt, SELF).kind(), "try " + attempt);
        }
        NodeGuardian.RoleVerdict last = NodeGuardian.judgeRoles(MEMBER, claims, Optional.empty(),
                NodeGuardian.ROLE_CHECK_ATTEMPTS, SELF);
        assertEquals(NodeGuardian.RoleVerdict.Kind.REFUSE, last.kind());
        assertTrue(last.text().contains("did not show this node") && last.text().contains("30 s"), last.text());
        // and a try past the last (a check scheduled twice) refuses too
        assertEquals(NodeGuardian.RoleVerdict.Kind.REFUSE, NodeGuardian.judgeRoles(MEMBER, claims, Optional.empty(),
                NodeGuardian.ROLE_CHECK_ATTEMPTS + 1, SELF).kind());
    }

    @Test
    void aSeenCertificateAllowsItsOwnRolesAndNoMore(@TempDir Path dir) throws Exception {
        ClusterCertificates.createCa(dir.resolve("ca"), "test", Duration.ofDays(1));
        Instant now = Instant.now();
        ClusterCertificates.signNode(dir.resolve("ca"), dir.resolve("alice"), "alice", Set.of("trainer"),
                now.minusSeconds(60), now.plusSeconds(3600));
        X509Certificate alice = TlsMaterial.loadNode(dir.resolve("alice")).certificate();

        NodeGuardian.RoleVerdict ok = NodeGuardian.judgeRoles(MEMBER, Set.of("trainer", "proto-12", "dc-default"),
                Optional.of(alice), 1, SELF);
        assertEquals(NodeGuardian.RoleVerdict.Kind.HOLDS, ok.kind(), ok.text());

        NodeGuardian.RoleVerdict more = NodeGuardian.judgeRoles(MEMBER, Set.of("trainer", "ps"), Optional.of(alice),
                NodeGuardian.ROLE_CHECK_ATTEMPTS, SELF);
        assertEquals(NodeGuardian.RoleVerdict.Kind.REFUSE, more.kind());
        assertTrue(more.text().contains("grants only [trainer] (not [ps])"), more.text());
    }
}
