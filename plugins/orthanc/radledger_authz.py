# radledger_authz.py — Orthanc asks the node (issue 21 §1, docs/families/imaging.md "Orthanc asks the node").
#
# An Orthanc Python plugin (Debian package orthanc-python, plugin API 4.0) that registers an incoming
# HTTP request filter (orthanc.RegisterIncomingHttpRequestFilter; Orthanc Book, "Python plugin",
# "Filtering incoming HTTP requests"): for every request that reaches patient data — Orthanc's own
# REST (/patients, /studies, /series, /instances and everything below them: files, frames,
# previews, archives, media), DICOMweb (/dicom-web/studies/...: WADO-RS, QIDO-RS) and WADO-URI
# (/wado) — it asks the radledger node for a decision, forwarding the caller's credentials
# (Authorization: Bearer <token>, or the web app's radledger_session cookie), the study the
# request is about and why (the X-Radledger-* purpose, break-glass and context headers). The node
# decides (consent, care relationship, break-glass, research grant), records the access on the log,
# and only a permit lets Orthanc serve: the bytes then go straight from Orthanc to the caller.
#
# Fail closed: a request whose study the filter cannot name (POST /tools/find — the filter does not
# see request bodies —, root lists, unscoped searches, jobs, modalities, peers, ...), a request
# without credentials, a change to the archive (anything but GET) and any failure to reach the node
# are refused (Orthanc answers 403). The exceptions: GET /system (Orthanc's name and version; the
# service scripts' readiness probe), and the archive's service accounts ("ServiceUsers", HTTP Basic),
# which are the node's own account — the DICOMweb proxy and the archive follower record their own
# accesses on the node — and must be given to nothing else.
#
# Orthanc identifiers (SHA-1 hashes of patient data) never leave Orthanc: the plugin maps them to
# Study Instance UIDs through Orthanc's own REST API, in process (orthanc.RestApiGet), and sends the
# node only the UID, which the node turns into its keyed pseudonym before anything reaches the log.
#
# Decisions are cached per (credential, study, purpose, break-glass, context, action) for a short
# time ("CacheSeconds", default 60; a deny for "DenyCacheSeconds", default 5 and never longer than
# a permit): a viewer loading the 500 instances of a study costs one decision and one access
# record, as an IHE BALP audit event describes one transaction. Concurrent requests for the same key
# wait for the first one's decision instead of asking again. A revocation (consent withdrawn, care
# ended, token revoked) is not pushed to the plugin: the TTL bounds how long a cached permit
# outlives it.
#
# Configuration (Orthanc's configuration JSON):
#   "PythonScript": "/path/to/radledger_authz.py",
#   "AuthenticationEnabled": false,      (the filter authenticates; Orthanc's Basic auth would
#                                         refuse bearer tokens before the filter sees them)
#   "Radledger": {
#     "NodeUrl": "http://127.0.0.1:8080",   the node's API (http or https)
#     "Token": "...", or "TokenFile": "/path",   the plugin's bearer token (an "integration" actor)
#     "CacheSeconds": 60, "DenyCacheSeconds": 5, "TimeoutSeconds": 5,
#     "ServiceUsers": { "user": "password" }    HTTP Basic accounts let through without asking
#   }
import base64
import hashlib
import hmac
import http.client
import json
import re
import threading
import time
import urllib.parse

import orthanc

CONFIG = json.loads(orthanc.GetConfiguration()).get("Radledger", {})


def _number(name, default, low, high):
    v = CONFIG.get(name, default)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v < low or v > high:
        orthanc.LogError("radledger: Radledger.%s must be a number in %s..%s; using %s" % (name, low, high, default))
        return default
    return v


NODE = urllib.parse.urlsplit(CONFIG.get("NodeUrl", ""))
TOKEN = CONFIG.get("Token")
if TOKEN is None and "TokenFile" in CONFIG:
    with open(CONFIG["TokenFile"], encoding="utf-8") as f:
        TOKEN = f.read().strip()
PERMIT_TTL = _number("CacheSeconds", 60, 0, 3600)
DENY_TTL = min(_number("DenyCacheSeconds", 5, 0, 3600), PERMIT_TTL)
TIMEOUT = _number("TimeoutSeconds", 5, 0.1, 120)
SERVICE = {
    "Basic " + base64.b64encode(("%s:%s" % (u, p)).encode("utf-8")).decode("ascii")
    for u, p in CONFIG.get("ServiceUsers", {}).items()
}
CONFIGURED = NODE.scheme in ("http", "https") and NODE.hostname is not None and bool(TOKEN)
if not CONFIGURED:
    orthanc.LogError("radledger: Radledger.NodeUrl and Radledger.Token missing: every patient request is refused")

AUTHORIZE_PATH = (NODE.path.rstrip("/") if NODE.path else "") + "/api/v1/orthanc/authorize"
# PS3.5 §9.1 UIDs; Orthanc's identifiers (five groups of eight hex digits).
UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
ORTHANC_ID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{8}){4}$")
SESSION_COOKIE = "radledger_session"
HEADERS = ("x-radledger-purpose-of-use", "x-radledger-break-glass", "x-radledger-break-glass-justification",
           "x-radledger-context")


def _uid(s):
    return s if isinstance(s, str) and len(s) <= 64 and UID.match(s) else None


# --- Orthanc identifier → Study Instance UIDs (never leaves Orthanc) --------------------------
# Orthanc identifiers are hashes of the DICOM identifiers: a mapping never changes, so it is kept
# (bounded) for the life of the process.
_studies_of = {}
_MAX_MAPPED = 100000


def _study_uids(level, oid):
    key = (level, oid)
    hit = _studies_of.get(key)
    if hit is not None:
        return hit
    try:
        if level == "patients":
            found = [s.get("MainDicomTags", {}).get("StudyInstanceUID")
                     for s in json.loads(orthanc.RestApiGet("/patients/%s/studies" % oid))]
        elif level == "studies":
            found = [json.loads(orthanc.RestApiGet("/studies/%s" % oid)).get("MainDicomTags", {})
                     .get("StudyInstanceUID")]
        else:
            found = [json.loads(orthanc.RestApiGet("/%s/%s/study" % (level, oid))).get("MainDicomTags", {})
                     .get("StudyInstanceUID")]
    except Exception:
        return None  # no such resource (or Orthanc could not say): refused, nothing to decide on
    uids = [_uid(u) for u in found]
    if not uids or any(u is None for u in uids):
        return None
    if len(_studies_of) >= _MAX_MAPPED:
        _studies_of.clear()
    _studies_of[key] = uids
    return uids


# --- what a request is about ---------------------------------------------------------------------
def _dicomweb(sub, get):
    """(studies, action) of a PS3.18 path below /dicom-web (mirrors src/api/dicomweb.ts)."""
    if len(sub) == 1 and sub[0] in ("studies", "series", "instances"):
        # A search names no study in advance; the filter cannot narrow Orthanc's answer, so only a
        # search scoped to one study is decided (as a read of it); others are for the node's proxy.
        study = _uid(get.get("StudyInstanceUID", get.get("0020000D")))
        return ([study], "read") if study else None
    if len(sub) < 2 or sub[0] != "studies" or _uid(sub[1]) is None:
        return None
    n = len(sub)
    bytes_of = n == 2 or (n == 4 and sub[2] == "series") or (n == 6 and sub[2] == "series" and sub[4] == "instances")
    return [sub[1]], "download" if bytes_of else "read"


def _rest(parts):
    """(studies, action) of Orthanc's own REST: /{patients,studies,series,instances}/{id}[/...]."""
    level = parts[0]
    if len(parts) < 2 or not ORTHANC_ID.match(parts[1]):
        return None
    uids = _study_uids(level, parts[1])
    if uids is None:
        return None
    # DICOM files, archives and media are downloads; summaries, tags, frames and previews are reads.
    download = len(parts) >= 3 and parts[2] in ("file", "archive", "media")
    return uids, "download" if download else "read"


def _target(method, parts, get):
    if method != "GET" or not parts:
        return None
    if parts[0] == "dicom-web":
        return _dicomweb(parts[1:], get)
    if parts[0] == "wado" and len(parts) == 1:
        study = _uid(get.get("studyUID"))
        return ([study], "download") if study else None
    if parts[0] in ("patients", "studies", "series", "instances"):
        return _rest(parts)
    return None


# --- asking the node -----------------------------------------------------------------------------
_local = threading.local()


def _connection():
    c = getattr(_local, "conn", None)
    if c is None:
        cls = http.client.HTTPSConnection if NODE.scheme == "https" else http.client.HTTPConnection
        c = cls(NODE.hostname, NODE.port, timeout=TIMEOUT)
        _local.conn = c
    return c


def _post(body):
    """One keep-alive POST to the node; a stale connection is retried once on a fresh one."""
    data = json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json", "authorization": "Bearer " + TOKEN}
    for attempt in (0, 1):
        c = _connection()
        try:
            c.request("POST", AUTHORIZE_PATH, body=data, headers=headers)
            r = c.getresponse()
            text = r.read()
            return r.status, text
        except (http.client.HTTPException, OSError):
            c.close()
            _local.conn = None
            if attempt == 1:
                raise
    raise OSError("unreachable")


def _ask(body):
    """(permit, ttl) from the node; any failure is a refusal that is not cached (fail closed)."""
    try:
        status, text = _post(body)
    except Exception as e:
        orthanc.LogWarning("radledger: the node did not answer (%s): refused" % type(e).__name__)
        return False, 0
    if status != 200:
        orthanc.LogWarning("radledger: the node answered %d: refused" % status)
        return False, 0
    try:
        decision = json.loads(text).get("decision")
    except ValueError:
        return False, 0
    return (True, PERMIT_TTL) if decision == "permit" else (False, DENY_TTL)


_cache = {}
_inflight = {}
_lock = threading.Lock()
_MAX_CACHED = 50000


def _decide(key, body):
    """The cached decision for key, or the node's; one question per key at a time (single flight)."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        event = _inflight.get(key)
        leader = event is None
        if leader:
            event = threading.Event()
            _inflight[key] = event
    if not leader:
        event.wait(TIMEOUT * 2 + 1)
        with _lock:
            hit = _cache.get(key)
        # The leader's answer, if it got one that may be cached; otherwise refused.
        return hit is not None and hit[1] > time.monotonic() and hit[0]
    try:
        permit, ttl = _ask(body)
        with _lock:
            if len(_cache) >= _MAX_CACHED:
                _cache.clear()
            if ttl > 0:
                _cache[key] = (permit, time.monotonic() + ttl)
            else:
                _cache.pop(key, None)
        return permit
    finally:
        with _lock:
            _inflight.pop(key, None)
        event.set()


def _credential(headers):
    """The caller's radledger credential: the Authorization header, else the session cookie."""
    auth = headers.get("authorization")
    if auth:
        return {"authorization": auth}
    for pair in headers.get("cookie", "").split(";"):
        name, eq, value = pair.partition("=")
        if eq and name.strip() == SESSION_COOKIE and value.strip():
            return {"session": value.strip()}
    return None


def Filter(uri, **request):
    try:
        method = request.get("method")
        method = {orthanc.HttpMethod.GET: "GET"}.get(method, "OTHER")
        headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
        auth = headers.get("authorization", "")
        if auth and any(hmac.compare_digest(auth, s) for s in SERVICE):
            return True
        path = uri.split("?", 1)[0]
        if method == "GET" and path == "/system":
            return True
        if not CONFIGURED:
            return False
        credential = _credential(headers)
        if credential is None:
            return False  # no credentials: nobody to decide for
        parts = [p for p in path.split("/") if p != ""]
        get = request.get("get", {}) or {}
        target = _target(method, parts, get)
        if target is None:
            return False  # not attributable to a study: fail closed
        studies, action = target
        why = {k: headers[k] for k in HEADERS if k in headers}
        secret = hashlib.sha256(json.dumps(credential, sort_keys=True).encode("utf-8")).hexdigest()
        for study in studies:
            key = (secret, study, action, tuple(sorted(why.items())))
            body = {"credential": credential, "ip": request.get("ip", ""), "study": study, "action": action,
                    "headers": why}
            if not _decide(key, body):
                return False
        return True
    except Exception as e:  # never let a bug serve data
        orthanc.LogError("radledger: filter failed (%s): refused" % type(e).__name__)
        return False


orthanc.RegisterIncomingHttpRequestFilter(Filter)
orthanc.LogWarning("radledger: authorization filter registered (node %s)" % (NODE.netloc or "unset"))
