#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_man.sh: the man pages are clean mdoc and complete.  mandoc -Tlint -Wwarning must print
# nothing for man/beamtel.1 and man/beamtel.conf.5; beamtel.1 must name every option of the
# option table as --name (and in the subsection of every subcommand it belongs to), every
# BEAMTEL_<KEY> variable, every subcommand and every exit status of enum bt_exit;
# beamtel.conf.5 must describe every configuration key.  The option table is read through the
# optdump helper, which is built from src/config/options.c.
#
#   tests/man/test_man.sh OPTDUMP SRCDIR
set -uo pipefail

optdump=${1:?usage: test_man.sh OPTDUMP SRCDIR}
src=${2:?usage: test_man.sh OPTDUMP SRCDIR}
page1=$src/man/beamtel.1
page5=$src/man/beamtel.conf.5
failures=0
checks=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { checks=$((checks + 1)); }

command -v mandoc >/dev/null || { echo "FAIL: mandoc is not installed (scripts/deps.sh)"; exit 1; }

# 1. lint: nothing at level warning or above.
for page in "$page1" "$page5"; do
    out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
    if [[ $? -ne 0 || -n $out ]]; then
        fail "mandoc -Tlint -Wwarning $page:"
        printf '%s\n' "$out"
    else
        pass
    fi
done

text1=$(mandoc -Tascii "$page1" | col -bx)
text5=$(mandoc -Tascii "$page5" | col -bx)

# The mdoc source of one subsection: from ".Ss NAME" to the next .Ss or .Sh.  (Results are
# kept in variables: `grep -q` at the end of a pipe would fail it under pipefail.)
subsection() {
    awk -v name="$2" '
        $0 == ".Ss " name { on = 1; next }
        on && /^\.S[sh] / { exit }
        on { print }' "$1"
}

# 2. every option appears as --name in the rendered beamtel.1.
while read -r name; do
    if grep -Eq -- "--${name}([^a-z-]|\$)" <<<"$text1"; then pass; else fail "beamtel.1 does not mention --$name"; fi
done < <("$optdump" names)

# 3. every subcommand has its subsection, which names each of its own options.
common="help config verbose log-level"
declare -A sub
while read -r cmd; do
    if grep -qx ".Ss $cmd" "$page1"; then pass; else fail "beamtel.1 has no subsection \"$cmd\""; fi
    sub[$cmd]=$(subsection "$page1" "$cmd")
done < <("$optdump" commands)
while IFS=$'\t' read -r name short type def kind cmds; do
    [[ " $common " == *" $name "* ]] && continue
    for cmd in $cmds; do
        if grep -Eq -- "Fl -${name}( |\$)" <<<"${sub[$cmd]}"; then
            pass
        else
            fail "beamtel.1: the subsection \"$cmd\" does not list --$name"
        fi
        if [[ $short != - ]]; then
            if grep -Eq -- "^\.It Fl $short , Fl -${name}( |\$)" <<<"${sub[$cmd]}"; then
                pass
            else
                fail "beamtel.1: the subsection \"$cmd\" does not give -$short for --$name"
            fi
        fi
    done
done < <("$optdump" table)

# 4. every config key: BEAMTEL_<KEY> in beamtel.1, an entry in beamtel.conf.5.
while read -r env; do
    if grep -q -- "$env" <<<"$text1"; then pass; else fail "beamtel.1 does not mention $env"; fi
    if grep -q -- "$env" <<<"$text5"; then pass; else fail "beamtel.conf.5 does not mention $env"; fi
done < <("$optdump" env)
while read -r key; do
    if grep -Eq "^\.It Ic ${key} No = " "$page5"; then pass; else fail "beamtel.conf.5 has no entry for the key $key"; fi
done < <("$optdump" keys)
# ... and no command-line-only option is presented as a key.
while read -r name; do
    if grep -Eq "^\.It Ic ${name} No = " "$page5"; then
        fail "beamtel.conf.5 lists $name, which is command line only"
    else
        pass
    fi
done < <("$optdump" cli)

# 5. EXIT STATUS lists every value of enum bt_exit, and nothing else.
codes=$(sed -n '/^enum bt_exit {/,/^};/p' "$src/src/common/common.h" |
    sed -n 's/^ *BT_EXIT_[A-Z_]* = \([0-9][0-9]*\),.*/\1/p')
listed=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$page1" | sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p')
if [[ -n $codes && "$codes" == "$listed" ]]; then
    pass
else
    fail "EXIT STATUS lists [$(echo $listed)], enum bt_exit has [$(echo $codes)]"
fi

# 6. the sections that STYLE.md §17 asks for.
for sh in ENVIRONMENT FILES "EXIT STATUS" EXAMPLES; do
    if grep -qx ".Sh $sh" "$page1"; then pass; else fail "beamtel.1 has no $sh section"; fi
done
# ... and the tui keys.
for re in 'q' 'u' 'p' '\\&\?'; do
    if grep -Eq "^\.It Ic ${re}( |\$)" <<<"${sub[tui]}"; then
        pass
    else
        fail "beamtel.1: the tui key matching /$re/ is not described"
    fi
done

echo "$checks passed, $failures failed"
[[ $failures -eq 0 ]]
