#!/bin/sh
# Install hygiene and the out-of-tree plugin template, the way a packager
# and a plugin author meet them. TAP.
#
# cubie is installed from this build tree into a staging directory (make
# install-exec install-data DESTDIR=...; not `make install`, whose `all`
# would rebuild the build tree's plugin-dir under tests running beside this
# one). The staged files are checked: headers, library with a SONAME, no
# RPATH/RUNPATH, no .la files among the plugins, man pages, examples, no
# build or source directory baked in. Then plugins/template is built with
# nothing but pkg-config (pointed at the staged cubie.pc), installed into
# the staged plugin directory, listed by the staged `cubie plugins` and used
# by name in a solve. Finally `make uninstall` must leave no file behind.
build=${CUBIE_BUILDDIR:-.}
src=${CUBIE_SRCDIR:-.}
cc=${CUBIE_TEST_CC:-cc}
build=$(cd "$build" && pwd) || exit 1
src=$(cd "$src" && pwd) || exit 1

for tool in readelf make; do
	command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP no $tool"; exit 0; }
done
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
command -v "$PKG_CONFIG" >/dev/null 2>&1 || { echo "1..0 # SKIP no pkg-config"; exit 0; }
export PKG_CONFIG

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-install.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
dest=$tmp/dest
# No settings of this machine or user, and none of the make that runs us.
CUBIE_SYSTEM_DEFAULTS=
XDG_CONFIG_HOME=$tmp/no-config
CUBIE_CACHE_DIR=$tmp/cache
export CUBIE_SYSTEM_DEFAULTS XDG_CONFIG_HOME CUBIE_CACHE_DIR
unset MAKEFLAGS MFLAGS MAKELEVEL CUBIE_PLUGIN_PATH

. "$src/t/tap.sh"
none() { # description, file listing what should not be there
	if [ ! -s "$2" ]; then pass "$1"; else fail "$1"; sed 's/^/# /' "$2" | head -n 20; fi
}

# ---- install ----
if ! make -C "$build" install-exec install-data DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	fail "make install DESTDIR=..."
	sed 's/^/# /' "$tmp/install.log" | tail -n 30
	echo "1..$n"
	exit 1
fi
pass "make install DESTDIR=..."

# The configured directories, from the installed cubie.pc.
pc=$(find "$dest" -name cubie.pc -path '*/pkgconfig/*')
if [ -n "$pc" ] && [ "$(printf '%s\n' "$pc" | wc -l)" -eq 1 ]; then pass "one cubie.pc installed"
else fail "one cubie.pc installed ($pc)"; echo "1..$n"; exit 1; fi
mkdir "$tmp/pc" "$tmp/pc-staged"
cp "$pc" "$tmp/pc/cubie.pc"
# The same file with the staging directory in front of every absolute path.
sed "s|^\([A-Za-z_][A-Za-z_0-9]*\)=/|\1=$dest/|" "$pc" >"$tmp/pc-staged/cubie.pc"
pcvar() { PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= "$PKG_CONFIG" --variable="$2" cubie; }
prefix=$(pcvar "$tmp/pc" prefix)
libdir=$(pcvar "$tmp/pc" libdir)
includedir=$(pcvar "$tmp/pc" includedir)
plugindir=$(pcvar "$tmp/pc" plugindir)
s_libdir=$(pcvar "$tmp/pc-staged" libdir)
s_includedir=$(pcvar "$tmp/pc-staged" includedir)
s_plugindir=$(pcvar "$tmp/pc-staged" plugindir)
if [ "$pc" = "$dest$libdir/pkgconfig/cubie.pc" ]; then
	pass "cubie.pc is in \$(libdir)/pkgconfig"
else # configure --with-pkgconfigdir=...
	skip "cubie.pc is in ${pc#"$dest"}, not \$(libdir)/pkgconfig"
fi
if [ -n "$plugindir" ] && [ "$s_plugindir" = "$dest$plugindir" ]; then
	pass "cubie.pc has a plugindir variable ($plugindir)"
else
	fail "cubie.pc has a plugindir variable ('$plugindir', staged '$s_plugindir')"
fi

# Headers where `pkg-config --cflags cubie` points.
cflags=$(PKG_CONFIG_LIBDIR=$tmp/pc-staged PKG_CONFIG_PATH= "$PKG_CONFIG" --cflags cubie)
missing=
for h in cubie/cubie.h cubie/plugin.h cubie/device/erk.h cubie/device/prelude.h \
	cubie/device/status.h cubie/device/args.h cubie/device/loop.h; do
	[ -f "$s_includedir/$h" ] || missing="$missing $h"
done
if [ -z "$missing" ]; then pass "headers in \$(includedir)/cubie"
else fail "headers in \$(includedir)/cubie"; echo "# missing:$missing under $s_includedir"; fi
printf '#include <cubie/plugin.h>\nint main(void) { return CUBIE_ABI_MAJOR == 0; }\n' >"$tmp/h.c"
# shellcheck disable=SC2086 # cflags is a list of words
check "a program compiles with pkg-config --cflags cubie" 0 $cc $cflags -c "$tmp/h.c" -o "$tmp/h.o"

# The library: a SONAME, and the development symlink.
lib=$(ls "$dest$libdir"/libcubie.so.* 2>/dev/null | head -n 1)
soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
case $soname in
libcubie.so.[0-9]*) pass "libcubie has a SONAME ($soname)" ;;
*) fail "libcubie has a SONAME (lib '$lib', SONAME '$soname')" ;;
esac
if [ -n "$soname" ] && [ -e "$dest$libdir/$soname" ] && [ -e "$dest$libdir/libcubie.so" ]; then
	pass "libcubie.so and $soname are installed"
else
	fail "libcubie.so and its SONAME link are installed"
fi

# ELF files: no RPATH or RUNPATH.
find "$dest" -type f >"$tmp/files"
: >"$tmp/elf"
while IFS= read -r f; do
	readelf -h "$f" >/dev/null 2>&1 && printf '%s\n' "$f" >>"$tmp/elf"
done <"$tmp/files"
: >"$tmp/rpath"
while IFS= read -r f; do
	readelf -d "$f" 2>/dev/null | grep -E '\((RPATH|RUNPATH)\)' | sed "s|^|${f#"$dest"}: |" >>"$tmp/rpath"
done <"$tmp/elf"
if [ -s "$tmp/elf" ]; then none "no RPATH or RUNPATH in installed binaries ($(wc -l <"$tmp/elf") ELF files)" "$tmp/rpath"
else fail "no RPATH or RUNPATH in installed binaries (no ELF file found)"; fi

# Plugins: one .so per kind at least, no libtool archives.
for kind in integrator allocator writer; do
	if ls "$s_plugindir/$kind"/*.so >/dev/null 2>&1; then pass "$kind plugins in plugindir/$kind"
	else fail "$kind plugins in plugindir/$kind"; fi
done
find "$s_plugindir" -name '*.la' >"$tmp/la"
none "no .la files installed for plugins" "$tmp/la"
find "$dest" -name 'libcubie.la' >"$tmp/la"
none "no libcubie.la installed" "$tmp/la"
for f in LICENSE NEWS; do
	if [ -n "$(find "$dest" -path "*/doc/*/$f")" ]; then pass "$f installed under \$(docdir)"
	else fail "$f installed under \$(docdir)"; fi
done

# Man pages and examples.
for page in man1/cubie.1 man5/cubie.ini.5 man7/cubie-plugin.7; do
	if [ -n "$(find "$dest" -path "*/$page")" ]; then pass "$page installed"
	else fail "$page installed"; fi
done
missing=
for ex in "$src"/examples/*.ini; do
	[ -f "$ex" ] || continue
	[ -n "$(find "$dest" -path "*/doc/*/examples/${ex##*/}")" ] || missing="$missing ${ex##*/}"
done
if [ -z "$missing" ]; then pass "every examples/*.ini installed under \$(docdir)/examples"
else fail "every examples/*.ini installed under \$(docdir)/examples"; echo "# missing:$missing"; fi

# Reproducible: neither the build nor the source directory, nor today's
# date, in any installed file, except inside configured directories (a
# prefix may well lie under the source tree, as in make distcheck). Debug
# information records the compile directory by design; packagers split it
# off, so it is stripped first.
today=$(LC_ALL=C date '+%b %e %Y')
: >"$tmp/baked"
if command -v objcopy >/dev/null 2>&1 && command -v strings >/dev/null 2>&1; then
	while IFS= read -r f; do
		if grep -qxF "$f" "$tmp/elf"; then
			objcopy --strip-debug "$f" "$tmp/stripped" 2>/dev/null || cp "$f" "$tmp/stripped"
			strings -a "$tmp/stripped" >"$tmp/text"
		else
			cat "$f" >"$tmp/text"
		fi
		# configured directories, longest first, then what is left
		for d in "$plugindir" "$includedir" "$libdir" "$prefix"; do
			[ -n "$d" ] && sed "s|$d||g" "$tmp/text" >"$tmp/text2" && mv "$tmp/text2" "$tmp/text"
		done
		for p in "$build" "$src"; do
			grep -F -- "$p" "$tmp/text" | head -n 2 | sed "s|^|${f#"$dest"}: |" >>"$tmp/baked"
		done
		grep -F -- "$today" "$tmp/text" | head -n 2 | sed "s|^|${f#"$dest"}: date: |" >>"$tmp/baked"
	done <"$tmp/files"
	none "no build path, source path or build date in installed files" "$tmp/baked"
else
	skip "no objcopy or strings"
fi

# ---- the installed cubie ----
cubie=$(find "$dest" -path '*/bin/cubie' -type f)
LD_LIBRARY_PATH=$dest$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
check "the installed cubie runs (--version)" 0 "$cubie" --version
LD_TRACE_LOADED_OBJECTS=1 "$cubie" >"$tmp/ldd" 2>&1
if grep -F "libcubie" "$tmp/ldd" | grep -qF "$dest$libdir/"; then
	pass "... with the installed libcubie"
else
	fail "... with the installed libcubie"; sed 's/^/# /' "$tmp/ldd"
fi
# Staged, the configured plugin directory does not exist: nothing is found,
# and that is an error (an installation that finds no plugins runs nothing).
if "$cubie" plugins >"$tmp/out" 2>&1; then
	fail "cubie plugins finding none exits non-zero"; sed 's/^/# /' "$tmp/out"
else
	pass "cubie plugins finding none exits non-zero"
fi
if grep -qF "no plugins found (searched: " "$tmp/out" && grep -qF "$plugindir" "$tmp/out"; then
	pass "... and says where it searched, the configured directory among them"
else
	fail "... and says where it searched"; sed 's/^/# /' "$tmp/out"
fi
# The staged plugin directory stands in for the configured one.
CUBIE_PLUGIN_PATH=$s_plugindir
export CUBIE_PLUGIN_PATH
cat >"$tmp/decay.ini" <<'INI'
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
dt = 0.01
[device]
backend = cpu
INI
check "the installed cubie solves with installed plugins" 0 \
	"$cubie" run "$tmp/decay.ini" -q -o "$tmp/rk4.csv"
ex=$(find "$dest" -path '*/doc/*/examples/lorenz.ini' | head -n 1)
if [ -n "$ex" ]; then
	check "the installed lorenz example runs" 0 "$cubie" run "$ex" -q -s device.backend=cpu \
		-o "$tmp/lorenz.npz"
fi

# ---- the plugin template, built against the staged install ----
cp -R "$src/plugins/template" "$tmp/template"
chmod -R u+w "$tmp/template"
tmake() { PKG_CONFIG_LIBDIR=$tmp/pc-staged PKG_CONFIG_PATH= make -C "$tmp/template" CC="$cc" "$@"; }
check "the template builds with pkg-config only" 0 tmake
check "... and installs into the plugin directory" 0 tmake install
for f in integrator/midpoint.so allocator/counting.so writer/tsv.so; do
	if [ -f "$s_plugindir/$f" ]; then pass "plugindir/$f installed"
	else fail "plugindir/$f installed"; fi
done
check "... and honours DESTDIR" 0 tmake install DESTDIR="$tmp/stage2"
if [ -f "$tmp/stage2$s_plugindir/integrator/midpoint.so" ] &&
	[ -f "$tmp/stage2$s_plugindir/allocator/counting.so" ]; then
	pass "... both plugins under DESTDIR"
else
	fail "... both plugins under DESTDIR"; find "$tmp/stage2" -type f | sed 's/^/# /'
fi
readelf --dyn-syms -W "$tmp/template/midpoint.so" |
	awk '$5 == "GLOBAL" && $7 != "UND" && $8 != "" { print $8 }' >"$tmp/syms"
if [ "$(cat "$tmp/syms")" = "cubie_plugin_describe" ]; then
	pass "the template exports cubie_plugin_describe only"
else
	fail "the template exports cubie_plugin_describe only"; sed 's/^/# /' "$tmp/syms"
fi
if readelf -d "$tmp/template/midpoint.so" | grep -q 'NEEDED.*libcubie'; then
	fail "the template does not link libcubie"
else
	pass "the template does not link libcubie"
fi

check "cubie plugins runs" 0 "$cubie" plugins
cp "$tmp/out" "$tmp/plugins"
for p in integrator/midpoint allocator/counting writer/tsv; do
	if grep -q "^${p%/*} *${p#*/} .*$s_plugindir/$p.so" "$tmp/plugins"; then
		pass "cubie plugins lists the template's ${p%/*} ${p#*/}"
	else
		fail "cubie plugins lists the template's ${p%/*} ${p#*/}"; sed 's/^/# /' "$tmp/plugins"
	fi
done

check "a solve loads the template plugins by name" 0 "$cubie" run "$tmp/decay.ini" -v \
	-s solve.integrator=midpoint -s memory.allocator=counting -o "$tmp/mid.csv"
if grep -q "^cubie: counting: [1-9][0-9]* allocations" "$tmp/err"; then
	pass "... the counting allocator served the solve"
else
	fail "... the counting allocator served the solve"; sed 's/^/# /' "$tmp/err"
fi
# x(1) = exp(-k) for run r (k = r + 1): the midpoint rule with h = 0.01 is
# within 5e-4 (relative; forward Euler would be off by 5e-2), and not rk4.
# (csv: run,x_0,k,status,reached,t,x)
if awk -F, '$6 == 1 { want = exp(-($1 + 1)); d = $7 - want; if (d < 0) d = -d;
		if (d > 1e-3 * want) bad = 1; rows++ }
		END { exit !(rows == 3 && !bad) }' "$tmp/mid.csv" && ! cmp -s "$tmp/mid.csv" "$tmp/rk4.csv"; then
	pass "... and the midpoint rule integrated x' = -k x"
else
	fail "... and the midpoint rule integrated x' = -k x"; sed 's/^/# /' "$tmp/mid.csv" | tail -n 4
fi
check "the template integrator loads by its alias too" 0 "$cubie" run "$tmp/decay.ini" -q \
	-s solve.integrator=explicit_midpoint -o "$tmp/alias.csv"
if cmp -s "$tmp/mid.csv" "$tmp/alias.csv"; then pass "... with the same result"
else fail "... with the same result"; fi

check "the template writer writes a .tsv" 0 "$cubie" run "$tmp/decay.ini" -q -o "$tmp/final.tsv"
if [ "$(sed -n 1p "$tmp/final.tsv")" = "$(printf 'run\tstatus\tx')" ] && [ "$(wc -l <"$tmp/final.tsv")" -eq 4 ]; then
	pass "... one row per run, under a header"
else
	fail "... one row per run, under a header"; sed 's/^/# /' "$tmp/final.tsv"
fi
check "the template installs elsewhere with make install plugindir=DIR" 0 \
	tmake install plugindir="$tmp/mine"
if [ -f "$tmp/mine/integrator/midpoint.so" ] && [ -f "$tmp/mine/writer/tsv.so" ]; then
	pass "... into DIR/<kind>/"
else
	fail "... into DIR/<kind>/"; find "$tmp/mine" | sed 's/^/# /'
fi
if grep -q 'static const char midpoint_source\[\] =' "$tmp/template/midpoint_device.inc"; then
	pass "the template embeds its device source file as a C string"
else
	fail "the template embeds its device source file as a C string"
fi

# ---- uninstall ----
check "the template uninstalls" 0 tmake uninstall
check "make uninstall DESTDIR=..." 0 make -C "$build" uninstall DESTDIR="$dest"
find "$dest" ! -type d >"$tmp/left"
none "make uninstall leaves no file behind" "$tmp/left"

done_testing
