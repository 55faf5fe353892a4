# Network namespaces that stand for hosts: sourced by scripts/netns-cluster.sh and scripts/image-cluster.sh.
# Each host N is the namespace "$tag-N" with address "$subnet.N" on a bridge that lives in a hub namespace of
# its own, so nothing of this machine's own network is touched. The caller sets tag (at most 9 characters)
# and subnet (three octets of a private /24), and calls netns_cleanup on exit.

netns_namespaces=()

netns_check() {
  if [ "$(id -u)" != 0 ]; then
    echo "$1: needs root to make network namespaces (ip netns); run it as root" >&2; return 2
  fi
  for tool in ip tc; do
    command -v "$tool" >/dev/null || { echo "$1: '$tool' not found: apt-get install iproute2" >&2; return 2; }
  done
}

netns_hub() {
  ip netns add "$tag-hub" || { echo "cannot make a network namespace on this machine" >&2; return 2; }
  netns_namespaces+=("$tag-hub")
  ip -n "$tag-hub" link set lo up
  ip -n "$tag-hub" link add br0 type bridge
  ip -n "$tag-hub" link set br0 up
}

# host N: namespace $tag-N, address $subnet.N on the bridge
netns_add_host() {
  local n="$1" ns="$tag-$1"
  ip netns add "$ns"; netns_namespaces+=("$ns")
  ip -n "$ns" link set lo up
  ip link add "$tag-$n" type veth peer name "$tag-$n-h"
  ip link set "$tag-$n" netns "$ns"
  ip link set "$tag-$n-h" netns "$tag-hub"
  ip -n "$tag-hub" link set "$tag-$n-h" master br0 up
  ip -n "$ns" addr add "$subnet.$n/24" dev "$tag-$n"
  ip -n "$ns" link set "$tag-$n" up
}

# what reaches host N and what leaves it, both capped at RATE (tbf on each end of its link)
netns_cap_host() {
  local n="$1" rate="$2"
  ip netns exec "$tag-$n" tc qdisc add dev "$tag-$n" root tbf rate "$rate" burst 256kb latency 100ms
  ip netns exec "$tag-hub" tc qdisc add dev "$tag-$n-h" root tbf rate "$rate" burst 256kb latency 100ms
}

netns_cleanup() {
  for ns in "${netns_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}

# stop_pids PID...: SIGTERM, up to 10 s, then SIGKILL; only the processes named
stop_pids() {
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# A host N behind a NAT router, as a volunteer's machine at home: its namespace "$tag-N" has the private
# address 192.168.N.2 and a default route through the router namespace "$tag-${N}r", which is $subnet.N on
# the bridge and masquerades what the host sends out (nftables). The host can dial out; nothing on the
# bridge can reach it. Needs nft; returns 3 without it.
netns_add_nat_host() {
  local n="$1" host="$tag-$1" router="$tag-$1r"
  command -v nft >/dev/null || return 3
  ip netns add "$router"; netns_namespaces+=("$router")
  ip netns add "$host"; netns_namespaces+=("$host")
  ip -n "$router" link set lo up
  ip -n "$host" link set lo up
  ip link add "$tag-${n}w" type veth peer name "$tag-${n}w-h"          # the router's leg on the bridge
  ip link set "$tag-${n}w" netns "$router"
  ip link set "$tag-${n}w-h" netns "$tag-hub"
  ip -n "$tag-hub" link set "$tag-${n}w-h" master br0 up
  ip -n "$router" addr add "$subnet.$n/24" dev "$tag-${n}w"
  ip -n "$router" link set "$tag-${n}w" up
  ip link add "$tag-${n}l" type veth peer name "$tag-${n}h"           # the home network
  ip link set "$tag-${n}l" netns "$router"
  ip link set "$tag-${n}h" netns "$host"
  ip -n "$router" addr add "192.168.$n.1/24" dev "$tag-${n}l"
  ip -n "$router" link set "$tag-${n}l" up
  ip -n "$host" addr add "192.168.$n.2/24" dev "$tag-${n}h"
  ip -n "$host" link set "$tag-${n}h" up
  ip -n "$host" route add default via "192.168.$n.1"
  ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$router" nft -f - <<NFT
table ip tributary_nat {
  chain post { type nat hook postrouting priority srcnat; oifname "$tag-${n}w" masquerade; }
}
NFT
}
