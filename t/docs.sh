#!/bin/sh
# The man pages against the program, so that they cannot drift: every key
# the core accepts is in cubie.ini(5) with the default the core reports
# (through `cubie check`, which prints every schema key), and no other key;
# every plugin built here is named there; cubie(1) describes every command
# and option of `cubie --help` and every environment variable the core
# reads; the pages format without warnings. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
src=${CUBIE_SRCDIR:-.}
ini5=$src/doc/cubie.ini.5
man1=$src/doc/cubie.1
man7=$src/doc/cubie-plugin.7
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# Defaults as the core has them: no defaults file of this machine or user.
CUBIE_SYSTEM_DEFAULTS=
XDG_CONFIG_HOME=$tmp/no-config
export CUBIE_SYSTEM_DEFAULTS XDG_CONFIG_HOME

. "$src/t/tap.sh"

# A minimal model: the only key it sets is [model] states (required).
cat >"$tmp/m.ini" <<'INI'
[model]
states = x
[equations]
dx = -x
[initial]
x = 1
INI
if ! "$cubie" check "$tmp/m.ini" >"$tmp/check" 2>"$tmp/err"; then
	echo "Bail out! cubie check failed: $(cat "$tmp/err")"
	exit 1
fi

# Core keys: "section<TAB>key<TAB>value<TAB>set" (set: 1 when a file set it),
# from the settings block of `cubie check` (up to its first empty line).
awk '/^$/ { exit }
	match($0, /^\[[a-z_0-9]+\] [a-z_0-9]+ = /) {
		head = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
		sec = head; sub(/^\[/, "", sec); sub(/\].*/, "", sec)
		key = head; sub(/^\[[a-z_0-9]+\] /, "", key); sub(/ = $/, "", key)
		set = 0
		if ((i = index(rest, "    ; ")) > 0) { set = 1; rest = substr(rest, 1, i - 1) }
		print sec "\t" key "\t" rest "\t" set
	}' "$tmp/check" >"$tmp/core"

# Documented keys: "section<TAB>key<TAB>default", from the fixed form
#   .SS [section] / .TP / .B[I] "key = ..." / Default: \fBvalue\fR. (or none/empty)
awk '
	function unroff(s) {
		gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/\\&/, "", s)
		return s
	}
	/^\.SH/ { sec = ""; key = ""; next }
	/^\.SS \[[a-z_0-9]+\]/ { sec = $2; gsub(/[][]/, "", sec); key = ""; next }
	/^\.TP/ { tp = 1; next }
	tp && sec != "" && match($0, /^\.BI? "[a-z_0-9]+ = /) {
		key = substr($0, 1, RLENGTH); sub(/^\.BI? "/, "", key); sub(/ = $/, "", key)
		tp = 0; next
	}
	{ tp = 0 }
	key != "" && /^Default: / {
		d = $0; sub(/^Default: /, "", d); sub(/\.$/, "", d)
		if (d == "none") d = "(unset)"
		else if (d == "empty") d = ""
		else d = unroff(d)
		print sec "\t" key "\t" d
		key = ""
	}' "$ini5" >"$tmp/doc"

ncore=$(wc -l <"$tmp/core")
if [ "$ncore" -ge 20 ]; then pass "cubie check lists the core's keys ($ncore)"
else fail "cubie check lists the core's keys (only $ncore)"; sed 's/^/# /' "$tmp/check"; fi

# Each core key documented, with the same default.
missing= wrong=
while IFS='	' read -r sec key val set; do
	doc=$(awk -F'\t' -v s="$sec" -v k="$key" '$1 == s && $2 == k { print "=" $3; exit }' "$tmp/doc")
	if [ -z "$doc" ]; then
		missing="$missing [$sec] $key"
	elif [ "$set" = 0 ] && [ "$doc" != "=$val" ]; then
		wrong="$wrong [$sec] $key (core '$val', cubie.ini(5) '${doc#=}');"
	fi
done <"$tmp/core"
if [ -z "$missing" ]; then pass "every key the core accepts is in cubie.ini(5)"
else fail "every key the core accepts is in cubie.ini(5)"; echo "# missing:$missing"; fi
if [ -z "$wrong" ]; then pass "cubie.ini(5) gives the core's default for each"
else fail "cubie.ini(5) gives the core's default for each"; echo "# differ:$wrong"; fi

# No documented key that the core does not know.
extra=
while IFS='	' read -r sec key def; do
	grep -q "^$sec	$key	" "$tmp/core" || extra="$extra [$sec] $key"
done <"$tmp/doc"
if [ -z "$extra" ]; then pass "cubie.ini(5) documents no key the core lacks"
else fail "cubie.ini(5) documents no key the core lacks"; echo "# unknown to the core:$extra"; fi

# Every section of the core, fixed or free-form, has its .SS.
secs=$(cut -f1 "$tmp/core" | sort -u)
nosec=
for s in $secs constants equations initial parameters; do
	grep -q "^\.SS \[$s\]" "$ini5" || nosec="$nosec [$s]"
done
if [ -z "$nosec" ]; then pass "cubie.ini(5) has a subsection for every section"
else fail "cubie.ini(5) has a subsection for every section"; echo "# missing:$nosec"; fi

# Every plugin found (the build tree's) is named in cubie.ini(5).
if "$cubie" plugins >"$tmp/plugins" 2>"$tmp/err"; then
	unnamed=
	for name in $(awk '$1 == "integrator" || $1 == "allocator" || $1 == "writer" { print $2 }' "$tmp/plugins"); do
		grep -Eq "^\.BR? \.?$name( |$)|\\\\fB$name\\\\f" "$ini5" || unnamed="$unnamed $name"
	done
	if [ -z "$unnamed" ]; then pass "cubie.ini(5) names every plugin built here"
	else fail "cubie.ini(5) names every plugin built here"; echo "# not named:$unnamed"; fi
else
	fail "cubie plugins runs"; sed 's/^/# /' "$tmp/err"
fi

# cubie(1): each command and option that --help shows has its entry.
"$cubie" --help >"$tmp/help"
undoc=
for w in $(sed 's/^usage://' "$tmp/help" | awk '{ for (i = 2; i <= NF; i++) if ($(i - 1) == "cubie") print $i }') \
	$(grep -oE -- '-{1,2}[a-z]+' "$tmp/help" | sort -u); do
	roff=$(printf '%s' "$w" | sed 's/-/\\\\-/g')
	grep -Eq "^\.(B|BR|BI) \"?$roff( |\"|$)" "$man1" || undoc="$undoc $w"
done
if [ -z "$undoc" ]; then pass "cubie(1) describes every command and option of --help"
else fail "cubie(1) describes every command and option of --help"; echo "# missing:$undoc"; fi

# cubie(1): every environment variable the core reads.
if [ -d "$src/core" ]; then
	vars=$(cat "$src"/core/*.c | grep -o 'getenv("[A-Za-z_0-9]*")' | sed 's/getenv("//; s/")//' | sort -u)
	noenv=
	for v in $vars; do
		sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$man1" | grep -q "^\.B $v\$" || noenv="$noenv $v"
	done
	if [ -z "$noenv" ]; then pass "cubie(1) ENVIRONMENT lists every variable the core reads"
	else fail "cubie(1) ENVIRONMENT lists every variable the core reads"; echo "# missing:$noenv"; fi
else
	skip "no core sources"
fi

# Exit statuses 0 to 3.
st=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man1" | grep -c '^\.B [0-3]$')
if [ "$st" = 4 ]; then pass "cubie(1) lists exit statuses 0, 1, 2 and 3"
else fail "cubie(1) lists exit statuses 0, 1, 2 and 3 (found $st)"; fi

# cubie(1) states the configuration precedence, layer by layer.
prec=$(sed -n '/^\.SH CONFIGURATION/,/^\.SH /p' "$man1")
case $prec in
*"cubie/defaults.ini"*XDG_CONFIG_HOME*FILE.ini*"\\-s"*) pass "cubie(1) gives the precedence of the layers" ;;
*) fail "cubie(1) gives the precedence of the layers" ;;
esac

# The pages format without warnings.
if command -v groff >/dev/null 2>&1; then
	for page in "$man1" "$ini5" "$man7"; do
		if groff -man -ww -z "$page" >"$tmp/lint" 2>&1 && [ ! -s "$tmp/lint" ]; then
			pass "${page##*/} formats without warnings"
		else
			fail "${page##*/} formats without warnings"; sed 's/^/# /' "$tmp/lint"
		fi
	done
else
	for page in "$man1" "$ini5" "$man7"; do skip "no groff"; done
fi

done_testing
