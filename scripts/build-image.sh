#!/usr/bin/env bash
# Builds an OCI image of a Tributary node without any container registry or container tool: a jlinked
# Java runtime, the tributary jar, and the shared libraries they load (copied from this machine, which
# runs Debian), as one layer; written as an OCI image layout and packed into a tarball that both
# `podman load -i` and `docker load -i` take (it carries index.json and Docker's manifest.json).
#
#   scripts/build-image.sh [OUT-DIR]        (default build/image)
#
# Writes OUT-DIR/tributary-image.tar (the image, tag tributary:VERSION) and OUT-DIR/rootfs (the same
# files unpacked, for a chroot with /proc mounted: the JVM finds its libraries through it). The image's entry point is the JVM running the tributary jar, its
# default command `node --help`; it exposes 25520/tcp (Pekko), 25521/udp (data plane), 25522/tcp
# (metrics). Run it as the README says ("An image"). Needs a JDK 17+ (jlink, jdeps).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(realpath -m "${1:-$root/build/image}")"
jar="$root/cluster-bootstrap/target/tributary.jar"

java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
for tool in jlink jdeps; do
  [ -x "$java_home/bin/$tool" ] || { echo "build-image: no $tool in $java_home/bin: set JAVA_HOME to a JDK 17+" >&2; exit 2; }
done
command -v sha256sum >/dev/null && command -v gzip >/dev/null && command -v tar >/dev/null \
  || { echo "build-image: needs sha256sum, gzip and tar (coreutils, gzip, tar)" >&2; exit 2; }

if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/*/src/main/*" -newer "$jar" -type f -print -quit)" ]; then
  echo "build-image: building the jar" >&2
  (cd "$root" && ./mvnw -B -q -DskipTests package -pl cluster-bootstrap -am) >&2
fi
version="$( (unzip -p "$jar" META-INF/MANIFEST.MF 2>/dev/null || true) | sed -n 's/^Implementation-Version: *//p' | tr -d '\r')"
version="${version:-0.1.0-SNAPSHOT}"

rm -rf "$out"
rootfs="$out/rootfs"
mkdir -p "$rootfs/opt/tributary" "$rootfs/tmp" "$rootfs/dev" "$rootfs/proc" "$rootfs/etc" "$rootfs/data" "$rootfs/certs"
chmod 1777 "$rootfs/tmp"

# The runtime: the modules the jar uses, plus TLS's elliptic curves.
modules="$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "$jar"),jdk.crypto.ec"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=2 --output "$rootfs/opt/tributary/jre"
cp "$jar" "$rootfs/opt/tributary/tributary.jar"

# The shared libraries the runtime (and the native BLAS, where this machine has it) load, at their paths here.
libs() {
  find "$rootfs/opt/tributary/jre" -name '*.so' -o -path '*/bin/java' | while read -r f; do ldd "$f" 2>/dev/null; done
  for blas in /usr/lib/x86_64-linux-gnu/libblas.so.3 /usr/lib/x86_64-linux-gnu/libopenblas.so.0; do
    [ -e "$blas" ] && { echo "$blas"; ldd "$blas" 2>/dev/null; }
  done
}
libs | grep -o '/[^ ]*\.so[^ ]*' | grep -v "^$rootfs" | sort -u | while read -r lib; do
  [ -e "$lib" ] || continue
  real="$(readlink -f "$lib")"   # the file itself once, and each name that points to it as a link
  mkdir -p "$rootfs$(dirname "$real")"
  [ -e "$rootfs$real" ] || cp "$real" "$rootfs$real"
  if [ "$lib" != "$real" ] && [ ! -e "$rootfs$lib" ]; then
    mkdir -p "$rootfs$(dirname "$lib")"; ln -s "$real" "$rootfs$lib"
  fi
done
printf 'root:x:0:0:root:/tmp:/nonexistent\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
printf '127.0.0.1 localhost\n' >"$rootfs/etc/hosts"

# One layer, made the same way every time (names sorted, owner root, time 0).
blobs="$out/layout/blobs/sha256"
mkdir -p "$blobs"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$out/layer.tar" .
diff_id="$(sha256sum "$out/layer.tar" | cut -d' ' -f1)"
gzip -n -1 -c "$out/layer.tar" >"$out/layer.tar.gz"
layer="$(sha256sum "$out/layer.tar.gz" | cut -d' ' -f1)"
layer_size="$(stat -c %s "$out/layer.tar.gz")"
mv "$out/layer.tar.gz" "$blobs/$layer"
rm "$out/layer.tar"

entry='"/opt/tributary/jre/bin/java","--add-modules","jdk.incubator.vector","--add-exports","java.base/jdk.internal.misc=ALL-UNNAMED","--add-opens","java.base/sun.nio.ch=ALL-UNNAMED","-XX:+UseParallelGC","-jar","/opt/tributary/tributary.jar"'
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":[%s],"Cmd":["node","--help"],"Env":["PATH=/opt/tributary/jre/bin","JAVA_HOME=/opt/tributary/jre","TRIBUTARY_DATA=/data"],"WorkingDir":"/tmp","ExposedPorts":{"25520/tcp":{},"25521/udp":{},"25522/tcp":{}},"Labels":{"org.opencontainers.image.title":"tributary","org.opencontainers.image.version":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/build-image.sh"}]}' \
  "$entry" "$version" "$diff_id" >"$out/config.json"
config="$(sha256sum "$out/config.json" | cut -d' ' -f1)"
config_size="$(stat -c %s "$out/config.json")"
mv "$out/config.json" "$blobs/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$out/manifest.json"
manifest="$(sha256sum "$out/manifest.json" | cut -d' ' -f1)"
manifest_size="$(stat -c %s "$out/manifest.json")"
mv "$out/manifest.json" "$blobs/$manifest"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s","io.containerd.image.name":"tributary:%s"}}]}' \
  "$manifest" "$manifest_size" "$version" "$version" >"$out/layout/index.json"
# docker load reads manifest.json (its own format) where it does not read index.json
printf '[{"Config":"blobs/sha256/%s","RepoTags":["tributary:%s"],"Layers":["blobs/sha256/%s"]}]' \
  "$config" "$version" "$layer" >"$out/layout/manifest.json"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$out/layout" -cf "$out/tributary-image.tar" .
rm -rf "$out/layout"
echo "build-image: $out/tributary-image.tar (tributary:$version, layer $(( layer_size / 1048576 )) MiB compressed," \
  "sha256:${manifest:0:12}); unpacked in $out/rootfs"
