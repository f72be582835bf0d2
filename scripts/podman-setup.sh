#!/usr/bin/env bash
# Makes sure a container engine answers on a unix socket and that the local images the
# kubelet and the tests use exist, with no registry. Run before `npm test` and `npm run up`.
# Idempotent: when the engine answers and the images exist it only checks and returns.
# On Debian/Ubuntu as root it installs and starts Podman (see /work/shared/ENVIRONMENT.md);
# elsewhere it says what to install and fails.
set -euo pipefail

PODMAN_SOCK=/run/podman/podman.sock
CONF=/etc/containers/containers.conf
BUSYBOX_IMAGE=localhost/busybox:latest
HINT="install podman, runc and busybox-static, then run: podman system service --time=0 unix://$PODMAN_SOCK &"

say() { echo "podman-setup: $*"; }
fail() { echo "podman-setup: $*" >&2; exit 1; }

ping_sock() { # $1 = socket path; true when the engine answers /_ping with OK
  [ -S "$1" ] && [ "$(curl -s -m 2 --unix-socket "$1" http://d/_ping 2>/dev/null)" = "OK" ]
}

candidates() {
  if [ -n "${DOCKER_HOST:-}" ] && [[ "$DOCKER_HOST" == unix://* ]]; then echo "${DOCKER_HOST#unix://}"; fi
  echo "$PODMAN_SOCK"
  if [ -n "${XDG_RUNTIME_DIR:-}" ]; then echo "$XDG_RUNTIME_DIR/podman/podman.sock"; fi
  echo /var/run/docker.sock
}

find_sock() {
  local s
  while read -r s; do if ping_sock "$s"; then echo "$s"; return 0; fi; done < <(candidates)
  return 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() { # installs the packages given that are not installed yet
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  can_apt || fail "missing ${missing[*]}: $HINT"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "${missing[@]}" >/tmp/podman-setup-apt.log 2>&1; then
    say "apt-get install failed; running apt-get update and retrying"
    apt-get update -q >>/tmp/podman-setup-apt.log 2>&1 || true
    apt-get install -y -q "${missing[@]}" >>/tmp/podman-setup-apt.log 2>&1 \
      || fail "apt-get install ${missing[*]} failed (see /tmp/podman-setup-apt.log)"
  fi
}

# crun fails on these machines and the default ulimits exceed the hard limits: use runc,
# and keep ulimits low. Adds only what is missing, leaving other settings alone.
configure_containers_conf() {
  mkdir -p "$(dirname "$CONF")"
  if [ ! -f "$CONF" ]; then
    cat >"$CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
[engine]
runtime = "runc"
EOF
    say "wrote $CONF"
    return
  fi
  local changed=
  if ! grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=' "$CONF"; then
    if grep -Eq '^\[containers\]' "$CONF"; then
      sed -i '/^\[containers\]/a default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]' "$CONF"
    else
      printf '\n[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]\n' >>"$CONF"
    fi
    changed=1
  fi
  if ! grep -Eq '^[[:space:]]*runtime[[:space:]]*=' "$CONF"; then
    if grep -Eq '^\[engine\]' "$CONF"; then
      sed -i '/^\[engine\]/a runtime = "runc"' "$CONF"
    else
      printf '\n[engine]\nruntime = "runc"\n' >>"$CONF"
    fi
    changed=1
  fi
  if [ -n "$changed" ]; then say "added runc and ulimit settings to $CONF"; fi
  if ! grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONF"; then
    say "note: $CONF sets another OCI runtime; crun fails on these machines, runc works (left as is)"
  fi
}

start_podman_service() {
  mkdir -p "$(dirname "$PODMAN_SOCK")"
  rm -f "$PODMAN_SOCK" # a stale socket left by a dead service
  say "starting podman system service on $PODMAN_SOCK (log /tmp/podman-service.log)"
  # From /: conmon inherits the service's working directory, and every container start fails
  # ("Failed to get working directory") once a directory the service was started from is gone.
  (cd / && exec nohup setsid podman system service --time=0 "unix://$PODMAN_SOCK" >/tmp/podman-service.log 2>&1 </dev/null) &
  local deadline=$((SECONDS + 20))
  until ping_sock "$PODMAN_SOCK"; do
    [ $SECONDS -lt $deadline ] || fail "podman did not answer on $PODMAN_SOCK within 20 s (see /tmp/podman-service.log)"
    sleep 0.2
  done
}

# A root filesystem holding busybox and a symlink per applet, imported as an image.
provision_busybox() { # $1 = socket
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$1" "http://d/v1.41/images/$BUSYBOX_IMAGE/json")
  [ "$code" = 200 ] && return 0
  [ -x /bin/busybox ] || fail "/bin/busybox missing: install busybox-static"
  local dir
  dir=$(mktemp -d /tmp/podman-setup-rootfs.XXXXXX)
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/proc" "$dir/rootfs/sys" \
    "$dir/rootfs/dev" "$dir/rootfs/root" "$dir/rootfs/var/www"
  chmod 1777 "$dir/rootfs/tmp"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/rootfs/etc/group"
  tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
  local out
  out=$(curl -s -X POST --unix-socket "$1" -H 'Content-Type: application/x-tar' --data-binary "@$dir/rootfs.tar" \
    "http://d/v1.41/images/create?fromSrc=-&repo=$BUSYBOX_IMAGE")
  rm -rf "$dir"
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$1" "http://d/v1.41/images/$BUSYBOX_IMAGE/json")
  [ "$code" = 200 ] || fail "importing $BUSYBOX_IMAGE failed: $out"
  say "imported $BUSYBOX_IMAGE"
}

main() {
  command -v curl >/dev/null 2>&1 || { can_apt && apt_install curl; } || fail "curl is needed"
  local sock
  if sock=$(find_sock); then
    # The images are built from busybox-static's /bin/busybox.
    if command -v dpkg-query >/dev/null 2>&1; then apt_install busybox-static
    elif [ ! -x /bin/busybox ]; then fail "/bin/busybox missing: install a static busybox"; fi
  else
    if ! can_apt; then fail "no container engine answers (tried: $(candidates | paste -sd ' ')); $HINT"; fi
    apt_install podman runc busybox-static
    configure_containers_conf
    start_podman_service
    sock=$PODMAN_SOCK
  fi
  # As root, the service proxy DNATs in the kernel through nft (kube-proxy's nftables mode).
  if can_apt && ! command -v nft >/dev/null 2>&1; then apt_install nftables; fi
  # The official Python client, for the client compatibility tests (run with /usr/bin/python3).
  if can_apt && ! /usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1; then apt_install python3-kubernetes; fi
  # etcd (Debian's etcd-server), for the etcd store backend's contract and cluster tests.
  if can_apt && ! command -v etcd >/dev/null 2>&1; then apt_install etcd-server; fi
  # A headless browser for the dashboard's tests (driven by playwright-core, which cannot download one).
  if can_apt && ! command -v chromium >/dev/null 2>&1; then apt_install chromium; fi
  # A real Prometheus scrapes a cluster in the metrics test (test/e2e/prometheus.test.ts).
  if can_apt && ! command -v prometheus >/dev/null 2>&1; then apt_install prometheus; fi
  provision_busybox "$sock"
  say "engine ready on $sock"
}

main "$@"
