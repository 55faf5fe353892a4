package io.tributary.chaos;

import io.tributary.demo.ChildJvms;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Carries out a scenario's timeline on the JVMs the local cluster started: SIGKILL, SIGSTOP and
 * SIGCONT sent by PID to those processes only. Every action is reported to {@code events} with
 * its time; SIGCONT is always sent again at the end, so no JVM stays stopped.
 */
final class FaultInjector implements AutoCloseable {

    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chaos-faults");
        t.setDaemon(true);
        return t;
    });
    private final ChildJvms children;
    private final Consumer<String> events;
    private final Consumer<String> startTrainer;
    private final Path controlDir;

    /** @param controlDir where each JVM reads its in-process faults ({@code tributary.chaos.control-file}) */
    FaultInjector(ChildJvms children, Consumer<String> events, Consumer<String> startTrainer, Path controlDir) {
        this.children = children;
        this.events = events;
        this.startTrainer = startTrainer;
        this.controlDir = controlDir;
    }

    /** Tells JVM {@code name} an in-process fault: written whole, then renamed, so it never reads half a line. */
    private void control(String name, String command) {
        try {
            Files.createDirectories(controlDir);
            Path tmp = controlDir.resolve(name + ".tmp");
            Files.writeString(tmp, command + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, controlDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            events.accept("error: cannot tell " + name + " '" + command + "': " + e.getMessage());
        }
    }

    /** Schedules every fault at its time from the start of training, {@code lateNanos} of which have passed. */
    void schedule(List<Scenario.Fault> faults, long lateNanos) {
        for (Scenario.Fault f : faults) {
            if (f.action() == Scenario.Action.DROP_PACKETS) {
                continue; // set up when the JVM starts
            }
            clock.schedule(() -> start(f), Math.max(0, f.at().toNanos() - lateNanos), TimeUnit.NANOSECONDS);
        }
    }

    private ChildJvms.Child target(String name) {
        return children.children().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no JVM named " + name));
    }

    private void start(Scenario.Fault f) {
        if (f.action() == Scenario.Action.SPLIT) {
            split(f);
            return;
        }
        if (f.action() == Scenario.Action.JOIN) {
            events.accept("fault-start " + f.describe());
            startTrainer.accept(f.target());
            events.accept("fault-end " + f.describe());
            return;
        }
        ChildJvms.Child c = target(f.target());
        switch (f.action()) {
            case KILL -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                c.process().destroyForcibly();
                events.accept("fault-end " + f.describe());
            }
            case LEAVE -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                signal("TERM", c);
                events.accept("fault-end " + f.describe());
            }
            case PAUSE -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                signal("STOP", c);
                clock.schedule(() -> {
                    signal("CONT", c);
                    events.accept("fault-end " + f.describe());
                }, f.duration().toMillis(), TimeUnit.MILLISECONDS);
            }
            case SLOW -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                long period = 100;
                long stopped = Math.round(period * (1 - 1 / f.factor()));
                long end = System.currentTimeMillis() + f.duration().toMillis();
                clock.schedule(new Runnable() {
                    @Override
                    public void run() {
                        if (System.currentTimeMillis() >= end || !c.process().isAlive()) {
                            signal("CONT", c);
                            events.accept("fault-end " + f.describe());
                            return;
                        }
                        signal("STOP", c);
                        clock.schedule(() -> signal("CONT", c), stopped, TimeUnit.MILLISECONDS);
                        clock.schedule(this, period, TimeUnit.MILLISECONDS);
                    }
                }, 0, TimeUnit.MILLISECONDS);
            }
            case PARTITION -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                control(c.name(), "partition");
                clock.schedule(() -> {
                    control(c.name(), "heal");
                    events.accept("fault-end " + f.describe());
                }, f.duration().toMillis(), TimeUnit.MILLISECONDS);
            }
            case BANDWIDTH -> {
                events.accept("fault-start " + f.describe() + " pid " + c.pid());
                control(c.name(), "bandwidth " + f.bandwidth());
                clock.schedule(() -> {
                    control(c.name(), "bandwidth 0");
                    events.accept("fault-end " + f.describe());
                }, f.duration().toMillis(), TimeUnit.MILLISECONDS);
            }
            default -> throw new IllegalStateException("unexpected " + f.action());
        }
    }

    /**
     * A partition between the fault's group and everybody else (the launcher included): each live JVM
     * is told the other side's members, by the Pekko address and data-plane endpoint each node wrote beside
     * its control file; after the fault's duration every JVM heals.
     */
    private void split(Scenario.Fault f) {
        java.util.Set<String> side = java.util.Set.of(f.target().split(","));
        List<String> one = new java.util.ArrayList<>();
        List<String> other = new java.util.ArrayList<>();
        List<String> names = new java.util.ArrayList<>();
        for (ChildJvms.Child c : children.children()) {
            if (c.process().isAlive()) {
                names.add(c.name());
            }
        }
        names.add("launcher");
        for (String name : names) {
            Path file = controlDir.resolve(name + ".address");
            try {
                String address = Files.readString(file, StandardCharsets.UTF_8).trim();
                (side.contains(name) ? one : other).add(address);
            } catch (IOException e) {
                events.accept("error: cannot read " + file + " (" + e.getMessage() + "): " + name
                        + " is left out of the split");
            }
        }
        events.accept("fault-start " + f.describe() + " (" + one.size() + " | " + other.size() + " members)");
        for (String name : names) {
            if (!name.equals("launcher")) {
                control(name, "split " + String.join(" ", side.contains(name) ? other : one));
            }
        }
        events.accept("fault-end " + f.describe());
        clock.schedule(() -> {
            for (ChildJvms.Child c : children.children()) {
                if (c.process().isAlive()) {
                    control(c.name(), "heal");
                }
            }
            events.accept("split healed: " + f.target());
        }, f.duration().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void signal(String sig, ChildJvms.Child c) {
        if (!c.process().isAlive()) {
            return;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(c.pid())).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            events.accept("error: cannot send SIG" + sig + " to " + c.name() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        clock.shutdownNow();
        for (ChildJvms.Child c : children.children()) {
            signal("CONT", c);
        }
    }
}
