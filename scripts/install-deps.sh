#!/usr/bin/env bash
# Installs the C libraries ZFlow links (libzmq, msgpack-c) when they are missing. Debian/Ubuntu; needs root.
set -euo pipefail
if pkg-config --exists libzmq msgpack 2>/dev/null && [ -f /usr/include/zmq.h ] && [ -f /usr/include/msgpack.h ]; then
  exit 0
fi
echo "zflow: installing libzmq3-dev libmsgpack-dev (and pkg-config)" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libzmq3-dev libmsgpack-dev pkg-config >/dev/null
