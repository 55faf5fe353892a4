package io.tributary.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process faults for the chaos tool, for a node started with {@code tributary.chaos.control-file}:
 * a thread reads that file every {@value #POLL_MILLIS} ms and applies what it says when it changes.
 * <ul>
 *   <li>{@code partition}: the node is cut off from every other member: Artery (in its test mode)
 *       drops every message to and from them, and the data plane ({@link ChaosFaults}) every frame;</li>
 *   <li>{@code split H:P|E H:P|E ...}: a partition between groups: the node is cut off from the members at
 *       Pekko addresses {@code H:P} (Artery's blackhole) and drops its frames to their data-plane endpoints
 *       {@code E} ({@code -} for none); the chaos runner tells every node of each group the other group's
 *       members, which it reads from the {@code NAME.address} file each node writes beside its control file;</li>
 *   <li>{@code heal}: both flow again;</li>
 *   <li>{@code bandwidth N}: the data plane sends at most N bytes per second ({@code bandwidth 0}: no cap).</li>
 * </ul>
 * The chaos runner writes the file (atomically); nothing else should set the key.
 */
final class ChaosControl implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChaosControl.class);
    static final long POLL_MILLIS = 200;

    private final Path file;
    private final TributaryNode node;
    private final ChaosFaults faults;
    private final Thread thread;
    private final List<Address> blackholed = new ArrayList<>();
    private volatile boolean running = true;
    private String last = "";

    /**
     * @param faults the faults installed in this node's data plane
     * @param endpoint this node's data-plane endpoint, written with its Pekko address to {@code FILE.address}
     */
    ChaosControl(Path file, TributaryNode node, ChaosFaults faults, String endpoint) {
        this.file = file;
        this.node = node;
        this.faults = faults;
        Address self = node.address();
        Path addressFile = file.resolveSibling(file.getFileName() + ".address");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".address.tmp");
            Files.writeString(tmp, self.host().get() + ":" + self.port().get() + "|" + endpoint + "\n",
                    StandardCharsets.UTF_8);
            Files.move(tmp, addressFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("chaos control: cannot write {}: {}; a split cannot name this node", addressFile, e.toString());
        }
        this.thread = new Thread(this::loop, "tributary-chaos-control");
        thread.setDaemon(true);
        thread.start();
        LOG.info("chaos control: watching {}", file);
    }

    private void loop() {
        while (running) {
            try {
                String now = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!now.equals(last)) {
                    last = now;
                    apply(now);
                }
            } catch (NoSuchFileException e) {
                // nothing asked yet
            } catch (IOException | RuntimeException e) {
                LOG.warn("chaos control: cannot apply {}: {}", file, e.toString());
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void apply(String command) {
        String[] words = command.split("\\s+");
        switch (words[0]) {
            case "partition" -> {
                Address self = node.address();
                for (Member m : Cluster.get(node.system()).state().getMembers()) {
                    if (!m.address().equals(self)) {
                        throttle(m.address(), ThrottlerTransportAdapter.blackholeThrottleMode());
                        blackholed.add(m.address());
                    }
                }
                faults.cutOff(true);
                LOG.warn("chaos: this node is partitioned from {} members (control plane and data plane)", blackholed.size());
            }
            case "split" -> {
                java.util.Set<String> endpoints = new java.util.HashSet<>();
                for (int i = 1; i < words.length; i++) {
                    String[] f = words[i].split("\\|");
                    int colon = f[0].lastIndexOf(':');
                    Address a = new Address("pekko", node.system().name(), f[0].substring(0, colon),
                            Integer.parseInt(f[0].substring(colon + 1)));
                    throttle(a, ThrottlerTransportAdapter.blackholeThrottleMode());
                    blackholed.add(a);
                    if (f.length > 1 && !f[1].equals("-")) {
                        endpoints.add(f[1]);
                    }
                }
                faults.cutFrom(endpoints);
                LOG.warn("chaos: partitioned from {} members on the other side of a split: {} (data plane to {})",
                        words.length - 1, blackholed, endpoints);
            }
            case "heal" -> {
                faults.cutFrom(java.util.Set.of());
                for (Address a : blackholed) {
                    throttle(a, ThrottlerTransportAdapter.unthrottledThrottleMode());
                }
                LOG.warn("chaos: the partition healed ({} members reachable again)", blackholed.size());
                blackholed.clear();
                faults.cutOff(false);
            }
            case "bandwidth" -> {
                long cap = words.length > 1 ? Long.parseLong(words[1]) : 0;
                faults.capBandwidth(cap);
                LOG.warn("chaos: data-plane bandwidth {}", cap == 0 ? "uncapped" : "capped at " + cap + " bytes/s");
            }
            default -> LOG.warn("chaos control: unknown command '{}' in {}: use partition, split, heal or bandwidth N", command,
                    file);
        }
    }

    private void throttle(Address address, ThrottlerTransportAdapter.ThrottleMode mode) {
        RARP rarp = (RARP) RARP.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(node.system()));
        rarp.provider().transport().managementCommand(new ThrottlerTransportAdapter.SetThrottle(address,
                ThrottlerTransportAdapter.bothDirection(), mode));
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
