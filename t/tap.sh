# TAP for the shell tests, sourced from the source tree, where make check
# (and make distcheck's VPATH build) points CUBIE_SRCDIR:
#   src=${CUBIE_SRCDIR:-.}
#   . "$src/t/tap.sh"
# Each helper below is one test: it counts in n, and a failure sets failed
# and shows what explains it as "# " lines. check runs a command with its
# output in $tmp/out and $tmp/err (make $tmp before the first check).
# done_testing prints the plan and exits, failing when any test failed.
n=0 failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# files..., as TAP comments: the last 20 lines
show() { sed 's/^/# /' "$@" | tail -n 20; }
check() { # description, expected exit status, command...
	desc=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" = "$want" ]; then pass "$desc"
	else fail "$desc (exit $got, want $want)"; show "$tmp/out" "$tmp/err"; fi
}
has() { # description, pattern (grep), file
	if grep -q -- "$2" "$3"; then pass "$1"
	else fail "$1"; echo "# expected '$2' in:"; show "$3"; fi
}
hasnt() { # description, pattern (grep), file
	if ! grep -q -- "$2" "$3"; then pass "$1"
	else fail "$1"; echo "# did not expect '$2' in:"; show "$3"; fi
}
same() { # description, file, file: the same bytes
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1"; fi
}
done_testing() { echo "1..$n"; exit $failed; }
