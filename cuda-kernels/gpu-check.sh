#!/usr/bin/env bash
# Packs a self-contained GPU check into cuda-kernels/target/gpu-check/ (git-ignored, < 64 MiB):
# a jlinked Java 17 runtime, the cuda-kernels jar, its test classes and runtime dependencies,
# the JUnit console launcher, the cuBLAS SGEMM probe, and run.sh. On a GPU machine with no Java,
# `gpu-check/run.sh` runs the CUDA backend's contract tests and writes a report into $OUT (or
# gpu-check/report).
set -euo pipefail

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$module_dir/.." && pwd)"
pack="$module_dir/target/gpu-check"
junit_console_version="${JUNIT_CONSOLE_VERSION:-1.14.4}" # JUnit Platform 1.14 = Jupiter 5.14
jvm_modules="java.base,java.logging,java.management,java.naming,java.xml,java.scripting,java.sql,jdk.unsupported,jdk.incubator.vector,jdk.crypto.ec"

say() { echo "gpu-check.sh: $*"; }

cd "$repo_dir"
say "building cuda-kernels (jar and test classes)"
mvn -B -q -pl cuda-kernels install -DskipTests

rm -rf "$pack"
mkdir -p "$pack/lib" "$pack/cuda"
cp "$module_dir"/target/cuda-kernels-*.jar "$pack/lib/"
cp -r "$module_dir/target/test-classes" "$pack/test-classes"

say "copying runtime and test dependencies"
mvn -B -q -pl cuda-kernels dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$pack/lib"
mvn -B -q -pl cuda-kernels dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version" \
    -DoutputDirectory="$pack/launcher" -Dmdep.stripVersion=true
# The standalone launcher already carries the JUnit Platform and Jupiter; duplicates confuse discovery.
rm -f "$pack"/lib/junit-* "$pack"/lib/opentest4j-* "$pack"/lib/apiguardian-*
# JCuda's NVPTX-compiler and NVRTC bindings are not used; dropping them keeps the pack small.
natives="$(ls "$pack"/lib/jcuda-natives-*.jar)"
zip -q -d "$natives" 'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' >/dev/null 2>&1 \
    || say "note: could not slim $natives (zip missing?); keeping it whole"

say "jlinking a Java runtime ($jvm_modules)"
jlink --add-modules "$jvm_modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$pack/jre"

cp "$module_dir/src/main/cuda/cublas_bench.cu" "$pack/cuda/"
if command -v nvcc >/dev/null 2>&1 \
        && nvcc -O2 -o "$pack/cuda/cublas_bench" "$module_dir/src/main/cuda/cublas_bench.cu" -lcublas \
            2>"$pack/cuda/build.log"; then
    say "compiled cuda/cublas_bench"
else
    say "cublas_bench not compiled here (no nvcc or no cuBLAS headers/libraries; see cuda/build.log):" \
        "run.sh compiles cuda/cublas_bench.cu on the GPU machine if it has nvcc and cuBLAS"
fi

cat > "$pack/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the CUDA backend checks on this machine and writes everything into $OUT (or ./report).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
report="${OUT:-$here/report}"
mkdir -p "$report"
exec > >(tee "$report/run.log") 2>&1

echo "== machine"
uname -a
nvidia-smi 2>&1 || echo "nvidia-smi not available"

# cuBLAS 12 for JCublas 12.6: add the first directory that has libcublas.so.12 to the library path.
cublas_dir=""
for dir in $(ldconfig -p 2>/dev/null | awk '/libcublas\.so\.12/ {print $NF}' | xargs -r -n1 dirname) \
        /usr/local/cuda/lib64 /usr/local/cuda-12*/lib64 /usr/local/cuda-12*/targets/x86_64-linux/lib \
        /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /usr/lib/python3*/site-packages/nvidia/cublas/lib \
        /opt/conda/lib /opt/conda/lib/python3*/site-packages/nvidia/cublas/lib; do
    if [ -e "$dir/libcublas.so.12" ]; then cublas_dir="$dir"; break; fi
done
if [ -n "$cublas_dir" ]; then
    echo "libcublas.so.12 found in $cublas_dir"
    export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
    echo "libcublas.so.12 not found: the CUDA contract tests will be skipped with that reason"
fi

echo "== cuBLAS SGEMM probe"
bench="$here/cuda/cublas_bench"
if [ ! -x "$bench" ] && command -v nvcc >/dev/null 2>&1; then
    bench="$report/cublas_bench"
    nvcc -O2 -o "$bench" "$here/cuda/cublas_bench.cu" -lcublas ${cublas_dir:+-L"$cublas_dir"} \
        || { echo "cublas_bench did not compile"; bench=""; }
fi
if [ -n "$bench" ] && [ -x "$bench" ]; then
    "$bench" 10 | tee "$report/cublas_bench.txt"
else
    echo "skipped: no prebuilt cublas_bench and no nvcc here"
fi

echo "== CUDA backend contract tests"
classpath="$here/test-classes"
for jar in "$here"/lib/*.jar; do classpath="$classpath:$jar"; done
"$here/jre/bin/java" --add-modules jdk.incubator.vector -Xss2m \
    -Dtributary.test.seed="${TRIBUTARY_TEST_SEED:-$(date +%s)}" \
    -jar "$here/launcher/junit-platform-console-standalone.jar" execute \
    --class-path "$classpath" \
    --select-class io.tributary.kernels.cuda.CudaBackendContractTest \
    --select-class io.tributary.kernels.cuda.CudaAvailabilityTest \
    --select-class io.tributary.kernels.cuda.PtxSourceInSyncTest \
    --details=tree --disable-banner --disable-ansi-colors --reports-dir "$report/junit"
status=$?
echo "== done: junit exit status $status; report in $report"
exit $status
RUN
chmod +x "$pack/run.sh"

size_mib=$(( $(du -sk "$pack" | cut -f1) / 1024 ))
say "packed $pack ($size_mib MiB); on the GPU machine run: gpu-check/run.sh"
if [ "$size_mib" -ge 64 ]; then
    say "WARNING: the pack is $size_mib MiB, over the 64 MiB limit" >&2
    exit 1
fi
