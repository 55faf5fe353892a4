package io.tributary.chaos;

import io.tributary.coordinator.RunResult;
import java.util.List;
import java.util.Locale;

/**
 * Writes results.json by hand: a handful of fields, no JSON library needed. A verdict's
 * {@code valid} is a JSON boolean when it is true or false and the string {@code "unknown"}
 * otherwise, as Jepsen writes it.
 */
final class ResultsJson {

    private ResultsJson() {
    }

    static String render(Scenario s, String overall, List<ChaosRunner.Verdict> verdicts,
                         RunResult r) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"scenario\": ").append(q(s.name())).append(",\n");
        b.append("  \"file\": ").append(q(s.file().toString())).append(",\n");
        b.append("  \"valid\": ").append(valid(overall)).append(",\n");
        b.append("  \"checkers\": [\n");
        for (int i = 0; i < verdicts.size(); i++) {
            ChaosRunner.Verdict v = verdicts.get(i);
            b.append("    {\"checker\": ").append(q(v.checker())).append(", \"valid\": ").append(valid(v.valid()))
                    .append(", \"detail\": ").append(q(v.detail())).append('}')
                    .append(i + 1 < verdicts.size() ? ",\n" : "\n");
        }
        b.append("  ],\n  \"faults\": [");
        for (int i = 0; i < s.faults().size(); i++) {
            b.append(i == 0 ? "" : ", ").append(q(s.faults().get(i).describe() + " at " + s.faults().get(i).at().toSeconds() + " s"));
        }
        b.append("],\n");
        if (r != null) {
            b.append(String.format(Locale.ROOT, "  \"result\": {\"accuracy\": %.6f, \"steps\": %d, \"epochs\": %d, "
                            + "\"samplesPerSecond\": %.1f, \"seconds\": %.1f, \"checksumsCompared\": %d, "
                            + "\"checksumMismatches\": %d, \"stepsClosedByDeadline\": %d, \"stepsClosedShort\": %d, "
                            + "\"updatesAudited\": %d, \"updatesLost\": %d, \"updatesDuplicated\": %d, "
                            + "\"shardOwnerChanges\": %d, \"shardOwnerConflicts\": %d, \"samplesToTrain\": %d, "
                            + "\"samplesTrainedOnce\": %d, \"samplesNeverTrained\": %d, \"samplesTrainedTwice\": %d, "
                            + "\"workPlans\": %d}\n",
                    r.accuracy(), r.steps(), r.epochs(), r.samplesPerSecond(), r.seconds(), r.checksumsCompared(),
                    r.checksumMismatches(), r.stepsClosedByDeadline(), r.stepsClosedShort(), r.updates().audited(),
                    r.updates().lost(), r.updates().duplicates(), r.updates().ownerChanges(), r.updates().conflicts(),
                    r.samplesAudit().expected(), r.samplesAudit().trained(), r.samplesAudit().missed(),
                    r.samplesAudit().twice(), r.samplesAudit().plans()));
        } else {
            b.append("  \"result\": null\n");
        }
        return b.append("}\n").toString();
    }

    /** {@code true}, {@code false} or {@code "unknown"}. */
    static String valid(String verdict) {
        return verdict.equals("true") || verdict.equals("false") ? verdict : q(verdict);
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : (s == null ? "" : s).toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
