#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_deb.sh: builds the Debian package from a configured and built tree (cpack -G DEB), checks
# its control data (version, Depends from shlibs, conffiles, maintainer scripts), unpacks it
# into a throwaway root with dpkg -x, and runs the unpacked binary: `beamtel --version` must
# print exactly "beamtel VERSION", `beamtel --help` and every `beamtel CMD --help` must work,
# also with the packaged sample configuration (every value in it uncommented).  Checks that
# every file the package promises is there.
#
#   tests/packaging/test_deb.sh BUILD_DIR SOURCE_DIR VERSION
set -uo pipefail

build=${1:?usage: test_deb.sh BUILD_DIR SOURCE_DIR VERSION}
src=${2:?}
version=${3:?}
failures=0
checks=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { checks=$((checks + 1)); }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}

for tool in cpack dpkg-deb dpkg-shlibdeps file; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool is missing (dpkg-dev, file and cmake come from scripts/deps.sh)"
        exit 1
    fi
done
[[ -f $build/CPackConfig.cmake ]] || { echo "FAIL: $build has no CPackConfig.cmake (is cmake/install.cmake included?)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- build the package ----
if ! (cd "$build" && cpack -G DEB -B "$tmp/out" --config CPackConfig.cmake) >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log"
    echo "FAIL: cpack -G DEB"
    exit 1
fi
shopt -s nullglob
debs=("$tmp"/out/beamtel_"$version"_*.deb)
shopt -u nullglob
if [[ ${#debs[@]} -ne 1 ]]; then
    ls -l "$tmp/out"
    echo "FAIL: expected one beamtel_${version}_ARCH.deb"
    exit 1
fi
deb=${debs[0]}
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# ---- control data ----
field() { dpkg-deb --field "$deb" "$1"; }
check "Package is beamtel" test "$(field Package)" = beamtel
check "Version is $version (got $(field Version))" test "$(field Version)" = "$version"
check "Architecture is $(dpkg --print-architecture)" test "$(field Architecture)" = "$(dpkg --print-architecture)"
depends=$(field Depends)
echo "Depends: $depends"
for lib in libc6 libpq5 libmicrohttpd libwebsockets libsodium libjwt libcjson libncursesw6 libpcap passwd; do
    check "Depends names $lib" grep -q "$lib" <<<"$depends"
done
check "Depends has versions from shlibs" grep -Eq 'libc6 \(>= [0-9.]+\)' <<<"$depends"
mkdir -p "$tmp/control"
dpkg-deb --control "$deb" "$tmp/control"
check "conffiles lists /etc/beamtel/beamtel.conf" grep -qx /etc/beamtel/beamtel.conf "$tmp/control/conffiles"
for script in postinst prerm postrm; do
    check "$script is there and executable" test -x "$tmp/control/$script"
    check "$script is valid sh" sh -n "$tmp/control/$script"
done

# ---- unpack into a throwaway root ----
root=$tmp/root
dpkg -x "$deb" "$root"
bin=$root/usr/bin/beamtel
for f in usr/bin/beamtel usr/share/man/man1/beamtel.1.gz usr/share/man/man5/beamtel.conf.5.gz \
    lib/systemd/system/beamtel.service etc/beamtel/beamtel.conf usr/share/beamtel/schema.sql \
    usr/lib/sysusers.d/beamtel.conf usr/share/doc/beamtel/copyright \
    usr/share/doc/beamtel/examples/nginx-beamtel.conf; do
    check "the package has /$f" test -f "$root/$f"
done
check "/usr/bin/beamtel is executable" test -x "$bin"
check "the binary is stripped" grep -q ', stripped' <<<"$(file -L "$bin")"
check "schema.sql is the source's" cmp -s "$src/schema.sql" "$root/usr/share/beamtel/schema.sql"
check "the unit is the source's" cmp -s "$src/packaging/systemd/beamtel.service" "$root/lib/systemd/system/beamtel.service"
check "the sample configuration is the source's" cmp -s "$src/packaging/beamtel.conf" "$root/etc/beamtel/beamtel.conf"
check "the copyright file is the MIT licence" grep -q "MIT License" "$root/usr/share/doc/beamtel/copyright"
for page in man1/beamtel.1 man5/beamtel.conf.5; do
    lint=$(gzip -dc "$root/usr/share/man/$page.gz" | mandoc -Tlint -Wwarning 2>&1)
    check "the packaged $page lints clean: $lint" test -z "$lint"
done
missing=$(ldd "$bin" 2>&1 | grep 'not found')
check "every library of the binary resolves: $missing" test -z "$missing"

# The web app: the package carries web/dist when it was built before cpack ran.
if [[ -f $src/web/dist/index.html ]]; then
    check "the package has /usr/share/beamtel/web/index.html" test -f "$root/usr/share/beamtel/web/index.html"
    want=$(cd "$src/web/dist" && find . -type f | sort)
    got=$(cd "$root/usr/share/beamtel/web" 2>/dev/null && find . -type f | sort)
    check "/usr/share/beamtel/web holds exactly web/dist" test "$want" = "$got"
else
    echo "note: web/dist is not built, so the package has no web app (not checked)"
fi

# ---- run it ----
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_STATE_HOME=$tmp/home/.state
mkdir -p "$HOME"
out=$("$bin" --version 2>&1)
check "beamtel --version prints \"beamtel $version\" (got \"$out\")" test "$out" = "beamtel $version"
out=$("$bin" --help 2>&1)
rc=$?
check "beamtel --help exits 0 (got $rc)" test $rc -eq 0
for cmd in serve sessions import replay record simulate db user login stream tui; do
    check "beamtel --help lists $cmd" grep -Eq "^  $cmd " <<<"$out"
done
# Every value of the sample, uncommented, is valid for every command.
sed -E 's/^#([a-z][a-z-]*) = (.+)$/\1 = \2/' "$root/etc/beamtel/beamtel.conf" >"$tmp/all.conf"
for cmd in serve sessions import replay record simulate db user login stream tui; do
    out=$("$bin" "$cmd" --help -c "$root/etc/beamtel/beamtel.conf" 2>&1)
    check "beamtel $cmd --help -c the packaged sample: $out" grep -q "^usage: beamtel $cmd" <<<"$out"
    out=$("$bin" "$cmd" --help -c "$tmp/all.conf" 2>&1)
    check "beamtel $cmd --help -c the sample with every default set: $out" grep -q "^usage: beamtel $cmd" <<<"$out"
done

echo "$checks passed, $failures failed"
[[ $failures -eq 0 ]]
