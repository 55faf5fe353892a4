package io.tributary.coordinator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.tributary.history.Checkpoint;
import io.tributary.history.ModelHistory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records a run's evaluations as verifiable history: each call writes the parameters as
 * {@code history/checkpoints/step-<step>.safetensors} under the run directory and appends an entry to
 * {@code history/history.jsonl} naming it by SHA-256. The {@code history} folder is self-contained:
 * it can be copied anywhere and checked with {@code tributary history verify}.
 *
 * <p>Not thread-safe: one owner (the coordinator) calls it. A call writes about 2 MB and forces it to
 * disk twice (checkpoint, then history line), some tens of milliseconds on an ordinary disk; call it
 * from a dispatcher that may block.
 */
public final class RunRecorder {

    private static final Logger LOG = LoggerFactory.getLogger(RunRecorder.class);

    /** The run directory's subfolder that holds the log and its checkpoints. */
    public static final String HISTORY_FOLDER = "history";

    private static final String CHECKPOINT_FOLDER = "checkpoints";

    /**
     * The run directory's file of scalars, one JSON object a line: per committed step {@code step}, {@code t}
     * (seconds since the run started), {@code loss} (smoothed training loss, null before the first report),
     * {@code samples_per_s} (since the start), {@code trainers} (in the quorum) and {@code trainer_bytes_sent}
     * (data-plane bytes the trainers' nodes sent, as they report it); per evaluation {@code step}, {@code t} and
     * {@code test_accuracy}. {@code tributary plot} draws it.
     */
    public static final String SCALARS_FILE = "scalars.jsonl";

    /** The run directory's file with the credit ledger ({@link CreditLedger#toJson}). */
    public static final String CREDITS_FILE = "credits.json";

    private final Path runDirectory;
    private final Path historyDirectory;
    private final Path checkpointDirectory;
    private final long runId;
    private final String configHash;
    private final CheckpointFormat format;
    private final ModelHistory history;
    private final Set<String> recordedCheckpoints = new HashSet<>();
    private java.io.Writer scalars;
    private boolean scalarsFailed;

    /**
     * Opens (or starts) the history of the run in {@code runDirectory}; an existing history is
     * continued. Fails with {@link UncheckedIOException} when the folder cannot be created or the
     * existing log is malformed.
     */
    public RunRecorder(Path runDirectory, long runId, String configHash, int[] layerSizes) {
        this(runDirectory, runId, configHash, mlp(layerSizes));
    }

    /** How a checkpoint of the flat parameter vector is written (the model's names and shapes). */
    @FunctionalInterface
    public interface CheckpointFormat {
        /** Writes {@code flatParams} with {@code meta} to {@code dir/name} (atomically) and returns the file. */
        Path write(Path dir, String name, float[] flatParams, Map<String, String> meta) throws IOException;
    }

    /** The MLP's checkpoints ({@link Checkpoint}) for {@code layerSizes}. */
    public static CheckpointFormat mlp(int[] layerSizes) {
        Checkpoint.parameterCount(layerSizes);
        int[] sizes = layerSizes.clone();
        return (dir, name, flat, meta) -> Checkpoint.write(dir, name, sizes, flat, meta);
    }

    /** As {@link #RunRecorder(Path, long, String, int[])}, with checkpoints in {@code format}. */
    public RunRecorder(Path runDirectory, long runId, String configHash, CheckpointFormat format) {
        this.runDirectory = runDirectory;
        this.historyDirectory = runDirectory.resolve(HISTORY_FOLDER);
        this.checkpointDirectory = historyDirectory.resolve(CHECKPOINT_FOLDER);
        this.runId = runId;
        this.configHash = configHash;
        this.format = format;
        Path log = historyDirectory.resolve(ModelHistory.FILE_NAME);
        try {
            Files.createDirectories(checkpointDirectory);
            this.history = ModelHistory.open(log);
            if (history.size() > 0) {
                for (ModelHistory.Entry e : ModelHistory.read(log)) {
                    recordedCheckpoints.add(e.checkpoint());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the run history in " + historyDirectory + ": "
                    + e.getMessage(), e);
        }
    }

    /** The folder with {@code history.jsonl} and {@code checkpoints/}. */
    public Path historyDirectory() {
        return historyDirectory;
    }

    /**
     * Writes the checkpoint of {@code step} and appends its history entry. Each trainer's share is its
     * samples over all samples in {@code samplesByTrainer}. Refuses a step already in the history
     * (its checkpoint would be overwritten) and a non-finite loss or accuracy.
     *
     * <p>{@code shardVersions} is the version each shard's part of {@code flatParams} is of, under a policy that
     * keeps the shards in step (sync); then every one must be {@code step}: parameters of more than one version
     * are no model anyone trained, and neither a checkpoint nor a history entry is written for them (a warning
     * says so and this returns false). {@code null} under a policy whose shards move on independently (bounded
     * staleness, local SGD), where the parameters are recorded as they are.
     *
     * @return whether the evaluation was recorded
     */
    public boolean recordEvaluation(long step, int epoch, float[] flatParams, long[] shardVersions,
                                    Map<Integer, Long> samplesByTrainer, double loss, double accuracy) {
        if (shardVersions != null) {
            for (long v : shardVersions) {
                if (v != step) {
                    LOG.warn("step {}: no checkpoint or history entry: the shards' parameters are of versions {}, not"
                            + " all {}, so they are not one cut of the model (a shard had moved on); the next"
                            + " evaluation is recorded as usual", step, java.util.Arrays.toString(shardVersions), step);
                    return false;
                }
            }
        }
        long start = System.nanoTime();
        String name = "step-" + step + ".safetensors";
        String relative = CHECKPOINT_FOLDER + "/" + name;
        if (recordedCheckpoints.contains(relative)) {
            throw new IllegalStateException("step " + step + " is already in " + history.file()
                    + "; a second checkpoint for it would break the recorded SHA-256");
        }
        Map<String, Double> shares = shares(samplesByTrainer);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("run_id", Long.toString(runId));
        meta.put("step", Long.toString(step));
        meta.put("epoch", Integer.toString(epoch));
        meta.put("config_hash", configHash);
        try {
            Path file = format.write(checkpointDirectory, name, flatParams, meta);
            String sha = Checkpoint.sha256(file);
            ModelHistory.Entry entry = history.append(new ModelHistory.Evaluation(step, relative, sha, configHash,
                    shares, loss, accuracy, Instant.now().truncatedTo(ChronoUnit.MILLIS)));
            recordedCheckpoints.add(relative);
            LOG.info("history entry {}: step {} (epoch {}), accuracy {}, checkpoint {} ({} ms)", entry.index(), step,
                    epoch, accuracy, file, (System.nanoTime() - start) / 1_000_000);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record step " + step + " in " + historyDirectory + ": "
                    + e.getMessage(), e);
        }
    }

    /** Appends a committed step's scalars to {@link #SCALARS_FILE} (flushed, not forced to disk). */
    public void recordStep(long step, double seconds, double loss, double samplesPerSecond, int trainers,
                           long trainerBytesSent) {
        scalar(String.format(java.util.Locale.ROOT, "{\"step\":%d,\"t\":%.3f,\"loss\":%s,\"samples_per_s\":%.1f,"
                + "\"trainers\":%d,\"trainer_bytes_sent\":%d}", step, seconds, Double.isFinite(loss)
                ? String.format(java.util.Locale.ROOT, "%.6f", loss) : "null", samplesPerSecond, trainers,
                trainerBytesSent));
    }

    /** Appends an evaluation's test accuracy to {@link #SCALARS_FILE}. */
    public void recordAccuracy(long step, double seconds, double accuracy) {
        scalar(String.format(java.util.Locale.ROOT, "{\"step\":%d,\"t\":%.3f,\"test_accuracy\":%.6f}", step, seconds,
                accuracy));
    }

    private void scalar(String line) {
        if (scalarsFailed) {
            return;
        }
        try {
            if (scalars == null) {
                scalars = Files.newBufferedWriter(runDirectory.resolve(SCALARS_FILE), StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }
            scalars.write(line);
            scalars.write('\n');
            scalars.flush();
        } catch (IOException e) {
            // the run goes on without its scalars: they are for plots, the history and checkpoints are what count
            scalarsFailed = true;
            LOG.error("cannot write {} in {} ({}): no more scalars are written for this run", SCALARS_FILE,
                    runDirectory, e.toString());
        }
    }

    /**
     * Replaces {@code credits.json} in the run directory with {@code json}: written to a temporary
     * file and moved over the old one, so a reader sees the old ledger or the new, never half of one.
     */
    public void writeCredits(String json) {
        Path target = runDirectory.resolve(CREDITS_FILE);
        Path tmp = runDirectory.resolve(CREDITS_FILE + ".tmp");
        try {
            java.nio.file.Files.writeString(tmp, json, StandardCharsets.UTF_8);
            java.nio.file.Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the credit ledger " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * SHA-256 (lowercase hex) of the {@code tributary} subtree of {@code config}: one line per leaf,
     * {@code path=value} with the path as Typesafe Config quotes it and the value rendered as concise
     * JSON, lines sorted by path, UTF-8. Independent of file order, comments and origins.
     */
    public static String configHash(Config config) {
        if (!config.hasPath("tributary")) {
            throw new IllegalArgumentException("the configuration has no 'tributary' section to hash");
        }
        Config tributary = config.getConfig("tributary");
        Map<String, String> leaves = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : tributary.entrySet()) {
            leaves.put(e.getKey(), e.getValue().render(ConfigRenderOptions.concise()));
        }
        StringBuilder sb = new StringBuilder();
        leaves.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java SE platform must provide", e);
        }
    }

    private static Map<String, Double> shares(Map<Integer, Long> samplesByTrainer) {
        long total = 0;
        for (Map.Entry<Integer, Long> e : samplesByTrainer.entrySet()) {
            if (e.getValue() < 0) {
                throw new IllegalArgumentException("trainer " + e.getKey() + " has a negative sample count "
                        + e.getValue());
            }
            total += e.getValue();
        }
        Map<String, Double> shares = new TreeMap<>();
        for (Map.Entry<Integer, Long> e : samplesByTrainer.entrySet()) {
            shares.put(Integer.toString(e.getKey()), total == 0 ? 0.0 : (double) e.getValue() / total);
        }
        return shares;
    }
}
