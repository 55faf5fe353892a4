#!/usr/bin/env bash
# Regenerates the committed PTX of the CUDA backend from src/main/cuda/tributary_kernels.cu and
# records the source's sha256 next to it; PtxSourceInSyncTest fails when the two drift apart.
# The PTX is committed so that machines without nvcc still build; run this after every .cu edit.
#
# compute_80 PTX is JIT-compiled by the driver for sm_80 and newer (A100, H100, ...). PTX from
# nvcc 13 declares ISA 9.0, which needs a driver of the CUDA 13 generation (r580 or newer); an
# older driver reports CUDA_ERROR_UNSUPPORTED_PTX_VERSION, and CudaBackend.open says so.
set -euo pipefail

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_file="$module_dir/src/main/cuda/tributary_kernels.cu"
out_dir="$module_dir/src/main/resources/io/tributary/kernels/cuda"
ptx_file="$out_dir/tributary_kernels.ptx"
sha_file="$out_dir/tributary_kernels.cu.sha256"
nvcc_bin="${NVCC:-nvcc}"

if ! command -v "$nvcc_bin" >/dev/null 2>&1; then
    echo "build-ptx.sh: nvcc not found (set NVCC=/path/to/nvcc or put the CUDA toolkit's bin on PATH)" >&2
    exit 1
fi

mkdir -p "$out_dir"
tmp_ptx="$(mktemp "${TMPDIR:-/tmp}/tributary_kernels.XXXXXX.ptx")"
trap 'rm -f "$tmp_ptx"' EXIT

# -lineinfo is left out on purpose: it embeds absolute source paths into the committed PTX.
"$nvcc_bin" -ptx -arch=compute_80 -O3 -std=c++17 -o "$tmp_ptx" "$source_file"
chmod 644 "$tmp_ptx"
mv "$tmp_ptx" "$ptx_file"
trap - EXIT

# Assemble once for the Hopper target as a check that the driver's JIT will accept the PTX.
ptxas_bin="$(dirname "$(command -v "$nvcc_bin")")/ptxas"
if [ -x "$ptxas_bin" ]; then
    "$ptxas_bin" -arch=sm_90 "$ptx_file" -o /dev/null
fi

# Only the hash itself, so the file does not depend on where the checkout lives.
sha256sum "$source_file" | cut -d' ' -f1 > "$sha_file"

echo "build-ptx.sh: wrote $(basename "$ptx_file") ($(grep -c '\.entry' "$ptx_file") kernels, $(grep -m1 '^\.version' "$ptx_file")) and $(basename "$sha_file")"
