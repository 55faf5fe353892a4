#!/usr/bin/env bash
# Three Tributary nodes started from the file system of the built OCI image, each in its own network
# namespace, that form a cluster over mutual TLS and train one MNIST epoch (local SGD). Containers cannot
# be started on the development machines (../shared/FACTS.md), so this unpacks the image tarball as a
# container runtime would (index.json, its manifest, the layer whose digests it names, each checked
# against its SHA-256) and runs every node with chroot in that tree.
#
#   scripts/image-cluster.sh [IMAGE-TAR] [MIN_ACCURACY]   (default: build one with scripts/build-image.sh; 0.95)
#
# Needs root (ip netns, chroot, mount). Exits 0 when the run finished at or above MIN_ACCURACY, 1 when it
# did not, 2 when this machine cannot do it (the reason on stderr). Stops its nodes by PID, unmounts what
# it mounted and deletes its namespaces on exit. TRIBUTARY_IMAGE_TIMEOUT: seconds for the run (600).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="${1:-}"
min_accuracy="${2:-0.95}"
timeout_s="${TRIBUTARY_IMAGE_TIMEOUT:-600}"
. "$root/scripts/lib/netns.sh"
netns_check image-cluster || exit 2
command -v chroot >/dev/null || { echo "image-cluster: chroot not found (coreutils)" >&2; exit 2; }

tag="ti$$"
subnet="10.214.$(( $$ % 200 + 20 ))"
work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-image.XXXXXX")"
data="${TRIBUTARY_DATA:-$HOME/.cache/tributary}/mnist"
rootfs="$work/rootfs"
pids=()
mounts=()

cleanup() {
  local status=$?
  stop_pids "${pids[@]}"
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  netns_cleanup
  # the unpacked image and its build are some hundreds of MB: gone once unmounted; the logs stay
  if ! mount | grep -q "$rootfs"; then rm -rf "$rootfs" "$work/oci" "$work/build"; fi
  echo "image-cluster: logs in $work" >&2
  exit "$status"
}
trap cleanup EXIT

if [ -z "$image" ]; then
  "$root/scripts/build-image.sh" "$work/build" >&2
  image="$work/build/tributary-image.tar"
fi
[ -f "$image" ] || { echo "image-cluster: no image at $image" >&2; exit 2; }

# Unpack it as a runtime would: index -> manifest -> config and layer, each blob checked against its digest.
mkdir -p "$work/oci" "$rootfs"
tar -xf "$image" -C "$work/oci"
blob() { # the blob file of a "sha256:HEX" digest, after checking it
  local hex="${1#sha256:}" f="$work/oci/blobs/sha256/${1#sha256:}"
  [ -f "$f" ] || { echo "image-cluster: the image lacks blob $1" >&2; exit 1; }
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$hex" ] || { echo "image-cluster: blob $1 does not match its digest" >&2; exit 1; }
  echo "$f"
}
json() { sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -1; }
manifest="$(blob "$(grep -o '"digest":"sha256:[0-9a-f]*"' "$work/oci/index.json" | head -1 | cut -d'"' -f4)")"
layer="$(blob "$(grep -o '"layers":\[{[^]]*' "$manifest" | grep -o 'sha256:[0-9a-f]*' | head -1)")"
config="$(blob "$(grep -o '"config":{[^}]*' "$manifest" | grep -o 'sha256:[0-9a-f]*')")"
tar -xzf "$layer" -C "$rootfs"
diff_id="$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)"
grep -q "\"sha256:$diff_id\"" "$config" || { echo "image-cluster: the layer does not match the config's diff_id" >&2; exit 1; }
entry="$(grep -o '"Entrypoint":\[[^]]*\]' "$config" | sed 's/"Entrypoint":\[//; s/\]$//; s/","/\n/g; s/"//g')"
mapfile -t entrypoint <<<"$entry"
echo "image-cluster: unpacked $(basename "$image") (entry point ${entrypoint[0]} ... ${entrypoint[-1]})"

# What a container runtime gives a container: /proc and /dev; the data and certificates as volumes.
for m in proc dev; do mount --bind "/$m" "$rootfs/$m"; mounts+=("$rootfs/$m"); done
if [ ! -f "$data/t10k-labels-idx1-ubyte" ]; then "$root/scripts/fetch-mnist.sh" "$data" >&2; fi
mkdir -p "$rootfs/data/mnist"; cp "$data"/*-ubyte "$rootfs/data/mnist/"
"$root/bin/tributary" certs init "$work/ca" --name image-test >/dev/null

netns_hub || exit 2
for n in 1 2 3; do netns_add_host "$n"; done
start() { # NAME HOST ROLES [node options...]
  local name="$1" n="$2" roles="$3"; shift 3
  "$root/bin/tributary" certs sign "$work/ca" --name "$name" --roles "$roles" --out "$rootfs/certs/$name" >/dev/null
  ip netns exec "$tag-$n" chroot "$rootfs" "${entrypoint[@]}" node --roles "$roles" --host "$subnet.$n" \
    --bind-host 0.0.0.0 --data /data/mnist --tls-dir "/certs/$name" --set tributary.cluster.run-id=78 \
    --set tributary.consistency.policy=local-sgd "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  echo "image-cluster: $name ($roles) at $subnet.$n:25520 from the image's file system"
}
start coordinator 1 coordinator,ps --epochs 1 --set tributary.cluster.min-trainers=2
start trainer-a 2 trainer --join "$subnet.1:25520"
start trainer-b 3 trainer --join "$subnet.1:25520"

deadline=$(( $(date +%s) + timeout_s ))
until grep -q "^result:" "$work/coordinator.log" 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "image-cluster: no result within ${timeout_s} s" >&2; tail -5 "$work"/*.log >&2; exit 1; }
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "image-cluster: a node stopped early" >&2; tail -5 "$work"/*.log >&2; exit 1; }
  done
  sleep 2
done
grep -E "^(run started|epoch|result)" "$work/coordinator.log"
accuracy="$(sed -n 's/^result: final test accuracy \([0-9.]*\)%.*/\1/p' "$work/coordinator.log" | tail -1)"
awk -v a="$accuracy" -v m="$min_accuracy" 'BEGIN { exit !(a / 100 >= m) }' \
  || { echo "image-cluster: accuracy ${accuracy}% is below $(awk -v m="$min_accuracy" 'BEGIN { print m * 100 }')%" >&2; exit 1; }
echo "image-cluster: three nodes from the image trained to ${accuracy}%"
