#!/usr/bin/env bash
# A Tributary cluster across hosts, made on this machine: every node runs in its own network namespace
# with its own address on a bridge (in a hub namespace of its own, so nothing of the host's network is
# touched), mutual TLS with a CA made here, the links of one trainer capped with tbf, and a trainer
# that joins from yet another namespace while the run is under way. The README's "Across machines"
# section is these steps in prose. Where nft is installed, a sixth machine sits behind a NAT router (it
# can dial out, nothing can reach it) and must be told in one line what to open.
#
#   scripts/netns-cluster.sh [EPOCHS] [MIN_ACCURACY]      (defaults: 1 and 0.95)
#
# Needs root (ip netns, veth, bridge, tc), Java 17+ and the MNIST files (fetched as bin/tributary does).
# Prints each node's address and the coordinator's progress; exits 0 when the run finished with test
# accuracy >= MIN_ACCURACY and the late trainer took part, 1 otherwise, 2 when this machine cannot make
# namespaces (the reason on stderr). Every node is stopped by its PID and every namespace it made is
# deleted on exit. Environment: TRIBUTARY_NETNS_TIMEOUT (seconds for the whole run, default 900),
# TRIBUTARY_NETNS_CAP (the capped trainer's rate, tc syntax, default 100mbit), TRIBUTARY_NETNS_POLICY
# (the consistency policy, default local-sgd, the one meant for links slower than a machine's memory).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
epochs="${1:-1}"
min_accuracy="${2:-0.95}"
timeout_s="${TRIBUTARY_NETNS_TIMEOUT:-900}"
cap="${TRIBUTARY_NETNS_CAP:-100mbit}"
policy="${TRIBUTARY_NETNS_POLICY:-local-sgd}"

. "$root/scripts/lib/netns.sh"
netns_check netns-cluster || exit 2

tag="tn$$"                       # namespace and link names: unique to this run, at most 15 characters
subnet="10.213.$(( $$ % 200 + 20 ))"  # a private /24 that lives only inside these namespaces
work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-netns.XXXXXX")"
data="${TRIBUTARY_DATA:-$HOME/.cache/tributary}/mnist"
pids=()

cleanup() {
  local status=$?
  stop_pids "${pids[@]}"
  netns_cleanup
  echo "netns-cluster: logs in $work" >&2
  exit "$status"
}
trap cleanup EXIT

# The jar and the data, once, before any node starts.
"$root/bin/tributary" --version >/dev/null
if [ ! -f "$data/t10k-labels-idx1-ubyte" ]; then "$root/scripts/fetch-mnist.sh" "$data" >&2; fi
find "$root" -path "$root/*/src/*" -newer "$root/cluster-bootstrap/target/tributary.jar" -type f -print -quit \
  | grep -q . && (cd "$root" && ./mvnw -B -q -DskipTests package -pl cluster-bootstrap -am) >&2

netns_hub || exit 2

ca="$work/ca"
"$root/bin/tributary" certs init "$ca" --name netns-test >/dev/null
certs() { "$root/bin/tributary" certs sign "$ca" --name "$1" --roles "$2" --out "$work/$1-tls" >/dev/null; }

# start NAME HOST ROLES [node options...]: one node in host HOST's namespace, stdout and stderr in NAME.log
start() {
  local name="$1" n="$2" roles="$3"; shift 3
  certs "$name" "$roles"
  ip netns exec "$tag-$n" env TRIBUTARY_JAVA_OPTS="-Dtributary.log.level=INFO ${TRIBUTARY_JAVA_OPTS:-}" \
    "$root/bin/tributary" node --roles "$roles" --host "$subnet.$n" --data "$data" \
    --tls-dir "$work/$name-tls" --set tributary.cluster.run-id=77 \
    --set tributary.consistency.policy="$policy" "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  echo "netns-cluster: $name ($roles) at $subnet.$n:25520 (data plane UDP 25521, metrics http://$subnet.$n:25522/metrics)"
}

for n in 1 2 3 4 5; do netns_add_host "$n"; done
netns_cap_host 4 "$cap"
nat=0
if netns_add_nat_host 6; then nat=1; else
  echo "netns-cluster: no volunteer behind NAT this time: nft not found (apt-get install nftables; scripts/setup.sh does)"
fi
seed="$subnet.1:25520"
start coordinator 1 coordinator --epochs "$epochs" --run-dir "$work/run" --set tributary.cluster.min-trainers=2
# the ps node is a coordinator node too (younger: it stands by, with the run's settings, to take the run over)
start ps 2 ps,coordinator --join "$seed" --epochs "$epochs" --run-dir "$work/run" --set tributary.cluster.min-trainers=2
start trainer-a 3 trainer --join "$seed"
start trainer-b 4 trainer --join "$seed"
echo "netns-cluster: trainer-b's link is capped at $cap each way (tbf)"
if [ "$nat" = 1 ]; then
  # a volunteer at home: it can dial the seed, but nobody can reach it back at its private address
  certs volunteer trainer
  ip netns exec "$tag-6" env TRIBUTARY_JAVA_OPTS="-Dtributary.log.level=INFO ${TRIBUTARY_JAVA_OPTS:-}" \
    "$root/bin/tributary" node --roles trainer --host 192.168.6.2 --data "$data" --tls-dir "$work/volunteer-tls" \
    --set tributary.cluster.run-id=77 --set tributary.consistency.policy="$policy" \
    --set tributary.node.join-timeout=15s --join "$seed" >"$work/volunteer.log" 2>&1 &
  nat_pid="$!"
  pids+=("$nat_pid")
  echo "netns-cluster: volunteer (trainer) at 192.168.6.2 behind a NAT router ($subnet.6), joining $seed"
fi

deadline=$(( $(date +%s) + timeout_s ))
# the late trainer joins once the run is under way (its first progress line)
until grep -q "^run started" "$work/coordinator.log" 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "netns-cluster: the run did not start within ${timeout_s} s" >&2; exit 1; }
  sleep 1
done
start trainer-late 5 trainer --join "$seed"

until grep -q "^result:" "$work/coordinator.log" 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "netns-cluster: no result within ${timeout_s} s" >&2; exit 1; }
  sleep 2
done
grep -E "^(run started|step|epoch|result)" "$work/coordinator.log" | tail -8
accuracy="$(sed -n 's/^result: final test accuracy \([0-9.]*\)%.*/\1/p' "$work/coordinator.log" | tail -1)"
nat_ok=1
if [ "$nat" = 1 ]; then
  for _ in $(seq 1 60); do kill -0 "$nat_pid" 2>/dev/null || break; sleep 1; done
  told="$(grep -h "node stopped: no seed admitted this node" "$work/volunteer.log" || true)"
  if [ -n "$told" ]; then
    echo "netns-cluster: the volunteer behind NAT was told: ${told#tributary: node stopped: }"
  else
    nat_ok=0
    echo "netns-cluster: the volunteer behind NAT was NOT told what to open (see $work/volunteer.log)"
  fi
fi
ok_acc="$(awk -v a="$accuracy" -v m="$min_accuracy" 'BEGIN { print (a / 100 >= m) ? 1 : 0 }')"
steps_late="$(grep -c "steps [0-9]*\.\." "$work/trainer-late.log" || true)"
echo "netns-cluster: accuracy ${accuracy}% (at least $(awk -v m="$min_accuracy" 'BEGIN { print m * 100 }')% wanted);" \
  "the late trainer $([ "$steps_late" -gt 0 ] && echo "took part" || echo "did NOT take part")"
[ "$ok_acc" = 1 ] && [ "$steps_late" -gt 0 ] && [ "$nat_ok" = 1 ]
