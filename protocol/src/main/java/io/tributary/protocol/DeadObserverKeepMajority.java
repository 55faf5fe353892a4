package io.tributary.protocol;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.Reachability;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import scala.Option;
import scala.collection.immutable.SortedSet;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Keep-majority, as Pekko's Split Brain Resolver decides it, except for the records of <em>dead
 * observers</em>: a member that every reachable member it could be watched by has marked
 * unreachable, and that itself marked someone unreachable before it was lost. Its records are
 * what it saw before it went, not evidence that it still talks to the cluster through others, so:
 *
 * <ul>
 *   <li>it is not "indirectly connected" (Pekko would say it is: it is both an observer and a
 *       subject of unreachability, and after filtering it still is, so Pekko downs every node);</li>
 *   <li>a member that only dead observers mark unreachable counts as reachable, and is not downed.</li>
 * </ul>
 *
 * <p>A member is a dead observer when it is unreachable, is the observer of at least one
 * unreachability record, and at least {@code min(monitored-by-nr-of-members, reachable members
 * other than it)} distinct reachable members have marked it unreachable. Every member watches
 * every other one in clusters up to {@code monitored-by-nr-of-members + 1} nodes, so there "every
 * reachable member"; in larger ones, as many as watch a node. A link that fails between two live
 * nodes (each marks the other; nobody else does) is still indirectly connected, and decided as
 * Pekko decides it. The rest (the majority, the tie broken by the lowest address, the check that
 * membership changes during a partition do not flip the decision) is Pekko's keep-majority rule.
 */
final class DeadObserverKeepMajority extends DowningStrategy {

    private final Option<String> role;
    private final int monitoredBy;

    DeadObserverKeepMajority(String selfDc, Option<String> role, UniqueAddress self, int monitoredBy) {
        super(selfDc, self);
        this.role = role;
        this.monitoredBy = monitoredBy;
    }

    @Override
    public Option<String> role() {
        return role;
    }

    /** Unreachable members whose own unreachability records tell only what they saw before they were lost. */
    Set<UniqueAddress> deadObservers() {
        Set<UniqueAddress> unreachable = javaSet(unreachable());
        Set<UniqueAddress> reachable = new HashSet<>();
        for (Member m : CollectionConverters.asJava(members(true, false))) {
            if (!unreachable.contains(m.uniqueAddress())) {
                reachable.add(m.uniqueAddress());
            }
        }
        Map<UniqueAddress, Set<UniqueAddress>> reachableObserversOf = new HashMap<>();
        Set<UniqueAddress> observers = new HashSet<>();
        for (Reachability.Record r : CollectionConverters.asJava(reachability().records())) {
            observers.add(r.observer());
            if (reachable.contains(r.observer())) {
                reachableObserversOf.computeIfAbsent(r.subject(), s -> new HashSet<>()).add(r.observer());
            }
        }
        Set<UniqueAddress> dead = new HashSet<>();
        for (UniqueAddress candidate : observers) {
            if (!unreachable.contains(candidate)) {
                continue;
            }
            int watchers = Math.min(monitoredBy, reachable.size());
            Set<UniqueAddress> saw = reachableObserversOf.getOrDefault(candidate, Set.of());
            if (watchers > 0 && saw.size() >= watchers) {
                dead.add(candidate);
            }
        }
        return dead;
    }

    /** Pekko's definition of indirectly connected, over the records of live observers only. */
    @Override
    public scala.collection.immutable.Set<UniqueAddress> indirectlyConnected() {
        Set<UniqueAddress> dead = deadObservers();
        Set<UniqueAddress> observers = new HashSet<>();
        Set<UniqueAddress> subjects = new HashSet<>();
        Set<UniqueAddress> result = new HashSet<>();
        Set<org.apache.pekko.actor.Address> seenBy = new HashSet<>(CollectionConverters.asJava(seenBy()));
        for (Reachability.Record r : CollectionConverters.asJava(reachability().records())) {
            if (dead.contains(r.observer())) {
                continue;
            }
            observers.add(r.observer());
            subjects.add(r.subject());
            if (seenBy.contains(r.subject().address())) {
                // the subject has seen the current gossip: it is not cut off from everyone
                result.add(r.observer());
                result.add(r.subject());
            }
        }
        observers.retainAll(subjects);
        result.addAll(observers);
        return scalaSet(result);
    }

    /**
     * The members that count as unreachable: those in Pekko's unreachable set, less those that
     * only dead observers mark unreachable.
     */
    Set<UniqueAddress> effectiveUnreachable() {
        Set<UniqueAddress> dead = deadObservers();
        Set<UniqueAddress> markedByLive = new HashSet<>();
        Set<UniqueAddress> markedByDead = new HashSet<>();
        for (Reachability.Record r : CollectionConverters.asJava(reachability().records())) {
            (dead.contains(r.observer()) ? markedByDead : markedByLive).add(r.subject());
        }
        Set<UniqueAddress> result = javaSet(unreachable());
        markedByDead.removeAll(markedByLive);
        result.removeAll(markedByDead);
        return result;
    }

    @Override
    public Decision decide() {
        if (hasIndirectlyConnected()) {
            return DowningStrategy.DownIndirectlyConnected$.MODULE$;
        }
        Set<UniqueAddress> unreachable = effectiveUnreachable();
        SortedSet<Member> members = membersWithRole(false, false);
        if (members.isEmpty()) {
            return DowningStrategy.DownAll$.MODULE$; // no member with the role
        }
        Decision decision = majority(members, unreachable, members, members.head());
        if (decision != DowningStrategy.DownUnreachable$.MODULE$) {
            return decision;
        }
        // A membership change during a partition: on this side count as few as could be (no joining,
        // no leaving: they may be exiting over there), on the other as many (joining may be up there).
        SortedSet<Member> thisSide = membersWithRole(false, true);
        if (thisSide.isEmpty()) {
            return DowningStrategy.DownAll$.MODULE$;
        }
        Decision edge = majority(thisSide, unreachable, membersWithRole(true, false), thisSide.head());
        return edge == DowningStrategy.DownUnreachable$.MODULE$ ? decision : DowningStrategy.DownAll$.MODULE$;
    }

    private static Decision majority(SortedSet<Member> thisSideOf, Set<UniqueAddress> unreachable,
                                     SortedSet<Member> otherSideOf, Member lowest) {
        int thisSide = 0;
        for (Member m : CollectionConverters.asJava(thisSideOf)) {
            if (!unreachable.contains(m.uniqueAddress())) {
                thisSide++;
            }
        }
        int otherSide = 0;
        for (Member m : CollectionConverters.asJava(otherSideOf)) {
            if (unreachable.contains(m.uniqueAddress())) {
                otherSide++;
            }
        }
        if (thisSide == otherSide) {
            // equal halves: the one with the lowest address stays
            return unreachable.contains(lowest.uniqueAddress())
                    ? DowningStrategy.DownReachable$.MODULE$ : DowningStrategy.DownUnreachable$.MODULE$;
        }
        return thisSide > otherSide ? DowningStrategy.DownUnreachable$.MODULE$ : DowningStrategy.DownReachable$.MODULE$;
    }

    @Override
    public scala.collection.immutable.Set<UniqueAddress> nodesToDown(Decision decision) {
        boolean downUnreachable = decision == DowningStrategy.DownUnreachable$.MODULE$;
        if (!downUnreachable && decision != DowningStrategy.DownReachable$.MODULE$) {
            return super.nodesToDown(decision);
        }
        Set<UniqueAddress> unreachable = effectiveUnreachable();
        Set<UniqueAddress> result = new HashSet<>();
        for (Member m : CollectionConverters.asJava(members())) {
            if (unreachable.contains(m.uniqueAddress()) == downUnreachable) {
                result.add(m.uniqueAddress());
            }
        }
        for (Member m : CollectionConverters.asJava(joining())) {
            if (unreachable.contains(m.uniqueAddress()) == downUnreachable) {
                result.add(m.uniqueAddress());
            }
        }
        return scalaSet(result);
    }

    private static Set<UniqueAddress> javaSet(scala.collection.immutable.Set<UniqueAddress> set) {
        return new HashSet<>(CollectionConverters.asJava(set));
    }

    private static scala.collection.immutable.Set<UniqueAddress> scalaSet(Set<UniqueAddress> set) {
        return CollectionConverters.asScala(set).toSet();
    }
}
