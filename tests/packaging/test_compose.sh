#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_compose.sh: the container deployment, as far as it can be checked without a Docker
# engine.  compose.yaml validates with `docker-compose config` (with and without the proxy
# profile) and holds no password; its `serve` command line is one that beamtel accepts; every
# path the Dockerfile copies exists; the entrypoint turns the password secret into a private
# pgpass file; make-secrets.sh and make-cert.sh make what compose mounts; nginx accepts the
# proxy configuration (when nginx is installed).
#
#   tests/packaging/test_compose.sh SOURCE_DIR BEAMTEL_BINARY
set -uo pipefail

src=${1:?usage: test_compose.sh SOURCE_DIR BEAMTEL_BINARY}
bin=${2:?}
failures=0
checks=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { checks=$((checks + 1)); }
check() {
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}

if command -v docker-compose >/dev/null; then
    compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    echo "SKIP: neither docker-compose nor docker compose is installed"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"

# ---- compose.yaml ----
if "${compose[@]}" -f compose.yaml config >"$tmp/config.yaml" 2>"$tmp/config.err"; then
    pass
else
    fail "${compose[*]} config:"
    cat "$tmp/config.err"
fi
check "compose config printed no warning: $(cat "$tmp/config.err")" test ! -s "$tmp/config.err"
services=$("${compose[@]}" -f compose.yaml --profile proxy config --services 2>/dev/null | sort | tr '\n' ' ')
check "the services are beamtel, db and proxy (got $services)" test "$services" = "beamtel db proxy "
check "compose config --profile proxy validates" "${compose[@]}" -f compose.yaml --profile proxy config -q

# No secret values: only *_FILE variables and secret files.
for bad in 'POSTGRES_PASSWORD:' 'PGPASSWORD' 'BEAMTEL_ADMIN_PASSWORD:' 'BEAMTEL_JWT_SECRET:' 'password='; do
    check "compose.yaml holds no $bad" bash -c "! grep -qi -- '$bad' compose.yaml '$tmp/config.yaml'"
done

# The rendered configuration, read with the YAML module that docker-compose itself uses.
python3 - "$tmp/config.yaml" >"$tmp/facts" <<'PY' || fail "cannot read the rendered compose configuration"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
def out(k, v): print(f"{k}\t{v}")
out("command", "\x1f".join(s["beamtel"]["command"]))
out("db_image", s["db"]["image"])
out("db_health", " ".join(s["db"]["healthcheck"]["test"]))
out("db_volume", " ".join(str(v.get("source", v)) if isinstance(v, dict) else v for v in s["db"]["volumes"]))
out("db_ports", len(s["db"].get("ports", [])))
out("depends", s["beamtel"]["depends_on"]["db"]["condition"])
out("ports", " ".join(f'{p["published"]}/{p.get("protocol", "tcp")}' for p in s["beamtel"]["ports"]))
out("secrets", " ".join(sorted(x if isinstance(x, str) else x["source"] for x in s["beamtel"]["secrets"])))
out("env", " ".join(sorted(s["beamtel"]["environment"])))
out("volumes", " ".join(sorted(c.get("volumes", {}))))
out("readonly", s["beamtel"].get("read_only"))
# docker-compose 1.x lists every service in `config`; the profile says which start by default.
out("profiles", " ".join(f'{n}:{",".join(v.get("profiles", [])) or "-"}' for n, v in sorted(s.items())))
PY
fact() { sed -n "s/^$1\t//p" "$tmp/facts"; }
check "db is PostgreSQL 15 (got $(fact db_image))" grep -q '^postgres:15' <<<"$(fact db_image)"
check "db has a pg_isready healthcheck" grep -q pg_isready <<<"$(fact db_health)"
check "db keeps its data in the named volume pgdata" grep -q pgdata <<<"$(fact db_volume)"
check "db is not published" test "$(fact db_ports)" = 0
check "beamtel waits for a healthy db" test "$(fact depends)" = service_healthy
check "UDP 4444 and HTTP 8080 are published (got $(fact ports))" test "$(fact ports)" = "4444/udp 8080/tcp"
check "beamtel gets the three secrets" test "$(fact secrets)" = "admin_password db_password jwt_secret"
check "named volumes pgdata and state" test "$(fact volumes)" = "pgdata state"
check "beamtel runs on a read-only root" test "$(fact readonly)" = True
check "only proxy is in a profile, proxy (got $(fact profiles))" test "$(fact profiles)" = "beamtel:- db:- proxy:proxy"
IFS=$'\x1f' read -r -a cmd <<<"$(fact command)"
want=(serve --db --web-root /usr/share/beamtel/web --http 0.0.0.0:8080 --udp 0.0.0.0:4444
    --admin-password-file /run/secrets/admin_password --jwt-secret-file /run/secrets/jwt_secret)
for w in "${want[@]}"; do
    check "the beamtel command has $w" grep -qxF -- "$w" < <(printf '%s\n' "${cmd[@]}")
done
# beamtel parses that command line (every option and value valid for serve).
out=$(HOME=$tmp XDG_CONFIG_HOME=$tmp "$bin" "${cmd[@]}" --help 2>&1)
check "beamtel accepts the compose command line: $out" grep -q '^usage: beamtel serve' <<<"$out"

# ---- Dockerfile ----
df=packaging/docker/Dockerfile
check "the Dockerfile builds the web with node:20" grep -Eq '^FROM node:20[^ ]* AS web' "$df"
check "the Dockerfile builds on Debian 12" grep -Eq '^FROM debian:bookworm AS build' "$df"
check "the runtime is debian:bookworm-slim" grep -Eq '^FROM debian:bookworm-slim$' "$df"
check "the runtime runs as beamtel" grep -qx 'USER beamtel' "$df"
while read -r path; do
    check "the Dockerfile copies $path, which exists" test -e "$path"
done < <(awk '$1 == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) print $i }' "$df")

# ---- entrypoint: the database password becomes a private pgpass file ----
printf '%s\n' 'pa:ss\word' >"$tmp/db_password"
chmod 644 "$tmp/db_password"
cat >"$tmp/fake-beamtel" <<'SH'
#!/bin/sh
printf 'args=%s\n' "$*"
printf 'pgpassfile=%s\n' "$PGPASSFILE"
printf 'mode=%s\n' "$(stat -c %a "$PGPASSFILE")"
printf 'line=%s\n' "$(cat "$PGPASSFILE")"
env | grep -c 'pa:ss' | sed 's/^/env_hits=/'
SH
chmod +x "$tmp/fake-beamtel"
out=$(env -i PATH="$PATH" TMPDIR="$tmp" DB_PASSWORD_FILE="$tmp/db_password" BEAMTEL_BIN="$tmp/fake-beamtel" \
    sh packaging/docker/entrypoint.sh serve --db x 2>&1)
check "entrypoint passes the arguments: $out" grep -qx 'args=serve --db x' <<<"$out"
check "PGPASSFILE is mode 600: $out" grep -qx 'mode=600' <<<"$out"
check "pgpass escapes : and \\: $out" grep -qxF 'line=*:*:*:*:pa\:ss\\word' <<<"$out"
check "the password is not in the environment" grep -qx 'env_hits=0' <<<"$out"
out=$(env -i PATH="$PATH" DB_PASSWORD_FILE="$tmp/none" BEAMTEL_BIN=/bin/true sh packaging/docker/entrypoint.sh serve 2>&1)
check "a missing DB_PASSWORD_FILE is an error" test $? -ne 0

# ---- make-secrets.sh ----
sh packaging/docker/make-secrets.sh "$tmp/secrets" >/dev/null
check "secrets directory is 0700" test "$(stat -c %a "$tmp/secrets")" = 700
for f in db_password admin_password jwt_secret; do
    check "secret $f exists, 0644" test "$(stat -c %a "$tmp/secrets/$f" 2>/dev/null)" = 644
done
check "jwt_secret has at least 32 bytes" test "$(stat -c %s "$tmp/secrets/jwt_secret")" -ge 32
check "admin_password has at least 8 characters" test "$(stat -c %s "$tmp/secrets/admin_password")" -ge 8
check "db_password has no : or \\" bash -c "! grep -q '[:\\\\]' '$tmp/secrets/db_password'"
before=$(cat "$tmp/secrets/jwt_secret")
sh packaging/docker/make-secrets.sh "$tmp/secrets" >/dev/null
check "make-secrets.sh keeps existing secrets" test "$before" = "$(cat "$tmp/secrets/jwt_secret")"

# ---- TLS example: certificate and nginx configuration ----
if command -v openssl >/dev/null; then
    sh packaging/nginx/make-cert.sh --dir "$tmp/certs" beamtel.test >/dev/null
    check "make-cert.sh wrote a key with mode 600" test "$(stat -c %a "$tmp/certs/beamtel.key")" = 600
    san=$(openssl x509 -in "$tmp/certs/beamtel.crt" -noout -ext subjectAltName 2>/dev/null)
    check "the certificate names beamtel.test and localhost: $san" grep -q 'DNS:localhost, IP Address:127.0.0.1.*DNS:beamtel.test' <<<"$san"
fi
conf=packaging/nginx/beamtel.conf
check "nginx passes Upgrade on /ws" grep -q 'proxy_set_header Upgrade \$http_upgrade;' "$conf"
check "nginx passes Connection upgrade on /ws" grep -q 'proxy_set_header Connection \$connection_upgrade;' "$conf"
check "nginx uses HTTP/1.1 upstream" grep -q 'proxy_http_version 1.1;' "$conf"
if command -v nginx >/dev/null && [[ -f $tmp/certs/beamtel.crt ]]; then
    sed -e "s|/etc/nginx/certs|$tmp/certs|" -e 's/server beamtel:8080/server 127.0.0.1:8080/' \
        "$conf" >"$tmp/site.conf"
    cat >"$tmp/nginx.conf" <<NGX
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http { include /etc/nginx/mime.types; access_log off; include $tmp/site.conf; }
NGX
    out=$(nginx -t -q -c "$tmp/nginx.conf" 2>&1)
    check "nginx -t accepts packaging/nginx/beamtel.conf: $out" test -z "$out"
else
    echo "note: nginx is not installed: the proxy configuration was checked by grep only"
fi

echo "$checks passed, $failures failed"
[[ $failures -eq 0 ]]
