# Helpers of the data fetchers (scripts/fetch-mnist.sh, scripts/fetch-moby-dick.sh): sourced, not run.
# The caller sets FETCH_NAME (the prefix of its messages) before sourcing.

die() {
  echo "${FETCH_NAME}: $*" >&2
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

# npm_fetch PACKAGE SHA256 WORK_DIR: `npm pack`s PACKAGE through npm's own configured registry into
# WORK_DIR, checks the tarball against SHA256 and unpacks it there (WORK_DIR/package/...).
npm_fetch() {
  local package="$1" want="$2" work="$3"
  command -v npm >/dev/null 2>&1 \
    || die "npm not found: install Node.js and npm (Debian: apt-get install npm), or pass --data with a directory that already holds the files"
  command -v tar >/dev/null 2>&1 || die "tar not found; install tar"
  if ! (cd "$work" && npm pack "$package" --loglevel=error >"$work/pack.out" 2>"$work/pack.err"); then
    local reason
    reason="$(grep -m 1 -i 'error' "$work/pack.err" | cut -c1-200 || true)"
    die "download of $package failed (no network, or npm's registry unreachable: check npm config get registry and proxy settings, then re-run): ${reason:-npm pack failed}"
  fi
  local tarball
  tarball="$(ls "$work"/*.tgz 2>/dev/null | head -n 1 || true)"
  [[ -n "$tarball" && -f "$tarball" ]] || die "npm pack reported success but left no tarball in $work"
  local actual
  actual="$(sha256_of "$tarball")"
  [[ "$actual" == "$want" ]] \
    || die "checksum mismatch for $package: expected $want, got $actual; the download is corrupt or was tampered with, re-run later"
  tar --no-same-owner -xzf "$tarball" -C "$work" || die "cannot unpack $tarball"
}
