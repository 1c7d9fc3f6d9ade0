#!/usr/bin/env bash
# A headless Chromium for the console's real-browser tests
# (tests/integration/console_browser.rs) and its screenshots.
#   scripts/browser.sh install   # installs Debian's chromium and chromium-driver if absent
#   scripts/browser.sh start     # installs, starts chromedriver on a free loopback port, prints its URL
#   scripts/browser.sh url       # prints the URL of the running chromedriver
#   scripts/browser.sh status    # exit 0 when it runs
#   scripts/browser.sh stop      # stops it
# The tests start a chromedriver of their own when PREMIA_WEBDRIVER_URL is
# unset; `start` is for using one driver across runs:
#   PREMIA_WEBDRIVER_URL="$(scripts/browser.sh start)" cargo test ... console_browser
# Chromium runs with `--headless=new --no-sandbox --disable-dev-shm-usage`
# (as root, in a container): the tests pass those flags themselves.
# Settings (environment): PREMIA_BROWSER_DIR (default /tmp/premia-browser).
set -euo pipefail
dir="${PREMIA_BROWSER_DIR:-/tmp/premia-browser}"
pidfile="$dir/chromedriver.pid"
portfile="$dir/chromedriver.port"
log="$dir/chromedriver.log"

installed() {
  command -v chromedriver >/dev/null 2>&1 && { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
}

install_browser() {
  installed && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser.sh: chromium is not installed; run as root or: sudo apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  echo "browser.sh: installing chromium and chromium-driver from the Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y --no-install-recommends chromium chromium-driver ||
    (apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)) >/dev/null
  installed || { echo "browser.sh: no chromedriver after installing chromium-driver" >&2; exit 1; }
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

url() {
  echo "http://127.0.0.1:$(cat "$portfile")"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

start() {
  install_browser
  if running; then
    url
    return 0
  fi
  mkdir -p "$dir"
  local port
  port="$(free_port)"
  chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$log" 2>&1 &
  echo $! >"$pidfile"
  echo "$port" >"$portfile"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      url
      return 0
    fi
    sleep 0.1
  done
  echo "browser.sh: chromedriver did not listen on port $port" >&2
  cat "$log" >&2
  exit 1
}

stop() {
  if running; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$portfile"
}

case "${1:-}" in
  install) install_browser ;;
  start) start ;;
  url) running && url ;;
  status) running ;;
  stop) stop ;;
  *)
    echo "usage: $0 install|start|url|status|stop" >&2
    exit 2
    ;;
esac
