#!/bin/sh
# SPDX-License-Identifier: MIT
# make-secrets.sh: creates the three secrets that compose.yaml mounts, each a random string in
# its own file under packaging/docker/secrets/: db_password (PostgreSQL's and beamtel's),
# admin_password (the seeded user's login), jwt_secret (≥ 32 bytes, signs login tokens).
# Existing files are kept.  The directory is 0700, so other users of this machine cannot reach
# the files; the files are 0644 so that the containers' unprivileged users can read them
# (compose mounts file secrets with the host's permissions).
#
#   packaging/docker/make-secrets.sh [DIR]
set -eu

dir=${1:-$(dirname "$0")/secrets}
mkdir -p "$dir"
chmod 700 "$dir"

new_secret() {
    # $1 file, $2 random bytes; base64url without padding: no ':' or '\' for pgpass, no newline.
    if [ -s "$dir/$1" ]; then
        echo "make-secrets.sh: keeping $dir/$1"
        return
    fi
    (umask 022 && head -c "$2" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$dir/$1")
    chmod 644 "$dir/$1"
    echo "make-secrets.sh: wrote $dir/$1"
}

new_secret db_password 24
new_secret admin_password 18
new_secret jwt_secret 48
echo "make-secrets.sh: the web and tui login is user 'local' with the password in $dir/admin_password"
