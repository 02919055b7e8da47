#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the source that the node-llama-cpp devDependency ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle), for the real-engine tests (test/engine).
# Nothing is downloaded: the bundle is the whole source, and the web UI, OpenSSL, tests and examples are off.
#
# Cache: ${PD_BENCH_CACHE:-$HOME/.cache/pd-bench}/llama.cpp-<bundle commit>/
#   src/                        the cloned source
#   bin-<cpu>/llama-server      the binary; <cpu> hashes the CPU's flags, because GGML_NATIVE builds for this CPU
# A second run finds the binary and only prints its path. The build goes into a temporary directory that is
# renamed into place when complete, under a lock, so a half-finished or concurrent earlier run does no harm.
#
# Usage: scripts/build-llama-server.sh      (prints the binary's path as the last line of stdout)
# Env:   PD_BENCH_CACHE (cache root), LLAMA_BUNDLE (another bundle), BUILD_JOBS (default 2)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="${LLAMA_BUNDLE:-$root/node_modules/node-llama-cpp/llama/gitRelease.bundle}"
cache="${PD_BENCH_CACHE:-$HOME/.cache/pd-bench}"
jobs="${BUILD_JOBS:-2}"

log() { echo "build-llama-server: $*" >&2; }

# The toolchain comes from Debian when a machine lacks it (these machines have it; a bare image may not).
missing=()
for tool in cmake g++ git make flock; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian's packages"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo_cmd=(sudo)
  pkgs=()
  for t in "${missing[@]}"; do
    case "$t" in g++) pkgs+=(g++) ;; flock) pkgs+=(util-linux) ;; *) pkgs+=("$t") ;; esac
  done
  "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${pkgs[@]}" >&2 \
    || { log "could not install ${pkgs[*]}; install them and run again"; exit 1; }
fi

if [[ ! -f "$bundle" ]]; then
  log "no llama.cpp source bundle at $bundle (run npm install: the node-llama-cpp devDependency ships it)"
  exit 1
fi
commit="$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" { print $1; exit }')"
[[ -n "$commit" ]] || commit="$(git bundle list-heads "$bundle" | awk 'NR == 1 { print $1 }')"
if [[ ! "$commit" =~ ^[0-9a-f]{40}$ ]]; then
  log "cannot read the commit of $bundle"
  exit 1
fi

cpu="$( (grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m) | sha256sum | cut -c1-8)"
dir="$cache/llama.cpp-$commit"
bin="$dir/bin-$cpu/llama-server"

usable() { [[ -x "$bin" ]] && "$bin" --version >/dev/null 2>&1; }

if usable; then
  echo "$bin"
  exit 0
fi

mkdir -p "$dir"
# One builder at a time; a second caller waits here and then finds the binary.
exec 9>"$dir/.lock"
flock 9
if usable; then
  echo "$bin"
  exit 0
fi
# Under the lock, leftovers of an interrupted earlier run are garbage.
rm -rf "$dir"/*.tmp.* "$dir/bin-$cpu"

tmp_dirs=()
cleanup() { ((${#tmp_dirs[@]})) && rm -rf "${tmp_dirs[@]}"; return 0; }
trap cleanup EXIT

if [[ ! -d "$dir/src/.git" ]]; then
  log "cloning $bundle ($commit) into $dir/src"
  src_tmp="$dir/src.tmp.$$"
  tmp_dirs+=("$src_tmp")
  git clone --quiet --no-checkout "$bundle" "$src_tmp"
  git -C "$src_tmp" -c advice.detachedHead=false checkout --quiet "$commit"
  rm -rf "$dir/src"
  mv "$src_tmp" "$dir/src"
fi

build="$dir/build.tmp.$$"
tmp_dirs+=("$build")
buildlog="$dir/build.log"
log "building llama-server with $jobs jobs (about 10 minutes on 2 cores); log: $buildlog"
start=$(date +%s)
set +e
{
  cmake -S "$dir/src" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_LLGUIDANCE=OFF &&
    cmake --build "$build" --target llama-server -j "$jobs"
} >"$buildlog" 2>&1
rc=$?
set -e
if ((rc != 0)); then
  log "build failed (exit $rc); the end of $buildlog:"
  tail -n 40 "$buildlog" >&2
  exit "$rc"
fi
built="$build/bin/llama-server"
[[ -x "$built" ]] || { log "the build finished without $built"; exit 1; }
"$built" --version >/dev/null 2>&1 || { log "$built does not run"; exit 1; }

# Static libraries (BUILD_SHARED_LIBS=OFF): the binary stands alone, so it survives the build dir's removal.
bin_tmp="$dir/bin-$cpu.tmp.$$"
tmp_dirs+=("$bin_tmp")
mkdir -p "$bin_tmp"
cp "$built" "$bin_tmp/llama-server"
mv "$bin_tmp" "$dir/bin-$cpu"
end=$(date +%s)
log "built in $((end - start)) s"
echo "$bin"
