package io.tributary.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PekkoDefaultsTest {

    private static final String DOWNING = "io.tributary.protocol.TributaryDowningProvider";

    @TempDir
    Path dir;

    @Test
    void oursWinWhereAnotherReferenceConfDecided() throws Exception {
        // As in a shaded jar, where Pekko's reference.conf comes after ours and its values win.
        Files.writeString(dir.resolve("reference.conf"), String.join("\n",
                "pekko.cluster.downing-provider-class = \"\"",
                "pekko.cluster.split-brain-resolver.stable-after = 20s",
                "pekko.actor.allow-java-serialization = on", ""));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            Config pekkoWon = ConfigFactory.parseResources(loader, "reference.conf");
            assertEquals("", pekkoWon.getString("pekko.cluster.downing-provider-class"));
            Config fixed = PekkoDefaults.over(pekkoWon);
            assertEquals(DOWNING, fixed.getString("pekko.cluster.downing-provider-class"));
            assertEquals(Duration.ofSeconds(7), fixed.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
            assertEquals(false, fixed.getBoolean("pekko.actor.allow-java-serialization"));
            assertEquals("tributary-kryo",
                    fixed.getString("pekko.actor.serialization-bindings.\"io.tributary.protocol.WireMessage\""));
        }
    }

    @Test
    void shardsRebalanceOneAtATimeAndAreNeverPassivated() {
        Config fixed = PekkoDefaults.over(ConfigFactory.empty());
        Duration interval = fixed.getDuration("pekko.cluster.sharding.rebalance-interval");
        // shards move onto an added ps node within seconds, each handing its state over
        assertTrue(interval.compareTo(Duration.ofSeconds(10)) <= 0, interval.toString());
        assertEquals(1, fixed.getInt("pekko.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit"));
        // passivating an idle shard would only cost a hand-over
        assertEquals("none", fixed.getString("pekko.cluster.sharding.passivation.strategy"));
    }

    @Test
    void whatAUserSetIsKept() {
        Config user = ConfigFactory.parseString("pekko.cluster.split-brain-resolver.stable-after = 3s");
        Config fixed = PekkoDefaults.over(user);
        assertEquals(Duration.ofSeconds(3), fixed.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
        assertEquals(DOWNING, fixed.getString("pekko.cluster.downing-provider-class"));
    }

    @Test
    void aClusterNodeStartsWithTributarysDowningProvider() throws Exception {
        Config config = PekkoDefaults.over(ConfigFactory.parseString(String.join("\n",
                "pekko.actor.provider = cluster",
                "pekko.remote.artery.canonical.hostname = 127.0.0.1",
                "pekko.remote.artery.canonical.port = 0")).withFallback(ConfigFactory.load()));
        org.apache.pekko.actor.ActorSystem system = org.apache.pekko.actor.ActorSystem.create("downing-test", config);
        try {
            org.apache.pekko.cluster.Cluster cluster = org.apache.pekko.cluster.Cluster.get(system);
            cluster.join(cluster.selfAddress());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (cluster.selfMember().status() != org.apache.pekko.cluster.MemberStatus.up()
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(org.apache.pekko.cluster.MemberStatus.up(), cluster.selfMember().status());
            assertEquals(TributaryDowningProvider.class, cluster.downingProvider().getClass());
            // down-removal-margin (7 s in the defaults) wins over stable-after, as in Pekko's resolver
            assertEquals(java.time.Duration.ofSeconds(7).toMillis(), cluster.downingProvider().downRemovalMargin().toMillis());
            assertTrue(cluster.downingProvider().downingActorProps().isDefined());
        } finally {
            system.terminate();
            scala.concurrent.Await.result(system.whenTerminated(), scala.concurrent.duration.Duration.create(30, "s"));
        }
    }

    @Test
    void anotherStrategyIsRefusedSayingWhatToDo() throws Exception {
        Config config = PekkoDefaults.over(ConfigFactory.parseString(String.join("\n",
                "pekko.actor.provider = cluster",
                "pekko.remote.artery.canonical.hostname = 127.0.0.1",
                "pekko.remote.artery.canonical.port = 0",
                "pekko.cluster.split-brain-resolver.active-strategy = keep-oldest")).withFallback(ConfigFactory.load()));
        org.apache.pekko.actor.ActorSystem system = org.apache.pekko.actor.ActorSystem.create("downing-test", config);
        try {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new TributaryDowningProvider(system));
            assertTrue(e.getMessage().contains("keep-oldest"), e.getMessage());
            assertTrue(e.getMessage().contains("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"), e.getMessage());
        } finally {
            system.terminate();
            scala.concurrent.Await.result(system.whenTerminated(), scala.concurrent.duration.Duration.create(30, "s"));
        }
    }

    @Test
    void theModulesReferenceConfIncludesTheDefaults() {
        Config reference = ConfigFactory.defaultReference();
        assertEquals(7291, reference.getInt(KryoSerializer.IDENTIFIER_KEY));
        assertEquals("keep-majority", reference.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    }
}
