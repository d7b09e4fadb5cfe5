#!/bin/sh
# SPDX-License-Identifier: MIT
# make-cert.sh: makes a self-signed TLS certificate for the nginx example (compose profile
# `proxy`): DIR/beamtel.crt and DIR/beamtel.key (mode 0600), valid for NAME, localhost and
# 127.0.0.1 (plus any further names or addresses given).  An example only: use a certificate
# from your CA (or ACME) for anything others reach.  Keeps existing files unless --force.
#
#   packaging/nginx/make-cert.sh [--force] [--dir DIR] [NAME [NAME|IP]...]
#   (defaults: DIR packaging/nginx/certs, NAME this machine's host name)
set -eu

dir=$(dirname "$0")/certs
force=0
while [ $# -gt 0 ]; do
    case $1 in
    --force) force=1; shift ;;
    --dir) dir=$2; shift 2 ;;
    -h | --help) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-cert.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || set -- "$(hostname -f 2>/dev/null || hostname)"
cn=$1

if [ -s "$dir/beamtel.crt" ] && [ -s "$dir/beamtel.key" ] && [ $force -eq 0 ]; then
    echo "make-cert.sh: $dir/beamtel.crt exists (use --force to replace it)"
    exit 0
fi
command -v openssl >/dev/null 2>&1 || { echo "make-cert.sh: openssl is needed" >&2; exit 1; }

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for n in "$@"; do
    case $n in
    *[!0-9.]* | "") case $n in *:*) san="$san,IP:$n" ;; *) san="$san,DNS:$n" ;; esac ;;
    *) san="$san,IP:$n" ;;
    esac
done

mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 825 \
    -subj "/CN=$cn" -addext "subjectAltName=$san" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$dir/beamtel.key" -out "$dir/beamtel.crt" 2>/dev/null
chmod 600 "$dir/beamtel.key"
chmod 644 "$dir/beamtel.crt"
echo "make-cert.sh: wrote $dir/beamtel.crt and $dir/beamtel.key for $san (CN=$cn)"
echo "make-cert.sh: clients trust it after: cp $dir/beamtel.crt /usr/local/share/ca-certificates/beamtel.crt && update-ca-certificates"
