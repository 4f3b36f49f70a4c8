#!/usr/bin/env bash
# Builds the Debian package with CPack in a configured build directory and checks it with
# dpkg-deb: the installed paths, the conffiles, the maintainer scripts and the Depends that
# dpkg-shlibdeps computed. Usage: tests/deploy/test_deb_package.sh BUILD_DIR
# The .deb is written to a temporary directory, not into BUILD_DIR.
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
check "Version is the project version ($project_version)" \
  test -n "$project_version" -a "$(field Version)" = "$project_version"
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
check "Depends names libyaml-cpp" depends_on 'libyaml-cpp[0-9]'
check "Depends names libcurl" depends_on 'libcurl[0-9]'
check "Depends names libspdlog or libfmt" depends_on '(libspdlog[0-9]|libfmt[0-9])'
check "Depends names libprometheus-cpp" depends_on 'libprometheus-cpp-core[0-9]'
check "Depends names ca-certificates" depends_on 'ca-certificates$'

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

# --- control archive -----------------------------------------------------------------------------
expected_conffiles=$'/etc/origin-reconciler/config.yaml\n/etc/origin-reconciler/desired.yaml'
check "conffiles lists both /etc files" \
  test "$(sort "$work/control.d/conffiles" 2>/dev/null)" = "$expected_conffiles"
conffiles_exist() {
  local f
  [[ -f $work/control.d/conffiles ]] || return 1
  while read -r f; do [[ -f $work/root$f ]] || return 1; done <"$work/control.d/conffiles"
}
check "every conffile is in the package" conffiles_exist
# Lines that run systemctl or deb-systemd-invoke (comments and messages left out).
systemd_calls() {
  grep -vE '^[[:space:]]*(#|echo[[:space:]]|printf[[:space:]])' "$1" |
    grep -E '(systemctl|deb-systemd-invoke)' || true
}
guarded_by_running_systemd() { [[ -z $(systemd_calls "$1") ]] || grep -qF '/run/systemd/system' "$1"; }
never_starts() {
  ! systemd_calls "$1" | grep -qE '[[:space:]](start|restart|enable|reenable)[[:space:]]'
}
for script in postinst prerm postrm; do
  check "$script is present and executable" test -x "$work/control.d/$script"
  check "$script parses (sh -n)" sh -n "$work/control.d/$script"
  check "$script is deploy/debian/$script" \
    cmp -s "$work/control.d/$script" "$repo_root/deploy/debian/$script"
  check "$script calls systemctl only when systemd is running" \
    guarded_by_running_systemd "$work/control.d/$script"
done
check "postinst never starts the service (only try-restart on upgrade)" \
  never_starts "$work/control.d/postinst"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
