package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.Reachability;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import org.apache.pekko.cluster.sbr.KeepMajority;
import org.apache.pekko.util.Version;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The downing decisions of {@link DeadObserverKeepMajority} on hand-made cluster views, each with the
 * outcome worked out by hand; the first also shows what Pekko's own keep-majority does with it.
 */
class DeadObserverKeepMajorityTest {

    private static final int MONITORED_BY = 9; // Pekko's default monitored-by-nr-of-members

    private static UniqueAddress node(int port) {
        return UniqueAddress.apply(new Address("pekko", "tributary", "127.0.0.1", port), (long) port);
    }

    private static Member member(UniqueAddress a, MemberStatus status) {
        return new Member(a, a.address().port().get().hashCode(), status,
                CollectionConverters.asScala(Set.of("dc-default")).toSet(), Version.Zero());
    }

    /** A view of nodes 1..n as seen from node 1 (the leader): who is unreachable, and by whom. */
    private static final class View {
        final List<UniqueAddress> nodes = new ArrayList<>();
        Reachability reachability = Reachability.empty();
        final Set<UniqueAddress> unreachable = new HashSet<>();
        final Map<UniqueAddress, MemberStatus> status = new HashMap<>();
        Set<UniqueAddress> seen;

        View(int n) {
            for (int i = 1; i <= n; i++) {
                nodes.add(node(i));
            }
        }

        UniqueAddress n(int i) {
            return nodes.get(i - 1);
        }

        View marks(int observer, int... subjects) {
            for (int s : subjects) {
                reachability = reachability.unreachable(n(observer), n(s));
                unreachable.add(n(s));
            }
            return this;
        }

        /** Every node not in {@code except} marks each of {@code subjects}. */
        View allMark(Set<Integer> except, int... subjects) {
            for (int i = 1; i <= nodes.size(); i++) {
                if (!except.contains(i)) {
                    marks(i, subjects);
                }
            }
            return this;
        }

        /** The members that have seen the current gossip (by default those nobody marks unreachable). */
        View seen(int... is) {
            seen = set(is);
            return this;
        }

        View status(int i, MemberStatus s) {
            status.put(n(i), s);
            return this;
        }

        <S extends DowningStrategy> S into(S strategy) {
            for (UniqueAddress a : nodes) {
                Member m = member(a, status.getOrDefault(a, MemberStatus.up()));
                if (unreachable.contains(a)) {
                    strategy.addUnreachable(m);
                } else {
                    strategy.add(m);
                }
            }
            strategy.setReachability(reachability);
            Set<UniqueAddress> seenBy = seen != null ? seen
                    : nodes.stream().filter(a -> !unreachable.contains(a)).collect(Collectors.toSet());
            Set<Address> addresses = seenBy.stream().map(UniqueAddress::address).collect(Collectors.toSet());
            strategy.setSeenBy(CollectionConverters.asScala(addresses).toSet());
            return strategy;
        }

        DeadObserverKeepMajority ours(int self) {
            return into(new DeadObserverKeepMajority("default", Option.empty(), n(self), MONITORED_BY));
        }

        Set<UniqueAddress> set(int... is) {
            return Arrays.stream(is).mapToObj(this::n).collect(Collectors.toSet());
        }
    }

    private static Set<UniqueAddress> toDown(DowningStrategy s) {
        return new HashSet<>(CollectionConverters.asJava(s.nodesToDown(s.decide())));
    }

    @Test
    void aNodeThatSawADeathAndThenDiedIsDownedWithItAndTheRestGoOn() {
        // The soak of 2026-12-07 15:37: 10 members. Node 10 died; node 9 marked it unreachable and
        // died 15 s later, before node 10 was downed; the 8 live nodes marked both.
        View v = new View(10).marks(9, 10).allMark(Set.of(9, 10), 9, 10);
        DeadObserverKeepMajority ours = v.ours(1);
        assertEquals(v.set(9), ours.deadObservers());
        assertEquals(Set.of(), new HashSet<>(CollectionConverters.asJava(ours.indirectlyConnected())));
        assertEquals(DowningStrategy.DownUnreachable$.MODULE$, ours.decide());
        assertEquals(v.set(9, 10), toDown(ours));

        // Pekko's keep-majority takes node 9 for indirectly connected, and downs every node.
        KeepMajority pekko = v.into(new KeepMajority("default", Option.empty(), v.n(1)));
        assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, pekko.decide());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> pekko.nodesToDown(pekko.decide()));
        assertEquals(true, e.getMessage().startsWith("SBR double DownIndirectlyConnected decision, downing all instead"));
    }

    @Test
    void whatADeadObserverAloneSaysOfALiveNodeDoesNotDownIt() {
        // Node 5 marked node 4 unreachable and then died; nobody else marks node 4, which has seen
        // the current gossip. Pekko counts 4 and 5 unreachable: 3 of 5 reachable, a majority.
        View v = new View(5).marks(5, 4).allMark(Set.of(5), 5).seen(1, 2, 3, 4);
        DeadObserverKeepMajority ours = v.ours(1);
        assertEquals(v.set(5), ours.deadObservers());
        assertEquals(v.set(4), ours.markedOnlyByDead());
        assertEquals(DowningStrategy.DownUnreachable$.MODULE$, ours.decide());
        assertEquals(v.set(5), toDown(ours));

        // Pekko takes 4 and 5 for indirectly connected, and downs the live node 4 too.
        KeepMajority pekko = v.into(new KeepMajority("default", Option.empty(), v.n(1)));
        assertEquals(v.set(4, 5), toDown(pekko));
    }

    @Test
    void aDeadObserverAndABrokenLinkTogetherDownTheLinkAndTheDead() {
        // 6 nodes: node 5 died, node 6 marked it and died; the link between 3 and 4 is broken (each
        // marks the other); 1-4 mark 5 and 6. Pekko's view: 3, 4, 5, 6 unreachable, so 1 and 2 are the
        // watchers node 6 needs, and have. Indirectly connected: 3 and 4. Pekko then sets aside the
        // records among {3, 4, 6} and decides again on 5 and 6: 4 of 6 reachable, down 5 and 6.
        View v = new View(6).marks(6, 5).marks(3, 4).marks(4, 3).allMark(Set.of(5, 6), 5, 6).seen(1, 2, 3, 4);
        DeadObserverKeepMajority ours = v.ours(1);
        assertEquals(v.set(6), ours.deadObservers());
        assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, ours.decide());
        assertEquals(v.set(3, 4, 5, 6), toDown(ours));

        KeepMajority pekko = v.into(new KeepMajority("default", Option.empty(), v.n(1)));
        assertThrows(IllegalStateException.class, () -> pekko.nodesToDown(pekko.decide()));
    }

    @Test
    void anExitingMemberIsNeverADeadObserver() {
        // Node 5 is exiting (it cannot be downed), marked by 1-4, and marked node 4: as Pekko decides.
        View v = new View(5).status(5, MemberStatus.exiting()).marks(5, 4).allMark(Set.of(5), 5).seen(1, 2, 3, 4);
        DeadObserverKeepMajority ours = v.ours(1);
        assertEquals(Set.of(), ours.deadObservers());
        assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, ours.decide());
    }

    @Test
    void aBrokenLinkBetweenTwoLiveNodesIsStillIndirectlyConnected() {
        // Nodes 4 and 5 cannot reach each other; everyone else reaches both.
        View v = new View(5).marks(4, 5).marks(5, 4);
        DeadObserverKeepMajority ours = v.ours(1);
        assertEquals(Set.of(), ours.deadObservers());
        assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, ours.decide());
        assertEquals(v.set(4, 5), toDown(ours));
    }

    @Test
    void aCleanSplitKeepsTheMajorityAndDownsTheMinorityOnEachSide() {
        // 7 nodes split 4 | 3: nodes 1-4 mark 5-7, and 5-7 mark 1-4.
        View majority = new View(7).allMark(Set.of(5, 6, 7), 5, 6, 7);
        assertEquals(DowningStrategy.DownUnreachable$.MODULE$, majority.ours(1).decide());
        assertEquals(majority.set(5, 6, 7), toDown(majority.ours(1)));

        View minority = new View(7).allMark(Set.of(1, 2, 3, 4), 1, 2, 3, 4);
        DeadObserverKeepMajority fromFive = minority.ours(5);
        assertEquals(DowningStrategy.DownReachable$.MODULE$, fromFive.decide());
        assertEquals(minority.set(5, 6, 7), toDown(fromFive));
    }

    @Test
    void withPartialWatchingANodeSeenByTooFewIsNotTakenForDead() {
        // 6 nodes, each watched by 3: node 6 marked node 5, and only node 1 marks node 6 (and 5).
        View v = new View(6).marks(6, 5).marks(1, 5, 6);
        DeadObserverKeepMajority ours = v.into(
                new DeadObserverKeepMajority("default", Option.empty(), v.n(1), 3));
        assertEquals(Set.of(), ours.deadObservers());
        assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, ours.decide());
    }
}
