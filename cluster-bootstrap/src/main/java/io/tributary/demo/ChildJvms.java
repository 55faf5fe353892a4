package io.tributary.demo;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVMs a local cluster starts: each runs {@code io.tributary.cli.Main} with the same class path
 * and Java as this process, its output in a log file of its own. {@link #close()} stops exactly the
 * processes started here, by their PID: SIGTERM first (Pekko's CoordinatedShutdown), SIGKILL after
 * a grace period; standby coordinators before the rest. A shutdown hook does the same when this JVM is
 * interrupted (Ctrl-C).
 */
public final class ChildJvms implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChildJvms.class);

    /** One started JVM. */
    public record Child(String name, Process process, Path log) {
        public long pid() {
            return process.pid();
        }
    }

    /** The names of coordinator JVMs ({@code coordinator-1}, ...), which stop in an order of their own. */
    public static final String COORDINATOR_PREFIX = "coordinator-";

    private final List<Child> children = new ArrayList<>();
    private final Thread hook = new Thread(this::stopAll, "tributary-demo-stop-children");
    private boolean closed;

    public ChildJvms() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts {@code Main} with {@code args}; its stdout and stderr go to {@code log}. */
    public synchronized Child start(String name, List<String> jvmOptions, List<String> args, Path log) throws IOException {
        if (closed) {
            throw new IllegalStateException("the local cluster is stopping; not starting " + name);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        // Agrona 2.x (Aeron, Pekko's transport) reaches jdk.internal.misc.Unsafe and NIO internals.
        cmd.add("--add-exports");
        cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("--add-opens");
        cmd.add("java.base/sun.nio.ch=ALL-UNNAMED");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.tributary.cli.Main");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putIfAbsent("OPENBLAS_NUM_THREADS", "1");
        Process p = pb.start();
        Child c = new Child(name, p, log);
        children.add(c);
        LOG.info("started {} (pid {}), log {}", name, p.pid(), log);
        return c;
    }

    public synchronized List<Child> children() {
        return List.copyOf(children);
    }

    /** Stops one child (SIGTERM, then SIGKILL after {@code graceMillis}); returns its exit status. */
    public static int stop(Child c, long graceMillis) {
        Process p = c.process();
        if (!p.isAlive()) {
            return p.exitValue();
        }
        p.destroy();
        try {
            if (!p.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
                LOG.warn("{} (pid {}) did not stop within {} ms of SIGTERM; killing it", c.name(), c.pid(), graceMillis);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        return p.isAlive() ? -1 : p.exitValue();
    }

    private void stopAll() {
        List<Child> toStop;
        synchronized (this) {
            closed = true;
            toStop = List.copyOf(children);
        }
        // The standby coordinators first: the coordinator singleton runs on the oldest coordinator node (the
        // first started that is still alive) and, leaving, hands itself over to the next oldest. Were that one
        // stopping too, Pekko's singleton manager would retry the hand-over for about 15 s after its own node
        // exited, and the grace below would run out (SIGKILL).
        List<Child> standby = new ArrayList<>();
        for (Child c : toStop) {
            if (c.name().startsWith(COORDINATOR_PREFIX) && c.process().isAlive()) {
                standby.add(c);
            }
        }
        if (standby.size() > 1) {
            standby.remove(0);
            standby.forEach(c -> c.process().destroy());
            for (Child c : standby) {
                stop(c, 10_000);
            }
        }
        for (Child c : toStop) {
            if (c.process().isAlive()) {
                c.process().destroy();
            }
        }
        for (Child c : toStop) {
            stop(c, 10_000);
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            LOG.debug("JVM already shutting down; the hook stops the children", e);
        }
    }

    /** This JVM's PID, for log lines. */
    public static long selfPid() {
        return ManagementFactory.getRuntimeMXBean().getPid();
    }
}
