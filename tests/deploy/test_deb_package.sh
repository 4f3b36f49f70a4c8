#!/usr/bin/env bash
# Builds the Debian package with CPack in a configured build directory and checks it with
# dpkg-deb: the installed paths, the conffiles, the maintainer scripts and the Depends that
# dpkg-shlibdeps computed; the copyright file, the changelog and the manual pages; the stripped
# binary and its -dbgsym package; then lintian (no error, no warning) and hardening-check on
# the packaged binary. Usage: tests/deploy/test_deb_package.sh BUILD_DIR (built with -g, e.g.
# the release preset). The packages are written to a temporary directory, not into BUILD_DIR.
set -euo pipefail

if [[ $# -ne 1 || ! -f $1/CPackConfig.cmake ]]; then
  echo "usage: $0 BUILD_DIR   (a configured build directory with CPackConfig.cmake)" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok   - $what"
    passed=$((passed + 1))
  else
    echo "FAIL - $what"
    failed=$((failed + 1))
  fi
}

# --- build ---------------------------------------------------------------------------------------
if ! (cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  echo "FAIL - cpack -G DEB" >&2
  exit 1
fi
shopt -s nullglob
debs=("$work"/out/*.deb)
ddebs=("$work"/out/*.ddeb)
shopt -u nullglob
if [[ ${#debs[@]} -ne 1 ]]; then
  cat "$work/cpack.log" >&2
  echo "FAIL - expected exactly one .deb, got ${#debs[@]}" >&2
  exit 1
fi
deb=${debs[0]}
echo "# $(basename "$deb")"

dpkg-deb --info "$deb" >"$work/info"
dpkg-deb --field "$deb" >"$work/control"
dpkg-deb --contents "$deb" >"$work/contents"
dpkg-deb -e "$deb" "$work/control.d"
dpkg-deb -x "$deb" "$work/root"

field() { dpkg-deb --field "$deb" "$1"; }
project_version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$build/CMakeCache.txt")

# --- control fields ------------------------------------------------------------------------------
check "Package is origin-reconciler" test "$(field Package)" = origin-reconciler
check "Version is the project version with a Debian revision ($project_version-N)" \
  test -n "$project_version" -a "$(field Version | sed 's/-[0-9][0-9]*$//')" = "$project_version"
check "Architecture is $(dpkg --print-architecture)" \
  test "$(field Architecture)" = "$(dpkg --print-architecture)"
check "Section is net" test "$(field Section)" = net
check "Maintainer is set" test -n "$(field Maintainer)"
check "Description is set" test -n "$(field Description)"

# Depends: package names, without versions or alternatives' details.
depends=$(field Depends)
echo "# Depends: $depends"
tr ',|' '\n' <<<"$depends" | sed -E 's/\(.*\)//; s/^[[:space:]]+//; s/[[:space:]]+$//' |
  sed '/^$/d' >"$work/depends"
depends_on() { grep -qE "^$1" "$work/depends"; }
check "Depends names libyaml" depends_on 'libyaml-0-[0-9]'
check "Depends names libcurl" depends_on 'libcurl[0-9]'
check "Depends names libspdlog or libfmt" depends_on '(libspdlog[0-9]|libfmt[0-9])'
check "Depends names libprometheus-cpp" depends_on 'libprometheus-cpp-core[0-9]'
check "Depends names ca-certificates" depends_on 'ca-certificates$'
check "Depends names procps (the unit's ExecReload=/bin/kill)" depends_on 'procps$'

# --- contents ------------------------------------------------------------------------------------
# "-rwxr-xr-x root/root  123 2024-01-01 00:00 ./usr/bin/origin-reconciler"
mode_of() { awk -v p="./$1" '$6 == p { print $1 }' "$work/contents"; }
owner_of() { awk -v p="./$1" '$6 == p { print $2 }' "$work/contents"; }
has_file() { [[ $(mode_of "$1") == -* ]]; }
check "contains /usr/bin/origin-reconciler, mode 0755" \
  test "$(mode_of usr/bin/origin-reconciler)" = -rwxr-xr-x
check "contains /lib/systemd/system/origin-reconciler.service, mode 0644" \
  test "$(mode_of lib/systemd/system/origin-reconciler.service)" = -rw-r--r--
for f in config.yaml desired.yaml; do
  check "contains /etc/origin-reconciler/$f, mode 0644" \
    test "$(mode_of "etc/origin-reconciler/$f")" = -rw-r--r--
done
check "all files are owned by root/root" \
  test -z "$(awk '$2 != "root/root"' "$work/contents")"
check "no API token is shipped" \
  test -z "$(grep -E 'cloudflare-api-token|/token$' "$work/contents" || true)"
check "packaged unit is systemd/origin-reconciler.service" \
  cmp -s "$work/root/lib/systemd/system/origin-reconciler.service" \
  "$repo_root/systemd/origin-reconciler.service"
exec_start=$(sed -n 's/^ExecStart=//p' "$work/root/lib/systemd/system/origin-reconciler.service")
exec_bin=${exec_start%% *}
check "the unit's ExecStart binary ($exec_bin) is in the package" has_file "${exec_bin#/}"
exec_config=$(sed -nE 's/.*--config[= ]([^ ]+).*/\1/p' <<<"$exec_start")
check "the unit's --config ($exec_config) is in the package" has_file "${exec_config#/}"
for f in config.yaml desired.yaml; do
  check "packaged $f is config/$f" \
    cmp -s "$work/root/etc/origin-reconciler/$f" "$repo_root/config/$f"
done
version_runs() { "$work/root/usr/bin/origin-reconciler" --version 2>&1 | grep -qF "$project_version"; }
check "packaged binary runs: --version prints $project_version" version_runs

# --- documentation: copyright, changelog, manual pages -----------------------------------------
doc=usr/share/doc/origin-reconciler
check "LICENSE at the repository root is the Apache License 2.0" \
  grep -q 'Apache License' "$repo_root/LICENSE"
if [[ -f /usr/share/common-licenses/Apache-2.0 ]]; then
  check "LICENSE is the full text (/usr/share/common-licenses/Apache-2.0)" \
    cmp -s "$repo_root/LICENSE" /usr/share/common-licenses/Apache-2.0
fi
check "contains /$doc/copyright, mode 0644" test "$(mode_of "$doc/copyright")" = -rw-r--r--
dep5() {
  head -1 "$work/root/$doc/copyright" |
    grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
    grep -qx 'License: Apache-2.0' "$work/root/$doc/copyright"
}
check "copyright is machine-readable (DEP-5) and says Apache-2.0" dep5
check "contains /$doc/changelog.Debian.gz, mode 0644" \
  test "$(mode_of "$doc/changelog.Debian.gz")" = -rw-r--r--
changelog_version() {
  gzip -dc "$work/root/$doc/changelog.Debian.gz" | head -1 | sed -nE 's/^origin-reconciler \(([^)]+)\).*/\1/p'
}
check "changelog's latest entry is the package's Version ($(field Version))" \
  test "$(changelog_version)" = "$(field Version)"
for page in man8/origin-reconciler.8 man5/origin-reconciler.yaml.5; do
  check "contains /usr/share/man/$page.gz" has_file "usr/share/man/$page.gz"
  man_clean() {
    [[ -f $work/root/usr/share/man/$page.gz ]] || return 1
    local warnings
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \
      "$work/root/usr/share/man/$page.gz" 2>&1 >/dev/null)
    [[ -z $warnings ]] || { echo "$warnings" >&2; return 1; }
  }
  check "$page renders without groff warnings" man_clean
done
man_text() { MANWIDTH=200 man -l "$work/root/usr/share/man/$1.gz" 2>/dev/null | col -b; }
man_text man8/origin-reconciler.8 >"$work/man8.txt"
man_text man5/origin-reconciler.yaml.5 >"$work/man5.txt"
options_documented() {
  local opt missing=0
  for opt in $("$work/root/usr/bin/origin-reconciler" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    grep -qF -- "$opt" "$work/man8.txt" || { echo "  not in origin-reconciler(8): $opt" >&2; missing=1; }
  done
  return $missing
}
check "origin-reconciler(8) documents every option --help lists" options_documented
sections_present() {
  local s
  for s in OPTIONS SIGNALS 'EXIT STATUS' FILES; do
    grep -qx "$s" "$work/man8.txt" || { echo "  no section $s" >&2; return 1; }
  done
  for s in SIGHUP SIGTERM /etc/origin-reconciler/config.yaml; do
    grep -qF "$s" "$work/man8.txt" || { echo "  no $s" >&2; return 1; }
  done
}
check "origin-reconciler(8) has OPTIONS, SIGNALS, EXIT STATUS and FILES" sections_present
keys_documented() {  # every key of the README's configuration tables, in the yaml(5) page
  local key missing=0
  # The tables of the "Configuration" section (other sections' tables hold other names).
  for key in $(sed -n '/^## Configuration$/,/^## [^#]/p' "$repo_root/README.md" |
    grep -oE '^\| `[a-z_.]+`' | tr -d '|` ' | grep -v '^origin_reconciler_' | sort -u); do
    grep -qF -- "$key" "$work/man5.txt" || { echo "  not in origin-reconciler.yaml(5): $key" >&2; missing=1; }
  done
  for key in zones zone_id origins ip vendor region manage_cidrs; do
    grep -qE "^ +$key\$" "$work/man5.txt" || { echo "  desired-state key not described: $key" >&2; missing=1; }
  done
  return $missing
}
check "origin-reconciler.yaml(5) describes every configuration and desired-state key" keys_documented

# --- stripped binary, debug symbols in the -dbgsym package -------------------------------------
stripped() { file -b "$work/root/usr/bin/origin-reconciler" | grep -qE '(, stripped|, no section header)'; }
check "packaged binary is stripped" stripped
check "exactly one -dbgsym .ddeb next to the .deb" \
  test ${#ddebs[@]} -eq 1 -a "$(basename "${ddebs[0]:-none}")" != none
if [[ ${#ddebs[@]} -eq 1 ]]; then
  dpkg-deb -x "${ddebs[0]}" "$work/dbg"
  build_id=$(readelf -n "$work/root/usr/bin/origin-reconciler" | sed -n 's/.*Build ID: //p')
  debug_file=$work/dbg/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug
  check "dbgsym package name is origin-reconciler-dbgsym" \
    test "$(dpkg-deb --field "${ddebs[0]}" Package)" = origin-reconciler-dbgsym
  check "dbgsym holds the binary's debug info by build id ($build_id)" \
    test -n "$build_id" -a -f "$debug_file"
  has_debug_info() { readelf -S "$debug_file" | grep -q '\.debug_info'; }
  check "the .debug file has DWARF (.debug_info)" has_debug_info
fi

# --- lintian: no error, no warning ---------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
  lintian_clean() {
    # Errors and warnings fail; --display-level shows what else lintian says, for the log.
    lintian --fail-on error,warning --display-level '>=warning' "$deb" >"$work/lintian.log" 2>&1
    local rc=$?
    sed 's/^/  lintian: /' "$work/lintian.log"
    return $rc
  }
  check "lintian: no error, no warning" lintian_clean
  overrides_explained() {  # every override line follows a comment saying why
    local f=$work/root/usr/share/lintian/overrides/origin-reconciler prev="" line
    [[ -f $f ]] || return 0
    while IFS= read -r line; do
      if [[ -n $line && $line != \#* ]] && [[ $prev != \#* ]]; then
        echo "  override without a comment: $line" >&2
        return 1
      fi
      prev=$line
    done <"$f"
  }
  check "every lintian override carries a comment saying why" overrides_explained
else
  echo "FAIL - lintian is not installed (scripts/install-deps --all)"
  failed=$((failed + 1))
fi

# --- hardening-check (devscripts) on the packaged binary ----------------------------------------
# Control flow integrity: hardening-check looks for the IBT/SHSTK property note, which the
# linker only keeps when every input has it. Debian bookworm's glibc start files (Scrt1.o,
# crti.o, crtn.o) carry none, so no binary linked on bookworm has it (Debian's own podman or
# sshd neither). There, the check is replaced by one on what we control: every object compiled
# from our sources carries IBT and SHSTK (-fcf-protection). Where the start files have the
# property, hardening-check must find it in the binary itself.
if command -v hardening-check >/dev/null 2>&1; then
  hc_args=()
  cc=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
  start_file=$("${cc:-c++}" -print-file-name=Scrt1.o 2>/dev/null || true)
  if [[ $(uname -m) == x86_64 ]] &&
    ! readelf -n "$start_file" 2>/dev/null | grep -q 'x86 feature: IBT, SHSTK'; then
    echo "# $start_file has no IBT/SHSTK property: hardening-check --nocfprotection"
    hc_args+=(--nocfprotection)
    own_objects_cet() {
      local o missing=0 count=0
      while IFS= read -r -d '' o; do
        count=$((count + 1))
        readelf -n "$o" | grep -q 'x86 feature: IBT, SHSTK' || { echo "  no IBT/SHSTK: $o" >&2; missing=1; }
      done < <(find "$build/daemon" -name '*.o' -print0)
      [[ $count -gt 0 && $missing -eq 0 ]]
    }
    check "every object of the daemon is built with -fcf-protection (IBT, SHSTK)" own_objects_cet
  fi
  hardened() {
    hardening-check "${hc_args[@]}" "$work/root/usr/bin/origin-reconciler" >"$work/hardening.log" 2>&1
    local rc=$?
    sed 's/^/  /' "$work/hardening.log"
    return $rc
  }
  check "hardening-check: every check passes" hardened
else
  echo "FAIL - hardening-check is not installed (devscripts; scripts/install-deps --all)"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
