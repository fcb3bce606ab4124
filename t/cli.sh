#!/bin/sh
# The cubie command: exit statuses and one-line messages. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
src=${CUBIE_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$src/t/tap.sh"

cat >"$tmp/m.ini" <<'INI'
[model]
states = x
parameters = k
[equations]
dx = -k * x
[initial]
x = 1
[parameters]
k = 1, 2, 3
[solve]
integrator = rk4
dt = 0.01
[device]
backend = cpu
INI

check "--version exits 0" 0 "$cubie" --version
has "--version prints the version" "^cubie [0-9]" "$tmp/out"
check "--help exits 0" 0 "$cubie" --help
has "--help shows usage" "usage: cubie run" "$tmp/out"
check "no command is a usage error" 2 "$cubie"
check "unknown command is a usage error" 2 "$cubie" frobnicate
has "... saying which" "^cubie: unknown command 'frobnicate'" "$tmp/err"
check "run without a file is a usage error" 2 "$cubie" run
check "unknown option is a usage error" 2 "$cubie" run "$tmp/m.ini" --bogus

check "run writes csv" 0 "$cubie" run "$tmp/m.ini" -o "$tmp/out.csv"
has "csv header" "^run,x_0,k,status,reached,t,x" "$tmp/out.csv"
has "csv has run 2 at t = 1 with x = exp(-3)" "^2,1,3,0,1,1,0.0497870" "$tmp/out.csv"
check "run writes npy" 0 "$cubie" run "$tmp/m.ini" -o "$tmp/out.npy" -q
if [ -f "$tmp/out.npy/values.npy" ] && [ -f "$tmp/out.npy/variables.txt" ]; then
	pass "npy directory holds values.npy and variables.txt"; else fail "npy directory"; fi
if [ ! -s "$tmp/err" ]; then pass "-q prints nothing"; else fail "-q printed"; fi

check "-s overrides a key" 0 "$cubie" run "$tmp/m.ini" -s solve.duration=2 -o "$tmp/two.csv"
has "... the end time moved to 2" "^0,1,1,0,2," "$tmp/two.csv"
check "-s with an unknown key exits 2" 2 "$cubie" run "$tmp/m.ini" -s solve.bogus=1 -o "$tmp/x.csv"
has "... one line naming the key" "^cubie: command line: unknown key 'bogus' in \[solve\]" "$tmp/err"

sed 's/dx = -k \* x/dx = -kk * x/' "$tmp/m.ini" >"$tmp/typo.ini"
check "unknown name exits 2" 2 "$cubie" run "$tmp/typo.ini" -o "$tmp/t.csv"
has "... file:line with a hint" "typo.ini:5: unknown name 'kk' in dx (did you mean 'k'?)" "$tmp/err"
if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then pass "the error is one line"; else fail "error is one line"; fi
if [ ! -e "$tmp/t.csv" ]; then pass "no output after an error"; else fail "output left behind"; fi

check "unknown integrator exits 2" 2 "$cubie" run "$tmp/m.ini" -s solve.integrator=nosuch -o "$tmp/x.csv"
has "... listing the searched directories" "no integrator plugin 'nosuch'.*searched" "$tmp/err"
check "unknown output format exits 2" 2 "$cubie" run "$tmp/m.ini" -o "$tmp/x.h6"
check "output into a missing directory exits 2, before the solve" 2 "$cubie" run "$tmp/m.ini" -o "$tmp/no/such/dir/x.csv"
has "... naming the path" "no/such/dir" "$tmp/err"

sed 's/^x = 1$/x = 2/; s/dx = -k \* x/dx = x^2/; s/^dt = 0.01$/dt = 0.001/' "$tmp/m.ini" >"$tmp/blow.ini"
check "a failed run exits 1, output still written" 1 "$cubie" run "$tmp/blow.ini" -o "$tmp/blow.csv"
if [ -s "$tmp/blow.csv" ]; then pass "... and the output holds every run"; else fail "output missing"; fi

check "check exits 0" 0 "$cubie" check "$tmp/m.ini"
has "check prints the plan" "bytes per run" "$tmp/out"
has "check prints where a value came from" "dt = 0.01 *; .*m.ini:12" "$tmp/out"
check "check of a sweep with a long list" 0 "$cubie" check "$tmp/m.ini" \
	-s "parameters.k=logspace(-1, 1, 300000)"
has "... counts its values off the budget" "budget .* - 2\.3 MiB for the sweep's values" "$tmp/out"
check "plugins exits 0" 0 "$cubie" plugins
has "plugins lists rk4" "rk4" "$tmp/out"
has "plugins lists the npz writer" "npz" "$tmp/out"
mkdir -p "$tmp/extra/integrator"
ln -s "${CUBIE_PLUGIN_PATH%%:*}/integrator/rk4.so" "$tmp/extra/integrator/rk4.so"
printf '[plugins]\npath = %s\n' "$tmp/extra" >"$tmp/defaults.ini"
check "plugins with only a defaults file" 0 env CUBIE_SYSTEM_DEFAULTS="$tmp/defaults.ini" "$cubie" plugins
has "... searches the defaults file's [plugins] path" "$tmp/extra/integrator/rk4.so" "$tmp/out"
check "devices exits 0" 0 "$cubie" devices
has "devices lists the cpu" "^cpu: [0-9]* cores" "$tmp/out"
has "devices says what it found of GPUs" "^gpu" "$tmp/out"
check "examples/lorenz.ini runs" 0 "$cubie" run "$src/examples/lorenz.ini" -s device.backend=cpu -o "$tmp/lorenz.npz"

done_testing
