"""Slack's Web API as documented, for the calls reportctl makes (used by httpd.py).

Slack itself is not reachable from the test machines: reportctl's Slack destination
is tested against this implementation of the documented contract:

- POST files.getUploadURLExternal, form fields `filename` and `length` (bytes)
  -> {"ok": true, "upload_url": URL, "file_id": ID}
- POST to upload_url with the bytes (exactly `length` of them) -> 200 "OK - LENGTH"
- POST files.completeUploadExternal, form fields `files` (a JSON array of
  {"id", "title"}, every id uploaded), `channel_id`, `initial_comment`
  -> {"ok": true, "files": [{"id", "title"}]}
- POST chat.postMessage, JSON or form: `channel`, `text` -> {"ok": true, ...}

Every answer is HTTP 200 with "ok": true, or "ok": false and an `error`:
`not_authed` (no bearer token), `invalid_auth` (another token), `invalid_arguments`,
`channel_not_found`, `not_in_channel`, `unknown_method`; 429 carries Retry-After.

Paths: /slack/KEY/api/METHOD and /slack/KEY/upload/FILE_ID (KEY: the test's own).
Test hooks: channel CNOTINCHANNEL answers not_in_channel, CNOTFOUND
channel_not_found; a KEY containing "ratelimited" answers the first call of each
method with HTTP 429 and Retry-After: 1.
"""

import json
import threading
import uuid
from urllib.parse import parse_qs

LOCK = threading.Lock()
UPLOADS = {}  # file_id -> {"key", "filename", "length", "sha256" once uploaded}
LIMITED = set()  # (key, method) already answered 429


def handle(path, headers, body, token, base_url):
    """The answer to one request: (status, extra headers, body bytes, record)."""
    parts = path.split("?")[0].split("/")
    # ['', 'slack', KEY, 'api'|'upload', NAME]
    if len(parts) != 5 or parts[1] != "slack":
        return reply({"ok": False, "error": "unknown_method"}, {})
    key, kind, name = parts[2], parts[3], parts[4]
    if kind == "upload":
        return upload(name, body)
    if "ratelimited" in key:
        with LOCK:
            first = (key, name) not in LIMITED
            LIMITED.add((key, name))
        if first:
            return 429, {"Retry-After": "1"}, b'{"ok":false,"error":"ratelimited"}', {"slack": "429"}
    auth = headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return reply({"ok": False, "error": "not_authed"}, {})
    if auth[len("Bearer "):] != token:
        return reply({"ok": False, "error": "invalid_auth"}, {})
    fields = read_fields(headers, body)
    if fields is None:
        return reply({"ok": False, "error": "invalid_arguments"}, {})
    methods = {
        "files.getUploadURLExternal": get_upload_url,
        "files.completeUploadExternal": complete_upload,
        "chat.postMessage": post_message,
    }
    if name not in methods:
        return reply({"ok": False, "error": "unknown_method"}, {})
    return methods[name](key, fields, base_url)


def reply(answer, record):
    record = dict(record, answer=answer)
    return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode(), {"slack": record}


def read_fields(headers, body):
    ctype = headers.get("Content-Type", "")
    try:
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if ctype.startswith("application/json"):
            v = json.loads(body)
            return {k: (x if isinstance(x, str) else json.dumps(x)) for k, x in v.items()}
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def get_upload_url(key, f, base_url):
    filename, length = f.get("filename", ""), f.get("length", "")
    if not filename or not length.isdigit() or int(length) <= 0:
        return reply({"ok": False, "error": "invalid_arguments"}, {"fields": f})
    file_id = "F" + uuid.uuid4().hex[:10].upper()
    with LOCK:
        UPLOADS[file_id] = {"key": key, "filename": filename, "length": int(length)}
    url = f"{base_url}/slack/{key}/upload/{file_id}"
    return reply({"ok": True, "upload_url": url, "file_id": file_id}, {"fields": f})


def upload(file_id, body):
    import hashlib
    with LOCK:
        u = UPLOADS.get(file_id)
        if u is None or len(body) != u["length"]:
            return 400, {}, b"bad upload", {"slack": {"upload": file_id, "ok": False}}
        u["sha256"] = hashlib.sha256(body).hexdigest()
    text = f"OK - {len(body)}".encode()
    return 200, {"Content-Type": "text/plain"}, text, {"slack": {"upload": file_id, "ok": True, "sha256": u["sha256"], "filename": u["filename"]}}


def channel_error(channel):
    if not channel:
        return "invalid_arguments"
    return {"CNOTINCHANNEL": "not_in_channel", "CNOTFOUND": "channel_not_found"}.get(channel)


def complete_upload(key, f, _base_url):
    try:
        files = json.loads(f.get("files", ""))
        ok = isinstance(files, list) and files and all(
            isinstance(x, dict) and set(x) <= {"id", "title"} and "id" in x for x in files)
    except ValueError:
        ok = False
    if not ok:
        return reply({"ok": False, "error": "invalid_arguments"}, {"fields": f})
    with LOCK:
        for x in files:
            u = UPLOADS.get(x["id"])
            if u is None or u["key"] != key or "sha256" not in u:
                return reply({"ok": False, "error": "file_not_found"}, {"fields": f})
    err = channel_error(f.get("channel_id", ""))
    if err:
        return reply({"ok": False, "error": err}, {"fields": f})
    return reply({"ok": True, "files": files}, {"fields": f})


def post_message(_key, f, _base_url):
    err = channel_error(f.get("channel", "")) or (None if f.get("text") else "no_text")
    if err:
        return reply({"ok": False, "error": err}, {"fields": f})
    return reply({"ok": True, "channel": f["channel"], "ts": "1700000000.000100"}, {"fields": f})
