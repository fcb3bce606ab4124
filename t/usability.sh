#!/bin/sh
# Issue 11: what a new user, a plugin author and a packager meet first —
# output formats, early checks, messages, the model language through the
# command line, plugin compile errors, compiler discovery. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
build=${CUBIE_BUILDDIR:-.}
src=${CUBIE_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-usability.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
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

# ---- packaging ----
has "LICENSE is the MIT license" "^MIT License" "$src/LICENSE"
has "... with a copyright line" "^Copyright (c) [0-9]" "$src/LICENSE"
has "NEWS exists and names this version" "^0\.1\.0" "$src/NEWS"
has "AC_INIT has a bug-report URL" '^#define PACKAGE_BUGREPORT "https://' "$build/config.h"
has "AC_INIT has a home page" '^#define PACKAGE_URL "https://' "$build/config.h"
if command -v pkg-config >/dev/null 2>&1 && [ -f "$build/cubie.pc" ]; then
	pd=$(PKG_CONFIG_LIBDIR=$build PKG_CONFIG_PATH= pkg-config --variable=plugindir cubie)
	has "the compiled-in plugin directory is the configured one ($pd)" \
		"^#define CUBIE_PLUGINDIR \"$pd\"$" "$build/core/paths.h"
else
	skip "no pkg-config"
fi
has "configure printed a summary: the cuda backend, yes or no and why" \
	"^  cuda backend: *\(yes\|no\) (" "$build/config.log"
has "... and the kernel compiler" "^  kernel compiler: " "$build/config.log"
has "core/paths.h is remade by make (it depends on the Makefile's values)" \
	"^core/paths.h: FORCE" "$src/Makefile.am"

# ---- output ----
check "csv run" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/o.csv" -s output.save_every=0.5
has "csv header: run, inputs, status, reached, t, variables" "^run,x_0,k,status,reached,t,x$" "$tmp/o.csv"
has "csv row: run 2 (k = 3) succeeded, reached t = 1, x(1) = exp(-3)" "^2,1,3,0,1,1,0.0497870" "$tmp/o.csv"
check "csv run saving the step counts" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/s.csv" \
	-s "output.save=x, steps"
has "csv header: with step counts" "^run,x_0,k,status,reached,accepted_steps,rejected_steps,t,x$" "$tmp/s.csv"
has "csv row: run 2 took 100 steps" "^2,1,3,0,1,100,0,1,0.0497870" "$tmp/s.csv"

check "npz run" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/o.npz" -s "output.save=x, steps"
if [ -f "$tmp/o.npz" ]; then pass ".npz is one file"; else fail ".npz is one file"; fi
check "npz with zip64 records" 0 env CUBIE_NPZ_ZIP64=1 "$cubie" run "$tmp/m.ini" -q \
	-o "$tmp/o64.npz" -s "output.save=x, steps"
if command -v python3 >/dev/null 2>&1; then
	cat >"$tmp/npz.py" <<'PY'
import ast, struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "bad CRC"
names = sorted(z.namelist())
want = sorted(["time.npy", "values.npy", "status.npy", "reached.npy", "inputs.npy", "steps.npy",
               "variables.npy", "input_names.npy"])
assert names == want, names
for info in z.infolist():
    assert info.compress_type == zipfile.ZIP_STORED
def npy(name):
    b = z.read(name)
    assert b[:8] == b"\x93NUMPY\x01\x00"
    hl = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + hl].decode())
    return h, b[10 + hl:]
h, d = npy("values.npy")
assert h["shape"] == (2, 1, 3) and h["descr"] == "<f8", h
v = struct.unpack("<6d", d)
assert abs(v[5] - 0.049787068) < 1e-6, v
h, d = npy("variables.npy")
assert h["descr"] == "<U1" and h["shape"] == (1,) and d == "x".encode("utf-32-le"), (h, d)
h, d = npy("input_names.npy")
assert h["shape"] == (2,) and d == "xk".encode("utf-32-le"), (h, d)
print("fine")
PY
	check "npz: a valid zip of .npy members (python zipfile)" 0 python3 "$tmp/npz.py" "$tmp/o.npz"
	check "npz: also with zip64 records" 0 python3 "$tmp/npz.py" "$tmp/o64.npz"
else
	skip "no python3"; skip "no python3"
fi
check "a .npy path is the directory form (npydir)" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/d.npy"
if [ -f "$tmp/d.npy/values.npy" ]; then pass "... a directory"; else fail "... a directory"; fi
check "format = npydir by name" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/d2" -s output.format=npydir

check "a missing output directory fails before the solve" 2 "$cubie" run "$tmp/m.ini" -o "$tmp/no/such/o.csv"
has "... naming the path and why" "cannot create $tmp/no/such/o.csv.*No such file or directory" "$tmp/err"
check "... and in check" 2 "$cubie" check "$tmp/m.ini" -s "output.file=$tmp/no/o.csv"
mkdir "$tmp/ro" && chmod a-w "$tmp/ro"
if [ ! -w "$tmp/ro" ]; then
	check "a read-only output directory fails before the solve" 2 "$cubie" run "$tmp/m.ini" -o "$tmp/ro/o.csv"
else
	skip "running as root: the directory stays writable"
fi
ls "$tmp"/no* "$tmp/ro" >"$tmp/left" 2>/dev/null
hasnt "... and leaves no probe file" "probe" "$tmp/left"

check "failing runs exit 1" 1 "$cubie" run "$tmp/m.ini" -o "$tmp/f.csv" -s solve.max_steps=10 \
	-s "parameters.k=1, 2, 3, 4, 5, 6, 7"
has "the first failed runs are named, with inputs and status in words" \
	"^cubie: run 0 failed (x=1, k=1): max_steps reached" "$tmp/err"
has "... five of them" "^cubie: run 4 failed (x=1, k=5)" "$tmp/err"
has "... each with the time it reached" "^cubie: run 0 failed (x=1, k=1): max_steps reached before the end at t = 0\.1$" "$tmp/err"
has "... and the rest counted" "and 2 more failed runs" "$tmp/err"

# ---- messages ----
check "-v" 0 "$cubie" run "$tmp/m.ini" -v -o "$tmp/v.csv"
has "-v names the integrator and its file" "^cubie: integrator rk4 .*/integrator/rk4.so" "$tmp/err"
has "-v names the allocator and its file" "^cubie: allocator default .*/allocator/default.so" "$tmp/err"
has "-v names the writer and its file" "^cubie: writer csv .*/writer/csv.so" "$tmp/err"
has "-v says whether the kernel came from the cache" "^cubie: kernel: cpu, float64, \(from the cache\|compiled in\)" "$tmp/err"
check "check -q" 0 "$cubie" check -q "$tmp/m.ini"
if [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then pass "check -q prints nothing"
else fail "check -q prints nothing"; fi

# ---- model language, through a file ----
cat >"$tmp/lang.ini" <<'INI'
[model]
states = x
parameters = k
[constants]
x0 = 2 * pi   ; a comment
[equations]
dx = -k * x + 0 * where(x > 0, hypot(x, 1), cbrt(x)) % 2
[initial]
x = x0 / 2    # a comment too
[parameters]
k = e, 1
[solve]
integrator = rk4
dt = 0.01
[device]
backend = cpu
INI
check "constants, pi and e in [initial]/[parameters]; inline comments" 0 \
	"$cubie" run "$tmp/lang.ini" -q -o "$tmp/lang.csv"
has "... x(0) = pi, k = e" "^0,3.14159265358979[0-9]*,2.71828182845904[0-9]*,0," "$tmp/lang.csv"
cp "$tmp/lang.ini" "$tmp/chain.ini"
printf '[equations]\nr = 0 < x < 1\n[model]\nobservables = r\n' >>"$tmp/chain.ini"
check "a chained comparison is an error" 2 "$cubie" check "$tmp/chain.ini"
has "... at file:line" "chain.ini:18: syntax error in r: chained comparison" "$tmp/err"
cp "$tmp/lang.ini" "$tmp/dz.ini"
printf '[equations]\ndz = 1\n' >>"$tmp/dz.ini"
check "an equation for a non-state is an error" 2 "$cubie" check "$tmp/dz.ini"
has "... with a hint" "dz.ini:18: 'dz' is not the equation of a state.*add 'z' to states" "$tmp/err"
awk 'BEGIN { s = "x0"; for (i = 1; i < 400; i++) s = s ", x" i; print "[model]\nstates = " s
	printf "[equations]\n"; for (i = 0; i < 400; i++) print "dx" i " = -x" i
	printf "[initial]\n"; for (i = 0; i < 400; i++) print "x" i " = 1"
	c = ";"; for (i = 0; i < 100; i++) c = c " a = b"; print c
	print "[solve]\nintegrator = euler\ndt = 0.1\n[device]\nbackend = cpu" }' >"$tmp/long.ini"
check "a 3000-character states line (and a long comment) is accepted" 0 "$cubie" check -q "$tmp/long.ini"

check "float32 with rtol 1e-10" 0 "$cubie" check "$tmp/m.ini" -s solve.precision=float32 \
	-s solve.integrator=dormand_prince_54 -s solve.rtol=1e-10
has "... warns that float32 cannot resolve it" "warning: command line: \[solve\] rtol = 1e-10 is below what float32 resolves" "$tmp/err"
check "float64 with rtol 1e-17" 0 "$cubie" check "$tmp/m.ini" -s solve.precision=float64 \
	-s solve.integrator=dormand_prince_54 -s solve.rtol=1e-17
has "... warns that float64 cannot resolve it" "warning: command line: \[solve\] rtol = 1e-17 is below what float64 resolves" "$tmp/err"

# ---- plugin authors ----
mkdir -p "$tmp/pp/integrator"
ln -s "$build/t/fixtures/.libs/broken_src.so" "$tmp/pp/integrator/broken_src.so"
CUBIE_CACHE_DIR=$tmp/cache
export CUBIE_CACHE_DIR
check "a plugin whose device source does not compile: exit 2" 2 "$cubie" run "$tmp/m.ini" \
	-s "plugins.path=$tmp/pp" -s solve.integrator=broken_src -o "$tmp/b.csv"
has "... naming the plugin and its file" "integrator plugin 'broken_src' (.*broken_src.so): its device source does not compile" "$tmp/err"
has "... the compiler's line, in the plugin's source" "integrator broken_src:3:.*no_such_name" "$tmp/err"
kept=$(sed -n 's/.*kept as \([^)]*\)).*/\1/p' "$tmp/err")
if [ -n "$kept" ] && [ -f "$kept" ]; then pass "... the kernel is kept ($kept)"
else fail "... the kernel is kept ('$kept')"; fi

cp "$build/plugin-dir/integrator/rk4.so" "$tmp/pp/integrator/euler.so"
check "cubie plugins with a misnamed plugin exits 2" 2 env "CUBIE_PLUGIN_PATH=$tmp/pp" "$cubie" plugins
has "... listing it as refused, with the fix" "refused: .*pp/integrator/euler.so: the file is named euler.so but the plugin calls itself 'rk4'" "$tmp/out"
rm "$tmp/pp/integrator/euler.so"

nvrtc=yes
"$cubie" check -q "$tmp/m.ini" --arch sm_90 2>"$tmp/nv" || nvrtc=no
if [ $nvrtc = yes ]; then
	check "check --arch sm_90 compiles with NVRTC, no GPU" 0 "$cubie" check "$tmp/m.ini" --arch sm_90
	has "... saying so" "^kernel: *cuda, sm_90, .*compiled by NVRTC" "$tmp/out"
	check "... a broken device source: exit 2" 2 "$cubie" check "$tmp/m.ini" --arch sm_90 \
		-s "plugins.path=$tmp/pp" -s solve.integrator=broken_src
	has "... naming the plugin and the line" "integrator plugin 'broken_src'.*integrator broken_src(3): error" "$tmp/err"
else
	sed 's/^/# /' "$tmp/nv"
	skip "no NVRTC"; skip "no NVRTC"; skip "no NVRTC"; skip "no NVRTC"
fi
check "--arch takes sm_NN" 2 "$cubie" check "$tmp/m.ini" --arch ninety

# ---- the cpu backend's compiler ----
check "CUBIE_CC naming no compiler" 3 env CUBIE_CC=/nonexistent/cc "$cubie" run "$tmp/m.ini" -q -o "$tmp/cc.csv"
has "... says what is missing and which packages give it" "CUBIE_CC='/nonexistent/cc' is not found; install a C compiler (Debian/Ubuntu: apt-get install gcc" "$tmp/err"
check "ccache-style compiler commands work word by word" 0 env "CUBIE_CC=env ${CUBIE_TEST_CC:-cc}" \
	"$cubie" run "$tmp/m.ini" -q -o "$tmp/cc.csv"

done_testing
