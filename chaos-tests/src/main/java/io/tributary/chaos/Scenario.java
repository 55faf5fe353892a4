package io.tributary.chaos;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A chaos experiment, read from a HOCON file under {@code config/chaos/}: the cluster's shape, the
 * training job, a timeline of faults and the checks' thresholds. A fault's {@code at} counts from the
 * start of training (every trainer registered), not from the start of the JVMs. Every key is
 * checked; a wrong
 * one stops the load with a {@link ScenarioException} that names the key and its line.
 *
 * <pre>
 * scenario {
 *   name = kill-a-trainer
 *   cluster { trainers = 3, ps = 1 }
 *   job { epochs = 1, settings { "tributary.data.train-limit" = 20000 } }
 *   # settings of one trainer JVM only, e.g. a trainer that computes 3x slower all run
 *   # job.trainer-settings { trainer-3 { "tributary.trainer.slowdown" = 3.0 } }
 *   faults = [ { at = 20s, action = kill, target = trainer-2 } ]
 *   checks { baseline-accuracy = 0.95, accuracy-margin = 0.02, max-recovery = 60s }
 *   # optional: at most this many steps done again after ps failovers (a rollback redoes the steps since
 *   # its cut; a promoted replica none)
 *   checks { max-steps-redone = 0 }
 * }
 * </pre>
 */
public record Scenario(String name, int trainers, int psNodes, int epochs, Map<String, String> settings,
                       Map<Integer, Map<String, String>> trainerSettings, List<Fault> faults, Double baselineAccuracy, double accuracyMargin, Duration maxRecovery,
                       Duration timeout, Path file, Long maxStepsRedone) {

    /** What a fault does to its target JVM. */
    public enum Action {
        /** SIGKILL. */
        KILL,
        /** SIGTERM: the node leaves the cluster gracefully (CoordinatedShutdown) and its JVM exits. */
        LEAVE,
        /** SIGSTOP, then SIGCONT after {@code duration}. */
        PAUSE,
        /** Slows the JVM by {@code factor} for {@code duration}: SIGSTOP/SIGCONT in 100 ms cycles. */
        SLOW,
        /** The JVM's Aeron media driver drops {@code rate} of the data packets it receives, for the whole run. */
        DROP_PACKETS,
        /**
         * A new JVM of that name starts and joins mid-run: a trainer enters the quorum at once and computes
         * on samples from its first step, a ps node gets shards moved onto it with their state.
         */
        JOIN,
        /**
         * The node is cut off from every other member for {@code duration}, in-process (Artery's test-mode
         * blackhole for the control plane, the data plane drops every frame), then heals.
         */
        PARTITION,
        /** The node's data plane sends at most {@code bandwidth} bytes per second for {@code duration}. */
        BANDWIDTH,
        /**
         * A partition between two groups for {@code duration}: {@code target} lists one group's JVMs,
         * comma-separated ({@code "ps-2,trainer-3,trainer-4"}); the other group is every other JVM and the
         * launcher (the chaos tool's own JVM, always on that side). Each node of a group drops every
         * control message to and from the other group (Artery's test-mode blackhole) and its data-plane
         * frames to it, then both heal. The fault ends, for recovery, when the split begins: the side that
         * keeps the majority should go on at once.
         */
        SPLIT
    }

    /** One entry of the timeline. */
    public record Fault(Duration at, Action action, String target, Duration duration, double factor, double rate,
                        long bandwidth, int line) {
        public String describe() {
            return action.name().toLowerCase(Locale.ROOT).replace('_', '-') + " " + target
                    + (timed(action) ? " for " + duration.toSeconds() + " s" : "")
                    + (action == Action.SLOW ? " x" + factor : "") + (action == Action.DROP_PACKETS ? " " + rate : "")
                    + (action == Action.BANDWIDTH ? " at " + bandwidth + " B/s" : "");
        }

        static boolean timed(Action a) {
            return a == Action.PAUSE || a == Action.SLOW || a == Action.PARTITION || a == Action.BANDWIDTH
                    || a == Action.SPLIT;
        }
    }

    private static final Set<String> TOP = Set.of("name", "cluster", "job", "faults", "checks", "timeout");
    private static final Set<String> CLUSTER = Set.of("trainers", "ps", "coordinators");
    private static final Set<String> JOB = Set.of("epochs", "settings", "trainer-settings");
    private static final Set<String> FAULT = Set.of("at", "action", "target", "duration", "factor", "rate", "bandwidth");
    private static final Set<String> CHECKS = Set.of("baseline-accuracy", "accuracy-margin", "max-recovery",
            "max-steps-redone");

    /** Reads and checks {@code file}. */
    public static Scenario load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ScenarioException(file + ": no such scenario file");
        }
        Config root;
        try {
            root = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
        } catch (ConfigException e) {
            throw new ScenarioException(file + ": " + e.getMessage().replaceAll("\\s*\\n\\s*", " "));
        }
        try {
            if (!root.hasPath("scenario")) {
                throw new ScenarioException(file + ": the file has no 'scenario { ... }' block");
            }
            Config s = root.getConfig("scenario");
            known(s, TOP, "scenario", file);
            Config cluster = s.hasPath("cluster") ? s.getConfig("cluster") : ConfigFactory.empty();
            known(cluster, CLUSTER, "scenario.cluster", file);
            Config job = s.hasPath("job") ? s.getConfig("job") : ConfigFactory.empty();
            known(job, JOB, "scenario.job", file);
            Config checks = s.hasPath("checks") ? s.getConfig("checks") : ConfigFactory.empty();
            known(checks, CHECKS, "scenario.checks", file);

            int trainers = cluster.hasPath("trainers") ? cluster.getInt("trainers") : 3;
            int ps = cluster.hasPath("ps") ? cluster.getInt("ps") : 1;
            int coordinators = cluster.hasPath("coordinators") ? cluster.getInt("coordinators") : 2;
            if (trainers < 1 || ps < 1 || coordinators < 1) {
                throw new ScenarioException(file + ": scenario.cluster needs at least 1 trainer, 1 ps and 1 coordinator"
                        + " (line " + cluster.origin().lineNumber() + ")");
            }
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("tributary.cluster.coordinator-nodes", Integer.toString(coordinators));
            if (job.hasPath("settings")) {
                for (Map.Entry<String, ConfigValue> e : job.getConfig("settings").entrySet()) {
                    String key = e.getKey().replace("\"", "");
                    // pekko.cluster.*: the failure detector, the Split Brain Resolver and the like, which every node
                    // of the cluster must share
                    if (!key.startsWith("tributary.") && !key.startsWith("pekko.cluster.")) {
                        throw new ScenarioException(file + ": scenario.job.settings key '" + key + "' (line "
                                + e.getValue().origin().lineNumber() + ") must be a tributary.* or pekko.cluster.* config key");
                    }
                    settings.put(key, e.getValue().render(com.typesafe.config.ConfigRenderOptions.concise())
                            .replaceAll("^\"|\"$", ""));
                }
            }
            Map<Integer, Map<String, String>> trainerSettings = new LinkedHashMap<>();
            if (job.hasPath("trainer-settings")) {
                Config ts = job.getConfig("trainer-settings");
                for (String name : ts.root().keySet()) {
                    int line = ts.root().get(name).origin().lineNumber();
                    if (!name.matches("trainer-[1-9][0-9]*") || Integer.parseInt(name.substring(8)) > trainers) {
                        throw new ScenarioException(file + ": scenario.job.trainer-settings key '" + name + "' (line " + line
                                + ") is not a trainer of this cluster: use trainer-1..trainer-" + trainers);
                    }
                    Map<String, String> one = new LinkedHashMap<>();
                    for (Map.Entry<String, ConfigValue> e : ts.getConfig("\"" + name + "\"").entrySet()) {
                        String key = e.getKey().replace("\"", "");
                        if (!key.startsWith("tributary.")) {
                            throw new ScenarioException(file + ": scenario.job.trainer-settings." + name + " key '" + key
                                    + "' (line " + e.getValue().origin().lineNumber() + ") must be a tributary.* config key");
                        }
                        one.put(key, e.getValue().render(com.typesafe.config.ConfigRenderOptions.concise())
                                .replaceAll("^\"|\"$", ""));
                    }
                    trainerSettings.put(Integer.parseInt(name.substring(8)), one);
                }
            }
            List<Fault> faults = new ArrayList<>();
            java.util.Map<String, Duration> joined = new java.util.HashMap<>();
            if (s.hasPath("faults")) {
                for (Config f : s.getConfigList("faults")) {
                    Fault fault = fault(f, trainers, ps, coordinators, file, joined);
                    if (fault.action() == Action.JOIN) {
                        joined.put(fault.target(), fault.at());
                    }
                    faults.add(fault);
                }
            }
            return new Scenario(s.hasPath("name") ? s.getString("name") : file.getFileName().toString().replace(".conf", ""),
                    trainers, ps, job.hasPath("epochs") ? job.getInt("epochs") : 1, settings, trainerSettings, faults,
                    checks.hasPath("baseline-accuracy") ? checks.getDouble("baseline-accuracy") : null,
                    checks.hasPath("accuracy-margin") ? checks.getDouble("accuracy-margin") : 0.01,
                    checks.hasPath("max-recovery") ? checks.getDuration("max-recovery") : Duration.ofSeconds(60),
                    s.hasPath("timeout") ? s.getDuration("timeout") : Duration.ofMinutes(15), file,
                    checks.hasPath("max-steps-redone") ? checks.getLong("max-steps-redone") : null);
        } catch (ConfigException e) {
            throw new ScenarioException(file + ": " + e.getMessage().replaceAll("\\s*\\n\\s*", " "));
        }
    }

    /** {@code joined}: trainers started by join faults listed earlier, with their times. */
    /** Whether {@code name} is one of the JVMs the cluster starts with. */
    private static boolean startsWith(String name, int trainers, int ps, int coordinators) {
        return name.matches("trainer-[1-9][0-9]*") && Integer.parseInt(name.substring(8)) <= trainers
                || name.matches("ps-[1-9][0-9]*") && Integer.parseInt(name.substring(3)) <= ps
                || name.matches("coordinator-[1-9][0-9]*") && Integer.parseInt(name.substring(12)) <= coordinators;
    }

    private static Fault fault(Config f, int trainers, int ps, int coordinators, Path file,
                               java.util.Map<String, Duration> joined) {
        String jvms = "trainer-1..trainer-" + trainers + ", ps-1..ps-" + ps + ", coordinator-1..coordinator-" + coordinators;
        known(f, FAULT, "scenario.faults[]", file);
        int line = f.origin().lineNumber();
        String actionName = f.getString("action");
        Action action;
        try {
            action = Action.valueOf(actionName.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new ScenarioException(file + ": scenario.faults[].action = '" + actionName + "' (line " + line
                    + ") is unknown: use kill, leave, pause, slow, drop-packets, join, partition, split or bandwidth");
        }
        String target = f.getString("target");
        if (action == Action.SPLIT) {
            String[] group = target.split(",");
            java.util.Set<String> names = new java.util.HashSet<>();
            for (String g : group) {
                String name = g.trim();
                if (!startsWith(name, trainers, ps, coordinators) || !names.add(name)) {
                    throw new ScenarioException(file + ": scenario.faults[].target = '" + target + "' (line " + line
                            + ") must list one side of the split, comma-separated, each a JVM of this cluster once: "
                            + jvms);
                }
            }
            if (names.size() >= trainers + ps + coordinators) {
                throw new ScenarioException(file + ": scenario.faults[].target = '" + target + "' (line " + line
                        + ") lists every JVM: leave some on the launcher's side of the split");
            }
            target = String.join(",", group).replace(" ", "");
        } else if (action == Action.JOIN) {
            boolean newTrainer = target.matches("trainer-[1-9][0-9]*") && Integer.parseInt(target.substring(8)) > trainers;
            boolean newPs = target.matches("ps-[1-9][0-9]*") && Integer.parseInt(target.substring(3)) > ps;
            boolean newCoordinator = target.matches("coordinator-[1-9][0-9]*")
                    && Integer.parseInt(target.substring(12)) > coordinators;
            if (!newTrainer && !newPs && !newCoordinator || joined.containsKey(target)) {
                throw new ScenarioException(file + ": scenario.faults[].target = '" + target + "' (line " + line
                        + ") must name a new JVM for join: trainer-" + (trainers + 1) + " or higher, ps-" + (ps + 1)
                        + " or higher, or coordinator-" + (coordinators + 1) + " or higher, each joining once");
            }
        } else if (!startsWith(target, trainers, ps, coordinators) && !joined.containsKey(target)) {
            throw new ScenarioException(file + ": scenario.faults[].target = '" + target + "' (line " + line
                    + ") is not a JVM of this cluster: use " + jvms + " or a JVM an earlier join fault starts");
        }
        Duration at = f.hasPath("at") ? f.getDuration("at") : Duration.ZERO;
        if (action != Action.JOIN && joined.containsKey(target) && at.compareTo(joined.get(target)) <= 0) {
            throw new ScenarioException(file + ": scenario.faults[] (line " + line + ") acts on " + target + " at " + at
                    + " but it joins only at " + joined.get(target));
        }
        Duration duration = f.hasPath("duration") ? f.getDuration("duration") : Duration.ZERO;
        if (Fault.timed(action) && duration.isZero()) {
            throw new ScenarioException(file + ": scenario.faults[].duration (line " + line + ") is required for "
                    + actionName);
        }
        double factor = f.hasPath("factor") ? f.getDouble("factor") : 2.0;
        if (action == Action.SLOW && factor <= 1.0) {
            throw new ScenarioException(file + ": scenario.faults[].factor = " + factor + " (line " + line
                    + ") must be > 1 for slow");
        }
        double rate = f.hasPath("rate") ? f.getDouble("rate") : 0.1;
        if (action == Action.DROP_PACKETS && (rate <= 0 || rate >= 1)) {
            throw new ScenarioException(file + ": scenario.faults[].rate = " + rate + " (line " + line
                    + ") must be in (0, 1)");
        }
        long bandwidth = f.hasPath("bandwidth") ? f.getBytes("bandwidth") : 0;
        if (action == Action.BANDWIDTH && bandwidth <= 0) {
            throw new ScenarioException(file + ": scenario.faults[].bandwidth (line " + line + ") is required for bandwidth:"
                    + " bytes per second, e.g. bandwidth = 2MiB");
        }
        return new Fault(at, action, target, duration, factor, rate, bandwidth, line);
    }

    private static void known(Config c, Set<String> allowed, String where, Path file) {
        for (String key : c.root().keySet()) {
            if (!allowed.contains(key)) {
                throw new ScenarioException(file + ": unknown key '" + where + "." + key + "' (line "
                        + c.root().get(key).origin().lineNumber() + "); known keys: " + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
    }
}
