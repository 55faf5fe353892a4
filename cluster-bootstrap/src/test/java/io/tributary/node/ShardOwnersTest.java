package io.tributary.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.junit.jupiter.api.Test;

/**
 * How a node decides which ps node owns each parameter shard from the regions' answers (hand-computed cases):
 * Tributary shard k lives in the sharding shard its entity id "k" hashes to, the one region that lists it
 * owns it, and a shard two regions list keeps its previous owner only if that is one of them.
 */
class ShardOwnersTest {

    private static final Address P = new Address("pekko", "tributary", "127.0.0.1", 2601);
    private static final Address Q = new Address("pekko", "tributary", "127.0.0.1", 2602);
    private static final Map<Address, String> ENDPOINTS = Map.of(P, "127.0.0.1:40001", Q, "127.0.0.1:40002");

    @Test
    void theDefaultExtractorPutsEntityKInTheShardItsHashNames() {
        // the typed default extractor: shard id = |hashCode(entity id)| mod number-of-shards; "1".hashCode() = 49
        assertEquals("49", new HashCodeMessageExtractor<>(1000).shardId("1"));
        assertEquals("9", new HashCodeMessageExtractor<>(10).shardId("1"));
    }

    @Test
    void theOneRegionThatHostsAShardOwnsItAndAShardNobodyHostsHasNoOwner() {
        ShardOwners.Resolved r = ShardOwners.resolve(new String[3], k -> "s" + k,
                Map.of(P, Set.of("s0", "s2"), Q, Set.of("s1")), ENDPOINTS);
        assertArrayEquals(new String[] {"127.0.0.1:40001", "127.0.0.1:40002", "127.0.0.1:40001"}, r.owners());
        assertEquals(0, r.conflicts().size());

        ShardOwners.Resolved moved = ShardOwners.resolve(r.owners(), k -> "s" + k,
                Map.of(P, Set.of("s0"), Q, Set.of("s1", "s2")), ENDPOINTS);
        assertArrayEquals(new String[] {"127.0.0.1:40001", "127.0.0.1:40002", "127.0.0.1:40002"}, moved.owners());

        ShardOwners.Resolved gone = ShardOwners.resolve(moved.owners(), k -> "s" + k, Map.of(P, Set.of("s0")),
                ENDPOINTS);
        assertArrayEquals(new String[] {"127.0.0.1:40001", null, null}, gone.owners(), "Q's node left: nobody");
    }

    @Test
    void twoRegionsClaimingOneShardKeepThePreviousOwnerIfItIsOneOfThemAndNobodyOtherwise() {
        Map<Address, Set<String>> both = Map.of(P, Set.of("s0"), Q, Set.of("s0"));
        ShardOwners.Resolved kept = ShardOwners.resolve(new String[] {"127.0.0.1:40002"}, k -> "s" + k, both,
                ENDPOINTS);
        assertArrayEquals(new String[] {"127.0.0.1:40002"}, kept.owners());
        assertEquals(1, kept.conflicts().size());
        assertTrue(kept.conflicts().get(0).contains("claimed by 2 regions"), kept.conflicts().get(0));

        ShardOwners.Resolved none = ShardOwners.resolve(new String[1], k -> "s" + k, both, ENDPOINTS);
        assertArrayEquals(new String[] {null}, none.owners(), "no previous owner among them: nobody");
    }

    @Test
    void aRegionWhoseMemberAnnouncedNoEndpointNamesNoOwner() {
        Address r = new Address("pekko", "tributary", "127.0.0.1", 2603);
        ShardOwners.Resolved x = ShardOwners.resolve(new String[1], k -> "s" + k, Map.of(r, Set.of("s0")), ENDPOINTS);
        assertArrayEquals(new String[] {null}, x.owners());
    }
}
