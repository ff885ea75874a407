#!/usr/bin/env bash
# scripts/services/orthanc.sh — start a throw-away Orthanc for tests and CI.
#
# Usage: scripts/services/orthanc.sh [options] DIR
#
#   DIR                 working directory (created if missing). Receives:
#                         DIR/orthanc.json   generated configuration (mode 600: holds the password)
#                         DIR/storage/       Orthanc storage + SQLite index (temporary)
#                         DIR/orthanc.log    Orthanc's stdout/stderr
#                         DIR/pid            PID of the running Orthanc (read by stop.sh)
#                         DIR/cmdline-match  string stop.sh expects in /proc/PID/cmdline
#                         DIR/env            KEY=VALUE lines, sourceable by sh:
#                           RADLEDGER_TEST_ORTHANC_URL=http://127.0.0.1:PORT
#                           RADLEDGER_TEST_ORTHANC_USER=...
#                           RADLEDGER_TEST_ORTHANC_PASSWORD=...
#                           RADLEDGER_TEST_ORTHANC_DICOMWEB_URL=http://127.0.0.1:PORT/dicom-web
#                           RADLEDGER_TEST_ORTHANC_DICOM_PORT=PORT   (absent with --no-dicom)
#                           RADLEDGER_TEST_ORTHANC_AET=RADLEDGER
#
# Options:
#   --stable-age N      seconds before Orthanc marks a patient/study/series stable (default 1)
#   --http-port N       HTTP port (default: a free random port on 127.0.0.1)
#   --no-dicom          disable the DICOM (C-STORE/C-FIND) server entirely
#   --timeout N         seconds to wait for GET /system to answer (default 60)
#   --no-install        fail instead of apt-get installing orthanc/orthanc-dicomweb
#   --authz-node URL    load the radledger authorization plugin (plugins/orthanc/radledger_authz.py,
#                       Debian orthanc-python): every request for patient data asks the node at URL
#                       for a decision (docs/families/imaging.md "Orthanc asks the node"). Orthanc's
#                       Basic authentication is then off; the generated user is the plugin's service
#                       account (let through without asking). Without it: no plugin, Basic auth on.
#   --authz-token-file F  the plugin's bearer token for the node (an "integration" actor's API token)
#   --authz-cache N     seconds a permit is cached by the plugin (default 60)
#   --authz-deny-cache N  seconds a deny is cached (default 5, at most the permit's)
#   --authz-timeout N   seconds the plugin waits for the node (default 5)
#   -h, --help          show this text
#
# The script exits 0 once /system answers with the generated credentials, leaving Orthanc
# running in its own session (setsid), so a CI script can stop it later by PID:
#   scripts/services/stop.sh DIR
# Same pid + env file pattern as the other scripts in scripts/services/.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

STABLE_AGE=1
HTTP_PORT=""
DICOM=1
TIMEOUT=60
INSTALL=1
DIR=""
AUTHZ_NODE=""
AUTHZ_TOKEN_FILE=""
AUTHZ_CACHE=60
AUTHZ_DENY_CACHE=5
AUTHZ_TIMEOUT=5
while [ $# -gt 0 ]; do
  case "$1" in
    --stable-age) STABLE_AGE="$2"; shift 2 ;;
    --http-port) HTTP_PORT="$2"; shift 2 ;;
    --no-dicom) DICOM=0; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --authz-node) AUTHZ_NODE="$2"; shift 2 ;;
    --authz-token-file) AUTHZ_TOKEN_FILE="$2"; shift 2 ;;
    --authz-cache) AUTHZ_CACHE="$2"; shift 2 ;;
    --authz-deny-cache) AUTHZ_DENY_CACHE="$2"; shift 2 ;;
    --authz-timeout) AUTHZ_TIMEOUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "orthanc.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$DIR" ] || { echo "orthanc.sh: only one DIR" >&2; exit 2; }; DIR="$1"; shift ;;
  esac
done
[ -n "$DIR" ] || { usage >&2; exit 2; }
if [ -n "$AUTHZ_NODE" ] && [ -z "$AUTHZ_TOKEN_FILE" ]; then
  echo "orthanc.sh: --authz-node needs --authz-token-file" >&2; exit 2
fi
for n in "$AUTHZ_CACHE" "$AUTHZ_DENY_CACHE" "$AUTHZ_TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "orthanc.sh: --authz-* values are seconds" >&2; exit 2; }
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

if [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
  echo "orthanc.sh: $DIR/pid is already running; stop it first with stop.sh" >&2
  exit 1
fi

# --- packages --------------------------------------------------------------------------------
plugin_path() {
  # The Debian package installs the plugin under /usr/share/orthanc/plugins (symlink to
  # /usr/lib/orthanc/libOrthancDicomWeb.so.X); ask dpkg rather than hard-coding the version.
  dpkg -L orthanc-dicomweb 2>/dev/null | grep -E '/plugins/libOrthancDicomWeb\.so$' | head -n1 || true
}
if ! command -v Orthanc >/dev/null 2>&1 || [ -z "$(plugin_path)" ]; then
  if [ "$INSTALL" = 0 ]; then
    echo "orthanc.sh: Orthanc or orthanc-dicomweb missing (apt-get install orthanc orthanc-dicomweb)" >&2
    exit 1
  fi
  echo "orthanc.sh: installing orthanc orthanc-dicomweb with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d / no init system: the package's own service is not started, which is what we want.
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends orthanc orthanc-dicomweb >&2
fi
PLUGIN="$(plugin_path)"
[ -n "$PLUGIN" ] || { echo "orthanc.sh: DICOMweb plugin not found via dpkg -L orthanc-dicomweb" >&2; exit 1; }

# --- the authorization plugin (optional) --------------------------------------------------------
python_plugin_path() {
  dpkg -L orthanc-python 2>/dev/null | grep -E '/plugins/libOrthancPython\.so$' | head -n1 || true
}
PLUGINS_JSON="\"$PLUGIN\""
AUTH_ENABLED=true
AUTHZ_JSON=""
if [ -n "$AUTHZ_NODE" ]; then
  if [ -z "$(python_plugin_path)" ]; then
    if [ "$INSTALL" = 0 ]; then
      echo "orthanc.sh: orthanc-python missing (apt-get install orthanc-python)" >&2
      exit 1
    fi
    echo "orthanc.sh: installing orthanc-python with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends orthanc-python >&2
  fi
  PYTHON_PLUGIN="$(python_plugin_path)"
  [ -n "$PYTHON_PLUGIN" ] || { echo "orthanc.sh: Python plugin not found via dpkg -L orthanc-python" >&2; exit 1; }
  SCRIPT="$(cd "$(dirname "$0")/../.." && pwd)/plugins/orthanc/radledger_authz.py"
  [ -f "$SCRIPT" ] || { echo "orthanc.sh: $SCRIPT missing" >&2; exit 1; }
  TOKEN_FILE="$(cd "$(dirname "$AUTHZ_TOKEN_FILE")" && pwd)/$(basename "$AUTHZ_TOKEN_FILE")"
  [ -r "$TOKEN_FILE" ] || { echo "orthanc.sh: cannot read $AUTHZ_TOKEN_FILE" >&2; exit 1; }
  PLUGINS_JSON="$PLUGINS_JSON, \"$PYTHON_PLUGIN\""
  # The filter authenticates every request itself: Orthanc's Basic authentication would answer
  # 401 to a bearer token before the filter is asked.
  AUTH_ENABLED=false
fi

free_port() {
  # Ask the kernel for a free ephemeral port on loopback. There is a small race between
  # closing this socket and Orthanc binding; the start loop below retries on failure.
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close();});'
}

USER_NAME="radledger-test"
PASSWORD="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
rm -f "$DIR/env" "$DIR/pid" "$DIR/cmdline-match"
mkdir -p "$DIR/storage"

attempt=0
while :; do
  attempt=$((attempt + 1))
  PORT="${HTTP_PORT:-$(free_port)}"
  if [ "$DICOM" = 1 ]; then DICOM_PORT="$(free_port)"; else DICOM_PORT=4242; fi
  DICOM_ENABLED=$([ "$DICOM" = 1 ] && echo true || echo false)
  if [ -n "$AUTHZ_NODE" ]; then
    AUTHZ_JSON="\"PythonScript\": \"$SCRIPT\",
  \"PythonVerbose\": false,
  \"Radledger\": {
    \"NodeUrl\": \"$AUTHZ_NODE\",
    \"TokenFile\": \"$TOKEN_FILE\",
    \"CacheSeconds\": $AUTHZ_CACHE,
    \"DenyCacheSeconds\": $AUTHZ_DENY_CACHE,
    \"TimeoutSeconds\": $AUTHZ_TIMEOUT,
    \"ServiceUsers\": { \"$USER_NAME\": \"$PASSWORD\" }
  },"
  fi
  umask 077
  cat >"$DIR/orthanc.json" <<EOF
{
  $AUTHZ_JSON
  "Name": "radledger-test",
  "StorageDirectory": "$DIR/storage",
  "IndexDirectory": "$DIR/storage",
  "TemporaryDirectory": "$DIR/storage",
  "StorageCompression": false,
  "Plugins": [$PLUGINS_JSON],
  "HttpServerEnabled": true,
  "HttpPort": $PORT,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": $AUTH_ENABLED,
  "RegisteredUsers": { "$USER_NAME": "$PASSWORD" },
  "HttpDescribeErrors": true,
  "OrthancExplorerEnabled": false,
  "WebDavEnabled": false,
  "ExecuteLuaEnabled": false,
  "DicomServerEnabled": $DICOM_ENABLED,
  "DicomAet": "RADLEDGER",
  "DicomPort": $DICOM_PORT,
  "StableAge": $STABLE_AGE,
  "SaveJobs": false,
  "OverwriteInstances": false,
  "DeidentifyLogs": true,
  "DicomWeb": {
    "Enable": true,
    "Root": "/dicom-web/",
    "EnableWado": true,
    "WadoRoot": "/wado",
    "Host": "127.0.0.1:$PORT",
    "Ssl": false
  }
}
EOF
  umask 022
  # setsid: own session and process group, so the caller's Ctrl-C or group kill does not reach
  # it and stop.sh is the one way to end it. stdin from /dev/null so no terminal is held.
  setsid Orthanc "$DIR/orthanc.json" </dev/null >"$DIR/orthanc.log" 2>&1 &
  PID=$!
  deadline=$(( $(date +%s) + TIMEOUT ))
  ready=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if ! kill -0 "$PID" 2>/dev/null; then break; fi
    if curl -fsS --max-time 2 -u "$USER_NAME:$PASSWORD" "http://127.0.0.1:$PORT/system" >/dev/null 2>&1; then
      ready=1; break
    fi
    sleep 0.2
  done
  if [ "$ready" = 1 ]; then break; fi
  kill -TERM "$PID" 2>/dev/null || true
  if [ "$attempt" -ge 3 ] || [ -n "$HTTP_PORT" ]; then
    echo "orthanc.sh: Orthanc did not answer on port $PORT within ${TIMEOUT}s; last log lines:" >&2
    tail -n 30 "$DIR/orthanc.log" >&2 || true
    exit 1
  fi
  echo "orthanc.sh: start attempt $attempt failed (port race?), retrying" >&2
done

echo "$PID" >"$DIR/pid"
echo "$DIR/orthanc.json" >"$DIR/cmdline-match"
{
  echo "RADLEDGER_TEST_ORTHANC_URL=http://127.0.0.1:$PORT"
  echo "RADLEDGER_TEST_ORTHANC_USER=$USER_NAME"
  echo "RADLEDGER_TEST_ORTHANC_PASSWORD=$PASSWORD"
  echo "RADLEDGER_TEST_ORTHANC_DICOMWEB_URL=http://127.0.0.1:$PORT/dicom-web"
  echo "RADLEDGER_TEST_ORTHANC_AET=RADLEDGER"
  if [ -n "$AUTHZ_NODE" ]; then echo "RADLEDGER_TEST_ORTHANC_AUTHZ_NODE=$AUTHZ_NODE"; fi
  if [ "$DICOM" = 1 ]; then echo "RADLEDGER_TEST_ORTHANC_DICOM_PORT=$DICOM_PORT"; fi
} >"$DIR/env"
chmod 600 "$DIR/env"
echo "orthanc.sh: Orthanc pid $PID on http://127.0.0.1:$PORT (env in $DIR/env)" >&2
