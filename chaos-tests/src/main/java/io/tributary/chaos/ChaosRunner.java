package io.tributary.chaos;

import io.tributary.coordinator.RunResult;
import io.tributary.coordinator.RunListener;
import io.tributary.coordinator.UpdateAudit;
import io.tributary.demo.ChildJvms;
import io.tributary.demo.DemoCommand;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs one scenario on a local cluster (the same JVMs {@code tributary demo} starts), injects its
 * faults, records every event and measurement, runs the checkers and writes the results folder:
 * {@code results.json} (a verdict per checker and overall: JSON true or false, or "unknown"), {@code events.log}
 * (the history) and {@code chart.png}.
 */
public final class ChaosRunner {

    /** A checker's verdict. {@code valid} is "true", "false" or "unknown". */
    public record Verdict(String checker, String valid, String detail) {
    }

    /** What a run produced. */
    public record Outcome(String overall, List<Verdict> verdicts, Path resultsDir, RunResult result) {
    }

    record Sample(double seconds, long step, int liveTrainers) {
    }

    private final Scenario scenario;
    private final Path runsDir;
    private final PrintStream out;
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    private final List<Chart.Point> accuracy = Collections.synchronizedList(new ArrayList<>());
    /** Seconds each shard hand-over took (old owner's first piece of state to the new owner's answer). */
    private final List<Double> moves = Collections.synchronizedList(new ArrayList<>());
    /** Steps done again after each ps failover by rollback (step left at minus the cut's step). */
    private final List<Long> redone = Collections.synchronizedList(new ArrayList<>());
    /** Seconds from a ps node's removal until the replicas of its shards took over, per promotion. */
    private final List<Double> promotions = Collections.synchronizedList(new ArrayList<>());
    /** Per coordinator hand-over: the node that took the run over, its step and the seconds it took to catch up. */
    private final List<String> takeovers = Collections.synchronizedList(new ArrayList<>());
    /** Node address and reason of every trainer the coordinator quarantined. */
    private final List<String> quarantines = Collections.synchronizedList(new ArrayList<>());
    private volatile long startNanos;
    private final Object injectorLock = new Object();
    private FaultInjector injector0;
    private long runStartedNanos;

    public ChaosRunner(Scenario scenario, Path runsDir, PrintStream out) {
        this.scenario = scenario;
        this.runsDir = runsDir;
        this.out = out;
    }

    private double now() {
        return startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
    }

    private void event(String what) {
        String line = String.format(Locale.ROOT, "%8.2f %s", now(), what);
        events.add(line);
        out.println("chaos: " + line.trim());
    }

    public Outcome run() throws IOException, InterruptedException {
        Map<String, String> overrides = new LinkedHashMap<>(scenario.settings());
        overrides.put("tributary.train.epochs", Integer.toString(scenario.epochs()));
        Map<String, List<String>> jvmOptions = new LinkedHashMap<>();
        for (Scenario.Fault f : scenario.faults()) {
            if (f.action() == Scenario.Action.DROP_PACKETS) {
                jvmOptions.put(f.target(), List.of(
                        "-Daeron.ReceiveChannelEndpoint.supplier=io.aeron.driver.ext.DebugReceiveChannelEndpointSupplier",
                        "-Daeron.debug.receive.data.loss.rate=" + f.rate(),
                        "-Daeron.debug.receive.data.loss.seed=" + (31L * f.line())));
            }
        }
        Path[] runDir = new Path[1];
        DemoCommand.Hooks hooks = new DemoCommand.Hooks() {
            @Override
            public void started(ChildJvms children, Path dir, java.util.function.Consumer<String> startTrainer) {
                runDir[0] = dir;
                startNanos = System.nanoTime();
                event("cluster started: " + scenario.psNodes() + " ps, " + scenario.trainers() + " trainers");
                for (Scenario.Fault f : scenario.faults()) {
                    if (f.action() == Scenario.Action.DROP_PACKETS) {
                        event("fault-start " + f.describe() + " (whole run)");
                    }
                }
                FaultInjector injector = new FaultInjector(children, ChaosRunner.this::event, startTrainer,
                        dir.resolve("control"));
                synchronized (injectorLock) {
                    injector0 = injector;
                    if (runStartedNanos != 0) {
                        // the run started while the last JVMs were still starting (they start one by one)
                        injector.schedule(scenario.faults(), System.nanoTime() - runStartedNanos);
                    }
                }
            }

            @Override
            public boolean controlFiles() {
                return scenario.faults().stream().anyMatch(f -> f.action() == Scenario.Action.PARTITION
                        || f.action() == Scenario.Action.BANDWIDTH || f.action() == Scenario.Action.SPLIT);
            }

            @Override
            public RunListener observer() {
                return new RunListener() {
                    @Override
                    public void started(int trainers, int shards, long totalSteps, int stepsPerEpoch, int localBatch,
                                        String policy) {
                        event("run started: " + totalSteps + " steps, " + policy);
                        // Fault times count from here: JVM start-up and data loading vary a lot on a loaded host.
                        synchronized (injectorLock) {
                            runStartedNanos = System.nanoTime();
                            if (injector0 != null) {
                                injector0.schedule(scenario.faults(), 0);
                            }
                        }
                    }

                    @Override
                    public void progress(long step, long totalSteps, double samplesPerSecond, int liveTrainers,
                                         double loss, double lastAccuracy) {
                        samples.add(new Sample(now(), step, liveTrainers));
                    }

                    @Override
                    public void evaluated(int epoch, long step, double acc) {
                        accuracy.add(new Chart.Point(now(), acc));
                        event(String.format(Locale.ROOT, "evaluation at step %d: accuracy %.4f", step, acc));
                    }

                    @Override
                    public void finished(RunResult r) {
                        event("run finished");
                    }

                    @Override
                    public void psFailover(String node, long step, long toStep) {
                        redone.add(step - toStep);
                        event("ps failover: " + node + " left at step " + step + ", shards roll back to step " + toStep);
                    }

                    @Override
                    public void replicasPromoted(String node, long step, double seconds) {
                        promotions.add(seconds);
                        event(String.format(Locale.ROOT, "ps failover: %s left at step %d, the replicas of its shards "
                                + "took over (%.2f s after its removal), no rollback", node, step, seconds));
                    }

                    @Override
                    public void shardMoved(int shard, String from, String to, long version, double seconds) {
                        moves.add(seconds);
                        event(String.format(Locale.ROOT, "shard %d moved from %s to %s at version %d with its state"
                                + " (%.2f s)", shard, from, to, version, seconds));
                    }

                    @Override
                    public void trainerQuarantined(int trainer, String node, String reason) {
                        quarantines.add(node + ": " + reason);
                        event("trainer " + trainer + " (" + node + ") quarantined: " + reason);
                    }

                    @Override
                    public void coordinatorTookOver(String node, long step, long storedStep, double seconds) {
                        takeovers.add(String.format(Locale.ROOT, "%s at step %d (stored state of step %d, caught up in"
                                + " %.2f s)", node, step, storedStep, seconds));
                        event(String.format(Locale.ROOT, "coordinator hand-over: %s took the run over at step %d from the"
                                + " state stored at step %d; caught up with the shards in %.2f s", node, step, storedStep,
                                seconds));
                    }

                    @Override
                    public void trainerJoined(int trainer, int replaced, long step) {
                        event("trainer " + trainer + " joined at step " + step);
                    }

                    @Override
                    public void workPlanned(int plan, long from, String why, Map<Integer, Integer> batches) {
                        event("work plan " + plan + " from step " + from + " (" + why + "): batches by trainer " + batches);
                    }
                };
            }
        };
        DemoCommand.Options options = new DemoCommand.Options(scenario.trainers(), scenario.psNodes(), null, overrides,
                runsDir, scenario.timeout(), scenario.trainerSettings(), "chaos-" + scenario.name(), jvmOptions, hooks);
        RunResult result = null;
        String failure = null;
        try {
            result = new DemoCommand(options, out).run();
        } catch (IllegalStateException e) {
            failure = e.getMessage();
            event("run failed: " + failure);
        } finally {
            synchronized (injectorLock) {
                if (injector0 != null) {
                    injector0.close();
                }
            }
        }
        Path dir = runDir[0] != null ? runDir[0] : Files.createDirectories(runsDir.resolve("chaos-" + scenario.name()));
        List<Verdict> verdicts = check(result, failure);
        String overall = verdicts.stream().anyMatch(v -> v.valid().equals("false")) ? "false"
                : verdicts.stream().anyMatch(v -> v.valid().equals("unknown")) ? "unknown" : "true";
        Files.write(dir.resolve("events.log"), new ArrayList<>(events));
        Files.writeString(dir.resolve("results.json"), ResultsJson.render(scenario, overall, verdicts, result));
        Chart.write(dir.resolve("chart.png"), "chaos: " + scenario.name() + " (overall valid: " + overall + ")",
                throughput(), new ArrayList<>(accuracy), windows());
        return new Outcome(overall, verdicts, dir, result);
    }

    private List<Chart.Point> throughput() {
        int batch = Integer.parseInt(scenario.settings().getOrDefault("tributary.train.batch-size", "128"));
        List<Chart.Point> points = new ArrayList<>();
        List<Sample> s = new ArrayList<>(samples);
        int from = 0;
        for (int i = 1; i < s.size(); i++) {
            double dt = s.get(i).seconds() - s.get(from).seconds();
            if (dt >= 1.0) {
                points.add(new Chart.Point(s.get(i).seconds(), (s.get(i).step() - s.get(from).step()) * batch / dt));
                from = i;
            }
        }
        return points;
    }

    private List<Chart.Window> windows() {
        List<Chart.Window> w = new ArrayList<>();
        Map<String, Double> open = new LinkedHashMap<>();
        for (String e : new ArrayList<>(events)) {
            String[] parts = e.trim().split(" ", 3);
            double t = Double.parseDouble(parts[0]);
            if (parts[1].equals("fault-start")) {
                open.put(parts[2].replaceAll(" pid [0-9]+| \\(whole run\\)", ""), t);
            } else if (parts[1].equals("fault-end")) {
                Double s = open.remove(parts[2]);
                if (s != null) {
                    w.add(new Chart.Window(s, Math.max(t, s + 0.5), parts[2]));
                }
            }
        }
        for (Map.Entry<String, Double> e : open.entrySet()) {
            w.add(new Chart.Window(e.getValue(), Math.max(now(), e.getValue() + 0.5), e.getKey()));
        }
        return w;
    }

    private List<Verdict> check(RunResult r, String failure) {
        List<Verdict> v = new ArrayList<>();
        v.add(r != null ? new Verdict("run-finished", "true", "all " + r.steps() + " steps committed")
                : new Verdict("run-finished", "false", failure));
        if (r == null || scenario.baselineAccuracy() == null) {
            v.add(new Verdict("accuracy-margin", "unknown", r == null ? "no result"
                    : "no baseline-accuracy in the scenario's checks"));
        } else {
            boolean ok = r.accuracy() >= scenario.baselineAccuracy() - scenario.accuracyMargin();
            v.add(new Verdict("accuracy-margin", Boolean.toString(ok), String.format(Locale.ROOT,
                    "final %.4f vs fault-free %.4f, margin %.4f", r.accuracy(), scenario.baselineAccuracy(),
                    scenario.accuracyMargin())));
        }
        if (r == null) {
            v.add(new Verdict("updates-intact", "unknown", "no result"));
        } else {
            boolean ok = r.checksumMismatches() == 0 && r.checksumsCompared() > 0;
            v.add(new Verdict("updates-intact", Boolean.toString(ok), r.checksumsCompared()
                    + " gradients checksummed at trainer and shard, " + r.checksumMismatches() + " differed"));
        }
        if (r == null || r.updates().audited() == 0) {
            v.add(new Verdict("no-lost-or-duplicate-update", "unknown", r == null ? "no result" : "no update audited"));
            v.add(new Verdict("single-shard-owner", "unknown", r == null ? "no result" : "no update audited"));
        } else {
            UpdateAudit.Summary u = r.updates();
            v.add(new Verdict("no-lost-or-duplicate-update", Boolean.toString(u.lost() == 0 && u.duplicates() == 0),
                    String.format(Locale.ROOT, "%d shard updates audited by id: %d lost, %d applied twice%s%s",
                            u.audited(), u.lost(), u.duplicates(), u.rolledBack() == 0 ? "" : ", " + u.rolledBack()
                                    + " rolled back to a checkpoint by a ps failover and done again",
                            u.firstProblem() == null ? "" : "; first: " + u.firstProblem())));
            v.add(new Verdict("single-shard-owner", Boolean.toString(u.conflicts() == 0), String.format(Locale.ROOT,
                    "%d commits from a shard's former owner after a newer one, %d hand-overs", u.conflicts(),
                    u.ownerChanges())));
        }
        if (r == null || r.samplesAudit().epochs() == 0) {
            v.add(new Verdict("samples-each-once", "unknown", r == null ? "no result" : "no epoch audited"));
        } else {
            io.tributary.coordinator.WorkPlanner.Summary sa = r.samplesAudit();
            v.add(new Verdict("samples-each-once", Boolean.toString(sa.missed() == 0 && sa.twice() == 0),
                    String.format(Locale.ROOT, "%d epoch(s), %d samples to train: %d trained once, %d never, %d twice "
                            + "(%d work plans)", sa.epochs(), sa.expected(), sa.trained(), sa.missed(), sa.twice(),
                            sa.plans())));
        }
        if (scenario.faults().stream().anyMatch(f -> f.action() == Scenario.Action.JOIN && f.target().startsWith("ps-"))) {
            List<Double> m = new ArrayList<>(moves);
            double longest = m.stream().mapToDouble(Double::doubleValue).max().orElse(0);
            v.add(new Verdict("shards-moved-with-state", Boolean.toString(!m.isEmpty()), m.isEmpty()
                    ? "a ps node joined but no shard moved onto it with its state"
                    : String.format(Locale.ROOT, "%d shard(s) moved onto joined ps nodes with their parameters and "
                            + "optimizer state; the longest hand-over took %.2f s", m.size(), longest)));
        }
        if (scenario.maxStepsRedone() != null) {
            long steps = redone.stream().mapToLong(Long::longValue).sum();
            v.add(new Verdict("steps-redone", Boolean.toString(r != null && steps <= scenario.maxStepsRedone()),
                    String.format(Locale.ROOT, "%d step(s) done again by %d rollback(s) (limit %d); %d ps failover(s) "
                            + "by replica promotion%s", steps, redone.size(), scenario.maxStepsRedone(), promotions.size(),
                            promotions.isEmpty() ? "" : String.format(Locale.ROOT, ", the longest %.2f s after the "
                                    + "node's removal", promotions.stream().mapToDouble(Double::doubleValue).max()
                                    .orElse(0)))));
        }
        long coordinatorFaults = scenario.faults().stream().filter(f -> f.target().startsWith("coordinator-1")
                && (f.action() == Scenario.Action.KILL || f.action() == Scenario.Action.LEAVE)).count();
        if (coordinatorFaults > 0 || !takeovers.isEmpty()) {
            List<String> t = new ArrayList<>(takeovers);
            // the first coordinator killed or leaving must hand the run over; a pause may or may not (the
            // failure detector decides), but any hand-over there was must have kept the run whole (the other checks)
            boolean ok = r != null && t.size() >= Math.min(coordinatorFaults, 1);
            v.add(new Verdict("coordinator-hand-overs", Boolean.toString(ok), t.size() + " hand-over(s) of the run"
                    + " between coordinator nodes" + (t.isEmpty() ? "" : ": " + String.join("; ", t))));
        }
        hostile().ifPresent(v::add);
        v.addAll(recovery());
        return v;
    }

    /**
     * With hostile trainers in the scenario ({@code tributary.trainer.attack} other than none in
     * {@code job.trainer-settings}): exactly that many trainers quarantined, so every attacker was caught
     * and no honest trainer was. A data-plane liar must have been caught by its frames (the reason
     * names the node that caught it).
     */
    private java.util.Optional<Verdict> hostile() {
        List<String> attacks = new ArrayList<>();
        for (Map<String, String> t : scenario.trainerSettings().values()) {
            String a = t.getOrDefault("tributary.trainer.attack", "none");
            if (!a.equals("none")) {
                attacks.add(a);
            }
        }
        if (attacks.isEmpty()) {
            return java.util.Optional.empty();
        }
        List<String> q = new ArrayList<>(quarantines);
        boolean framesLie = attacks.stream().anyMatch(a -> a.equals("steal-slot") || a.equals("extra-votes")
                || a.equals("forge-parameters"));
        boolean ok = q.size() == attacks.size() && (!framesLie || q.stream().allMatch(r -> r.contains("caught by")));
        return java.util.Optional.of(new Verdict("attackers-quarantined", Boolean.toString(ok),
                attacks.size() + " attacker(s) " + attacks + ", " + q.size() + " quarantined" + (q.isEmpty() ? ""
                        : ": " + String.join("; ", q))));
    }

    /**
     * Per kill or pause: seconds from the fault's end until the run makes progress again. Progress is
     * a committed step above every step before it. When a stall (no progress for 2 s) begins after
     * the fault started and within 10 s of its end (the fault took a while to bite: detection, a
     * rollback), recovery is the end of that stall; otherwise it is the first progress after the fault.
     * A stall's end that is one lone step, followed by another stall of 2 s or more and then steady progress,
     * does not end it: that step was one the dead node had already done, completed by the failover (its
     * replica's version), and training resumes at the end of the second stall. An evaluation that ends
     * within the second stall is work, not a stall: the stall counts from its end; and a second stall in
     * which another fault starts may be that fault's, so the lone step ends the first one.
     */
    private List<Verdict> recovery() {
        List<Verdict> v = new ArrayList<>();
        List<Sample> s = new ArrayList<>(samples);
        List<Double> evaluations;
        synchronized (accuracy) {
            evaluations = accuracy.stream().map(Chart.Point::seconds).toList();
        }
        Map<String, Double> started = new LinkedHashMap<>();
        List<String> all = new ArrayList<>(events);
        List<Double> faultStarts = new ArrayList<>();
        for (String e : all) {
            String[] parts = e.trim().split(" ", 3);
            if (parts.length > 1 && parts[1].equals("fault-start")) {
                faultStarts.add(Double.parseDouble(parts[0]));
            }
        }
        for (String e : all) {
            String[] parts = e.trim().split(" ", 3);
            if (parts[1].equals("fault-start")) {
                started.put(parts[2].replaceAll(" pid [0-9]+", ""), Double.parseDouble(parts[0]));
            }
            if (!parts[1].equals("fault-end") || parts[2].startsWith("slow")) {
                continue;
            }
            double t = Double.parseDouble(parts[0]);
            Double recovered = recoveredAt(s, evaluations, faultStarts, started.getOrDefault(parts[2], t), t);
            String name = "recovery (" + parts[2] + ")";
            if (recovered == null) {
                v.add(new Verdict(name, "unknown", "the run made no progress after the fault within the run"));
            } else {
                double seconds = recovered - t;
                boolean ok = seconds <= scenario.maxRecovery().toSeconds();
                v.add(new Verdict(name, Boolean.toString(ok), String.format(Locale.ROOT,
                        "progress again %.1f s after the fault (limit %d s)", seconds, scenario.maxRecovery().toSeconds())));
            }
        }
        return v;
    }

    /** {@link #recoveredAt(List, List, List, double, double)} with no evaluation and no other fault. */
    static Double recoveredAt(List<Sample> s, double start, double t) {
        return recoveredAt(s, List.of(), List.of(), start, t);
    }

    /**
     * See {@link #recovery()}: a fault from {@code start} to {@code t}, the run's evaluations ending at
     * {@code evaluations} and its faults starting at {@code faultStarts} (seconds); null when the run never
     * progressed after the fault.
     */
    static Double recoveredAt(List<Sample> s, List<Double> evaluations, List<Double> faultStarts, double start,
                              double t) {
        long high = Long.MIN_VALUE;
        double lastProgress = Double.NaN;
        Double firstAfter = null;
        for (int i = 0; i < s.size(); i++) {
            Sample x = s.get(i);
            if (x.step() > high) {
                if (x.seconds() > t) {
                    boolean stalled = !Double.isNaN(lastProgress) && x.seconds() - lastProgress >= 2.0
                            && lastProgress >= start && lastProgress - t <= 10.0;
                    if (stalled) {
                        return afterLoneStep(s, evaluations, faultStarts, i); // the end of the fault's stall
                    }
                    if (firstAfter == null) {
                        // a stall that began just before the fault (the step the fault interrupted) may also
                        // end in a lone step
                        boolean endsGap = !Double.isNaN(lastProgress) && x.seconds() - lastProgress >= 2.0;
                        firstAfter = endsGap ? afterLoneStep(s, evaluations, faultStarts, i) : x.seconds();
                    }
                    if (x.seconds() - t > 10.0) {
                        return firstAfter; // no stall began near the fault
                    }
                }
                high = x.step();
                lastProgress = x.seconds();
            }
        }
        return firstAfter;
    }

    /**
     * The end of a stall whose first progress is sample {@code i}: that sample's time, or when it is a lone
     * step followed by another stall of 2 s or more and then steady progress, the end of that second stall.
     */
    private static double afterLoneStep(List<Sample> s, List<Double> evaluations, List<Double> faultStarts, int i) {
        int next = firstAbove(s, i, s.get(i).step());
        double from = s.get(i).seconds();
        for (double f : faultStarts) {
            if (next >= 0 && f > from && f <= s.get(next).seconds()) {
                return from; // the second stall may be that fault's: the lone step ended this one
            }
        }
        for (double e : evaluations) {
            if (e > from && next >= 0 && e <= s.get(next).seconds()) {
                from = e; // an evaluation took that time
            }
        }
        if (next >= 0 && s.get(next).seconds() - from >= 2.0) {
            int after = firstAbove(s, next, s.get(next).step());
            if (after >= 0 && s.get(after).seconds() - s.get(next).seconds() < 2.0) {
                return s.get(next).seconds();
            }
        }
        return s.get(i).seconds();
    }

    /** The index of the first sample after {@code from} whose step is above {@code step}; -1 when none. */
    private static int firstAbove(List<Sample> s, int from, long step) {
        for (int j = from + 1; j < s.size(); j++) {
            if (s.get(j).step() > step) {
                return j;
            }
        }
        return -1;
    }
}
