# Shared by the scripts that time chaos scenarios (bench-adaptive.sh, bench-control.sh, bench-lease.sh, bench-replicas.sh);
# sourced from the repository root.

# The newest run folder of scenario NAME: latest NAME
latest() { ls -d "runs/chaos-$1-"* 2>/dev/null | sort | tail -1; }

# One field of a run's result (nan when the run has none): field RUN-DIR NAME
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['result']; print(r[sys.argv[2]] if r else 'nan')" "$1/results.json" "$2"; }

# Runs one scenario, its output to LOG; stops the script unless it ran to a verdict (exit status 3,
# no verdict false and one unknown, still leaves the measurements in results.json):
# run_scenario SCRIPT-NAME CONF LOG
run_scenario() {
  local rc=0
  bin/tributary chaos run "$2" > "$3" 2>&1 || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
    echo "$1: $2 failed; see $3 (exit status $rc)" >&2
    exit 1
  fi
}

# Writes the fault-free scenario these scripts time: 3 trainers and PS ps nodes, one MNIST epoch under
# the sync policy, evaluated every 100 steps, with one more setting KEY = VALUE:
# fault_free_scenario FILE NAME PS KEY VALUE
fault_free_scenario() {
  cat > "$1" <<SCENARIO
scenario {
  name = $2
  timeout = 8m
  cluster { trainers = 3, ps = $3 }
  job {
    epochs = 1
    settings {
      "tributary.cluster.eval-every-steps" = 100
      "tributary.consistency.policy" = sync
      "$4" = $5
    }
  }
  faults = []
  checks { baseline-accuracy = 0.965, accuracy-margin = 0.02 }
}
SCENARIO
}
