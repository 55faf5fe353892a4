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
 * Keep-majority, as Pekko's Split Brain Resolver decides it, except that a <em>dead observer</em> is
 * not "indirectly connected". A dead observer is a member that can still be downed (not Down or
 * Exiting), that Pekko counts unreachable, that itself marked someone unreachable, and that at least
 * {@code min(monitored-by-nr-of-members, members nobody marks unreachable)} distinct members nobody
 * marks unreachable have marked unreachable. Every member watches every other one in clusters of up
 * to {@code monitored-by-nr-of-members + 1} nodes, so there that is all of them. Pekko takes such a
 * member for one still connected through others, because it is both observer and subject of
 * unreachability; when it died after marking another dead node, its record stays after Pekko's
 * filtering and Pekko downs every node ("SBR double DownIndirectlyConnected decision").
 *
 * <p>What else changes, and what does not:
 * <ul>
 *   <li>Who counts as unreachable, the majority, the tie broken by the lowest address and the check
 *       that a membership change during a partition cannot flip the decision: Pekko's, unchanged
 *       ({@link #decide()}).</li>
 *   <li>Downing the unreachable side leaves out a member that only dead observers mark unreachable:
 *       it stays unreachable (and counted so) until the dead observer is downed and removed, and is
 *       downed then only if a live member marks it.</li>
 *   <li>A link that fails between two live members (each marks the other) is still indirectly
 *       connected, and decided as Pekko decides it; the dead observers found before Pekko sets those
 *       records aside are kept while it decides again ({@link #nodesToDown}).</li>
 * </ul>
 */
final class DeadObserverKeepMajority extends DowningStrategy {

    private final Option<String> role;
    private final int monitoredBy;
    /** The dead observers of the unfiltered view, while Pekko decides again on a filtered one. */
    private Set<UniqueAddress> frozenDead;

    DeadObserverKeepMajority(String selfDc, Option<String> role, UniqueAddress self, int monitoredBy) {
        super(selfDc, self);
        this.role = role;
        this.monitoredBy = monitoredBy;
    }

    @Override
    public Option<String> role() {
        return role;
    }

    private Set<UniqueAddress> downable() {
        Set<UniqueAddress> downable = new HashSet<>();
        for (Member m : CollectionConverters.asJava(members())) {
            downable.add(m.uniqueAddress());
        }
        for (Member m : CollectionConverters.asJava(joining())) {
            downable.add(m.uniqueAddress());
        }
        return downable;
    }

    /** Unreachable members whose own unreachability records tell what they saw before they were lost. */
    Set<UniqueAddress> deadObservers() {
        if (frozenDead != null) {
            return frozenDead;
        }
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
        Set<UniqueAddress> downable = downable();
        int watchers = Math.min(monitoredBy, reachable.size());
        Set<UniqueAddress> dead = new HashSet<>();
        for (UniqueAddress candidate : observers) {
            if (unreachable.contains(candidate) && downable.contains(candidate) && watchers > 0
                    && reachableObserversOf.getOrDefault(candidate, Set.of()).size() >= watchers) {
                dead.add(candidate);
            }
        }
        return dead;
    }

    /** Pekko's definition of indirectly connected, over the records of observers that are not dead. */
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

    /** Members that only dead observers mark unreachable. */
    Set<UniqueAddress> markedOnlyByDead() {
        Set<UniqueAddress> dead = deadObservers();
        Set<UniqueAddress> markedByLive = new HashSet<>();
        Set<UniqueAddress> markedByDead = new HashSet<>();
        for (Reachability.Record r : CollectionConverters.asJava(reachability().records())) {
            (dead.contains(r.observer()) ? markedByDead : markedByLive).add(r.subject());
        }
        markedByDead.removeAll(markedByLive);
        return markedByDead;
    }

    @Override
    public Decision decide() {
        if (hasIndirectlyConnected()) {
            return DowningStrategy.DownIndirectlyConnected$.MODULE$;
        }
        SortedSet<Member> members = membersWithRole();
        if (members.isEmpty()) {
            return DowningStrategy.DownAll$.MODULE$; // no member with the role
        }
        Decision decision = majority(reachableMembersWithRole().size(), unreachableMembersWithRole().size(),
                members.head());
        if (decision != DowningStrategy.DownUnreachable$.MODULE$) {
            return decision;
        }
        // A membership change during a partition: on this side count as few as could be (no joining,
        // no leaving: they may be exiting over there), on the other as many (joining may be up there).
        SortedSet<Member> thisSide = membersWithRole(false, true);
        if (thisSide.isEmpty()) {
            return DowningStrategy.DownAll$.MODULE$;
        }
        Decision edge = majority(reachableMembersWithRole(false, true).size(),
                unreachableMembersWithRole(true, false).size(), thisSide.head());
        return edge == DowningStrategy.DownUnreachable$.MODULE$ ? decision : DowningStrategy.DownAll$.MODULE$;
    }

    private Decision majority(int thisSide, int otherSide, Member lowest) {
        if (thisSide == otherSide) {
            // equal halves: the one with the lowest address stays
            return unreachable(lowest) ? DowningStrategy.DownReachable$.MODULE$ : DowningStrategy.DownUnreachable$.MODULE$;
        }
        return thisSide > otherSide ? DowningStrategy.DownUnreachable$.MODULE$ : DowningStrategy.DownReachable$.MODULE$;
    }

    @Override
    public scala.collection.immutable.Set<UniqueAddress> nodesToDown(Decision decision) {
        if (decision == DowningStrategy.DownUnreachable$.MODULE$) {
            Set<UniqueAddress> result = downable();
            result.retainAll(javaSet(unreachable()));
            result.removeAll(markedOnlyByDead());
            return scalaSet(result);
        }
        if (decision == DowningStrategy.DownIndirectlyConnected$.MODULE$ && frozenDead == null) {
            // Pekko sets aside the records between indirectly connected members and decides again
            // (calling decide() and this method); the dead observers are those of the whole view.
            frozenDead = deadObservers();
            try {
                return super.nodesToDown(decision);
            } finally {
                frozenDead = null;
            }
        }
        return super.nodesToDown(decision);
    }

    private static Set<UniqueAddress> javaSet(scala.collection.immutable.Set<UniqueAddress> set) {
        return new HashSet<>(CollectionConverters.asJava(set));
    }

    private static scala.collection.immutable.Set<UniqueAddress> scalaSet(Set<UniqueAddress> set) {
        return CollectionConverters.asScala(set).toSet();
    }
}
