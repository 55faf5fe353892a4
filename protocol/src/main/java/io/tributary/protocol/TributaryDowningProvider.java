package io.tributary.protocol;

import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.DowningProvider;
import org.apache.pekko.cluster.sbr.SplitBrainResolver;
import org.apache.pekko.cluster.sbr.SplitBrainResolverSettings;
import scala.Option;
import scala.concurrent.duration.Duration;
import scala.concurrent.duration.FiniteDuration;

/**
 * Pekko's Split Brain Resolver with keep-majority, and one change: the unreachability a node
 * reported before every reachable member lost it does not make it "indirectly connected"
 * ({@link DeadObserverKeepMajority}). Everything else (stable-after, down-all-when-unstable, the
 * leader acting alone, downing oneself when quarantined) is Pekko's own resolver actor, configured
 * under {@code pekko.cluster.split-brain-resolver} as usual.
 *
 * <p>Why: a node that marks a dead peer unreachable and then dies itself before that peer is
 * downed leaves its observation in the gossip. Pekko's resolver then sees it as both observer and
 * subject of unreachability, takes it for a node still connected through others, cannot resolve
 * that ("SBR double DownIndirectlyConnected decision, downing all instead") and downs every node:
 * two failures 15 s apart ended a soak run this way (docs/architecture.md, "Failures close
 * together").
 *
 * <p>Enabled with {@code pekko.cluster.downing-provider-class =
 * "io.tributary.protocol.TributaryDowningProvider"} (Tributary's Pekko defaults); only
 * {@code active-strategy = keep-majority} is supported.
 */
public final class TributaryDowningProvider extends DowningProvider {

    private final ActorSystem system;
    private final SplitBrainResolverSettings settings;

    public TributaryDowningProvider(ActorSystem system) {
        this.system = system;
        this.settings = new SplitBrainResolverSettings(system.settings().config());
        if (!SplitBrainResolverSettings.KeepMajorityName().equals(settings.DowningStrategy())) {
            throw new IllegalArgumentException("pekko.cluster.split-brain-resolver.active-strategy is '"
                    + settings.DowningStrategy() + "', but " + getClass().getName()
                    + " only implements keep-majority: set it to keep-majority, or set"
                    + " pekko.cluster.downing-provider-class to"
                    + " org.apache.pekko.cluster.sbr.SplitBrainResolverProvider for Pekko's other strategies");
        }
    }

    /** As Pekko's resolver: {@code pekko.cluster.down-removal-margin} where set, else stable-after. */
    @Override
    public FiniteDuration downRemovalMargin() {
        FiniteDuration margin = Cluster.get(system).settings().DownRemovalMargin();
        return margin.equals(Duration.Zero()) ? settings.DowningStableAfter() : margin;
    }

    @Override
    public Option<Props> downingActorProps() {
        Cluster cluster = Cluster.get(system);
        int monitoredBy = system.settings().config().getInt("pekko.cluster.failure-detector.monitored-by-nr-of-members");
        DeadObserverKeepMajority strategy = new DeadObserverKeepMajority(
                cluster.selfDataCenter(), settings.keepMajorityRole(), cluster.selfUniqueAddress(), monitoredBy);
        return Option.apply(SplitBrainResolver.props(settings.DowningStableAfter(), strategy));
    }
}
