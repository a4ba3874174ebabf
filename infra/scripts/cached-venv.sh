#!/usr/bin/env bash
# cached-venv.sh DEST REQUIREMENTS [POST-SCRIPT]
#
# Makes DEST a Python venv with REQUIREMENTS installed (then POST-SCRIPT run
# by its python, if given), copied from a cache outside the clone: building
# one downloads and installs hundreds of MB (about 5 minutes for
# LocalStack's), while a copy takes seconds. The cache lives in
# $GUESTACCESS_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/guestaccess), one
# venv per hash of the requirements, the post-script and the Python version,
# so a change of any of them builds a new one. Set GUESTACCESS_CACHE=off to
# build in place, as before.
#
# A venv's bin/python finds its packages next to itself (pyvenv.cfg), so a
# copy run as DEST/bin/python is a venv of its own; the console scripts in
# DEST/bin keep the cache's path in their first line and so run the cache's
# identical copy.
set -euo pipefail
dest=$1 req=$2 post=${3:-}

build() { # build DIR
  python3 -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  if [ -n "$post" ]; then "$1/bin/python" "$post"; fi
}

cache=${GUESTACCESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestaccess}
if [ "$cache" = off ]; then
  rm -rf "$dest"; build "$dest"; exit 0
fi
key=$( { python3 --version; cat "$req"; [ -z "$post" ] || cat "$post"; } | sha256sum | cut -c1-16)
cached="$cache/venv-$(basename "$dest")-$key"
mkdir -p "$cache"
# One builder at a time; a venv names its own path in its scripts, so it is
# built where it stays, and marked complete last.
exec 9>"$cached.lock"
flock 9
if [ ! -f "$cached/.complete" ]; then
  echo "== building $cached (once per requirements change; later clones copy it)"
  rm -rf "$cached"
  build "$cached"
  touch "$cached/.complete"
fi
flock -u 9
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -a "$cached" "$dest"
