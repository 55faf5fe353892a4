package io.tributary.chaos;

import io.tributary.coordinator.RunResult;
import io.tributary.history.JsonWriter;
import java.util.List;

/**
 * Writes results.json with the project's one JSON writer. A verdict's {@code valid} is a JSON
 * boolean when it is true or false and the string {@code "unknown"} otherwise, as Jepsen writes it.
 */
final class ResultsJson {

    private ResultsJson() {
    }

    static String render(Scenario s, String overall, List<ChaosRunner.Verdict> verdicts, RunResult r) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("scenario").value(s.name())
                .name("file").value(s.file().toString());
        valid(w.name("valid"), overall);
        w.name("checkers").beginArray();
        for (ChaosRunner.Verdict v : verdicts) {
            w.beginObject().name("checker").value(v.checker());
            valid(w.name("valid"), v.valid());
            w.name("detail").value(v.detail()).endObject();
        }
        w.endArray().name("faults").beginArray();
        for (Scenario.Fault f : s.faults()) {
            w.value(f.describe() + " at " + f.at().toSeconds() + " s");
        }
        w.endArray().name("result");
        if (r == null) {
            w.value((String) null);
        } else {
            w.beginObject()
                    .name("accuracy").value(r.accuracy(), 6)
                    .name("steps").value(r.steps())
                    .name("epochs").value(r.epochs())
                    .name("samplesPerSecond").value(r.samplesPerSecond(), 1)
                    .name("seconds").value(r.seconds(), 1)
                    .name("checksumsCompared").value(r.checksumsCompared())
                    .name("checksumMismatches").value(r.checksumMismatches())
                    .name("stepsClosedByDeadline").value(r.stepsClosedByDeadline())
                    .name("stepsClosedShort").value(r.stepsClosedShort())
                    .name("updatesAudited").value(r.updates().audited())
                    .name("updatesLost").value(r.updates().lost())
                    .name("updatesDuplicated").value(r.updates().duplicates())
                    .name("shardOwnerChanges").value(r.updates().ownerChanges())
                    .name("shardOwnerConflicts").value(r.updates().conflicts())
                    .name("samplesToTrain").value(r.samplesAudit().expected())
                    .name("samplesTrainedOnce").value(r.samplesAudit().trained())
                    .name("samplesNeverTrained").value(r.samplesAudit().missed())
                    .name("samplesTrainedTwice").value(r.samplesAudit().twice())
                    .name("workPlans").value(r.samplesAudit().plans())
                    .endObject();
        }
        return w.endObject().toString();
    }

    /** {@code true}, {@code false} or {@code "unknown"}. */
    private static void valid(JsonWriter w, String verdict) {
        if (verdict.equals("true") || verdict.equals("false")) {
            w.value(Boolean.parseBoolean(verdict));
        } else {
            w.value(verdict);
        }
    }
}
