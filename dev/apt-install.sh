# Sourced by dev/setup-*.sh: apt_install <label> <package>… installs Debian packages with apt-get,
# as root or through sudo, and fails with a clear message where neither apt-get nor root is there.
apt_install() {
  local label=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$label: apt-get not found; install $* with your system's package manager" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "$label: run as root (or install sudo) to install $*" >&2
      return 1
    fi
  fi
  echo "$label: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # No recommends: only what is named.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"
}
