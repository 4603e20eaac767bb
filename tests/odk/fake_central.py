"""A fake ODK Central, served over real HTTP on 127.0.0.1 from a thread.

It answers the calls SMS makes with the shapes of DESIGN.md ("ODK Central
facts", checked against a real Central with pyodk 1.3.0): session tokens,
projects, datasets (entity lists) with properties and entities, forms and
drafts, app users and form assignments, the OData Submissions feed (newest
first, ``$top``, ``$filter`` on ``__system/submissionDate`` /
``__system/updatedAt``, ``@odata.nextLink`` with ``$skiptoken`` on Central's
*own* host, 501 for ``$orderby`` with ``$skiptoken``), attachment listings
and downloads (ETag), review PATCH (bumps ``updatedAt``) and comments.

Faults are injected per request with ``fail(...)`` (status, or a delay for
timeouts). Nothing of SMS is faked: only Central.
"""

import base64
import datetime
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, quote, unquote, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

CENTRAL_OWN_HOST = "https://central.internal.example"
USERNAME = "sms@example.org"
PASSWORD = "central-password-1"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _xform_version(xml: str) -> str:
    # The form's own version attribute, not the XML declaration's nor odk:xforms-version.
    return re.search(r'(?<!<\?xml)\sversion="([^"]+)"', xml).group(1)


@dataclass
class FakeSubmission:
    id: str
    form_id: str
    values: dict
    submitter_id: int
    created: datetime.datetime
    instance_id: str
    updated: datetime.datetime | None = None
    review_state: str | None = None
    edits: int = 0
    attachments: dict = field(default_factory=dict)  # name -> bytes or None (not uploaded yet)
    deleted: datetime.datetime | None = None
    comments: list = field(default_factory=list)
    seq: int = 0
    # Central's submission versions, newest first: {instanceId, submitterId,
    # createdAt, current, submitter (with X-Extended-Metadata)}.
    versions: list = field(default_factory=list)

    def row(self) -> dict:
        present = sum(1 for v in self.attachments.values() if v is not None)
        return {
            "__id": self.id,
            **self.values,
            "meta": {"instanceID": self.instance_id},
            "__system": {
                "submissionDate": _iso(self.created),
                "updatedAt": _iso(self.updated),
                "submitterId": str(self.submitter_id),
                "submitterName": f"app user {self.submitter_id}",
                "attachmentsPresent": present,
                "attachmentsExpected": len(self.attachments),
                "status": None,
                "reviewState": self.review_state,
                "deviceId": None,
                "edits": self.edits,
                "formVersion": "v",
                "deletedAt": _iso(self.deleted),
            },
        }


@dataclass
class Fault:
    method: str
    pattern: str
    status: int = 500
    delay: float = 0.0
    times: int = 1
    after: int = 0  # matching requests let through before the fault starts


class FakeCentral:
    def __init__(self):
        self.lock = threading.RLock()
        self.tokens: set[str] = set()
        self.projects: dict[int, dict] = {}
        self.datasets: dict[tuple[int, str], dict] = {}
        self.entities: dict[tuple[int, str], dict[str, dict]] = {}
        self.forms: dict[tuple[int, str], dict] = {}
        self.app_users: dict[int, dict] = {}
        self.assignments: set[tuple[int, str, int]] = set()
        self.submissions: dict[str, FakeSubmission] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.bulk_creates = 0
        self._seq = 0
        self.server = None
        self.thread = None

    # --- Test controls -------------------------------------------------------------

    def start(self) -> "FakeCentral":
        class Server(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.server = make_server(
            "127.0.0.1", 0, self.app, server_class=Server, handler_class=QuietHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(
        self,
        method: str,
        pattern: str,
        *,
        status: int = 500,
        delay: float = 0.0,
        times: int = 1,
        after: int = 0,
    ):
        self.faults.append(Fault(method, pattern, status, delay, times, after))

    def submit(
        self,
        form_id: str,
        values: dict,
        *,
        submitter_id: int,
        attachments: dict | None = None,
        missing: tuple = (),
        when: datetime.datetime | None = None,
    ) -> FakeSubmission:
        """A submission as Collect sends it; names in ``missing`` are not uploaded yet."""
        with self.lock:
            self._seq += 1
            instance = f"uuid:{uuid.uuid4()}"
            files = {
                name: (None if name in missing else content)
                for name, content in (attachments or {}).items()
            }
            sub = FakeSubmission(
                id=instance,
                form_id=form_id,
                values=values,
                submitter_id=submitter_id,
                created=when or _now(),
                instance_id=instance,
                attachments=files,
                seq=self._seq,
            )
            actor = {"id": submitter_id, "type": "field_key"}
            actor["displayName"] = (self.app_users.get(submitter_id) or {}).get(
                "displayName", f"app user {submitter_id}"
            )
            sub.versions = [self._version(instance, sub.created, actor)]
            self.submissions[sub.id] = sub
            return sub

    def upload_late(self, sub: FakeSubmission, name: str, content: bytes) -> None:
        # A late attachment upload: updatedAt does NOT change (as on Central).
        with self.lock:
            sub.attachments[name] = content

    def edit(
        self,
        sub: FakeSubmission,
        values: dict,
        attachments: dict | None = None,
        *,
        editor_id: int = 7,
        editor_name: str = "Awa Diallo",
    ) -> None:
        """An edit in Central's web interface by the web user ``editor_id``
        (Collect can't edit a sent form): a new version of the submission,
        made by that user, as Central records it."""
        with self.lock:
            sub.values = {**sub.values, **values}
            sub.instance_id = f"uuid:{uuid.uuid4()}"
            sub.edits += 1
            sub.updated = _now()
            sub.review_state = "edited"
            if attachments:
                sub.attachments.update(attachments)
            for version in sub.versions:
                version["current"] = False
            editor = {"id": editor_id, "type": "user", "displayName": editor_name}
            sub.versions.insert(0, self._version(sub.instance_id, sub.updated, editor))

    @staticmethod
    def _version(instance_id: str, when: datetime.datetime, actor: dict) -> dict:
        return {
            "instanceId": instance_id,
            "submitterId": actor["id"],
            "deviceId": None,
            "createdAt": _iso(when),
            "instanceName": None,
            "current": True,
            "userAgent": "fake",
            "submitter": {**actor, "createdAt": _iso(when), "updatedAt": None, "deletedAt": None},
        }

    # --- WSGI ----------------------------------------------------------------------

    def app(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.requests.append((method, path))
        for fault in list(self.faults):
            if fault.method == method and re.search(fault.pattern, path):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                if fault.delay:
                    import time

                    time.sleep(fault.delay)
                else:
                    return self._json(start_response, {"message": "fault"}, status=fault.status)
        if path == "/v1/sessions" and method == "POST":
            data = json.loads(body or b"{}")
            if data.get("email") != USERNAME or data.get("password") != PASSWORD:
                return self._json(start_response, {"code": 401.2, "message": "bad"}, status=401)
            token = uuid.uuid4().hex
            self.tokens.add(token)
            return self._json(start_response, {"token": token, "expiresAt": _iso(_now())})
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self._json(start_response, {"code": 401.2, "message": "auth"}, status=401)
        with self.lock:
            # Read by the route under the same lock (one request at a time).
            self.extended = environ.get("HTTP_X_EXTENDED_METADATA") == "true"
            return self._route(method, path, query, body, start_response)

    def _json(self, start_response, data, status=200, headers=()):
        payload = json.dumps(data).encode()
        start_response(
            f"{status} X",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers],
        )
        return [payload]

    def _route(self, method, path, query, body, start_response):  # noqa: C901
        j = lambda data, status=200: self._json(start_response, data, status)  # noqa: E731
        parts = [unquote(p) for p in path.split("/")[2:]]  # after /v1/
        if parts == ["projects"] and method == "GET":
            return j(list(self.projects.values()))
        if parts == ["projects"] and method == "POST":
            pid = len(self.projects) + 1
            self.projects[pid] = {"id": pid, "name": json.loads(body)["name"]}
            return j(self.projects[pid])
        if len(parts) < 3 or parts[0] != "projects" or int(parts[1]) not in self.projects:
            return j({"message": "not found"}, 404)
        pid, rest = int(parts[1]), parts[2:]
        now = _iso(_now())
        if rest == ["datasets"]:
            if method == "GET":
                return j([d for (p, _n), d in self.datasets.items() if p == pid])
            name = json.loads(body)["name"]
            self.datasets[(pid, name)] = {
                "name": name,
                "projectId": pid,
                "createdAt": now,
                "approvalRequired": False,
                "properties": [],
            }
            self.entities[(pid, name)] = {}
            return j(self.datasets[(pid, name)])
        if rest[0] == "datasets" and len(rest) == 2:
            return j(self.datasets[(pid, rest[1])])
        if rest[0] == "datasets" and rest[2:] == ["properties"]:
            self.datasets[(pid, rest[1])]["properties"].append(
                {
                    "name": json.loads(body)["name"],
                    "odataName": json.loads(body)["name"],
                    "publishedAt": now,
                    "forms": [],
                }
            )
            return j({"success": True})
        if rest[0] == "datasets" and rest[2] == "entities":
            store = self.entities[(pid, rest[1])]
            if method == "POST" and "entities" in json.loads(body):
                # The bulk create: all or none, every UUID v4 and new.
                data = json.loads(body)
                if not isinstance(data.get("source"), dict) or not data["source"].get("name"):
                    return j({"message": "source.name required"}, 400)
                self.bulk_creates += 1
                new = data["entities"]
                if any(uuid.UUID(e["uuid"]).version != 4 for e in new):
                    return j({"message": "uuid must be v4"}, 400)
                if any(e["uuid"] in store for e in new):
                    return j({"message": "exists"}, 409)
                for e in new:
                    store[e["uuid"]] = {"label": e["label"], "data": e["data"], "version": 1}
                return j({"success": True})
            if method == "POST":
                data = json.loads(body)
                if uuid.UUID(data["uuid"]).version != 4:
                    return j({"message": "uuid must be v4"}, 400)
                if data["uuid"] in store:
                    return j({"message": "exists"}, 409)
                store[data["uuid"]] = {"label": data["label"], "data": data["data"], "version": 1}
                return j(self._entity(data["uuid"], store[data["uuid"]]))
            eid = rest[3]
            if eid not in store:
                return j({"message": "not found"}, 404)
            if method == "PATCH":
                data = json.loads(body)
                store[eid].update({k: v for k, v in data.items() if k in ("label", "data")})
                store[eid]["version"] += 1
                return j(self._entity(eid, store[eid]))
            if method == "DELETE":
                del store[eid]
                return j({"success": True})
        if rest == ["app-users"] and method == "GET":
            return j([a for a in self.app_users.values() if a["projectId"] == pid])
        if rest == ["app-users"] and method == "POST":
            uid = 100 + len(self.app_users) + 1
            self.app_users[uid] = {
                "id": uid,
                "projectId": pid,
                "displayName": json.loads(body)["displayName"],
                "token": uuid.uuid4().hex + uuid.uuid4().hex,
                "type": "field_key",
                "createdAt": now,
            }
            return j(self.app_users[uid])
        if rest == ["forms"] and method == "POST":
            xml = body.decode()
            form_id = re.search(r'<data id="([^"]+)"', xml) or re.search(r' id="([^"]+)"', xml)
            fid = form_id.group(1)
            if (pid, fid) in self.forms:
                return j({"message": "exists"}, 409)
            version = _xform_version(xml)
            self.forms[(pid, fid)] = {"xml": xml, "version": version, "versions": [], "draft": None}
            self.forms[(pid, fid)]["draft"] = xml
            return j(self._form(pid, fid))
        if rest[0] != "forms" or len(rest) < 2:
            return j({"message": "not found"}, 404)
        fid = rest[1]
        if fid.endswith(".svc") and rest[2:] == ["Submissions"]:
            return self._odata(pid, fid[:-4], query, start_response)
        form = self.forms.get((pid, fid))
        if form is None:
            return j({"message": "form not found"}, 404)
        if rest[2:] == [] and method == "GET":
            return j(self._form(pid, fid))
        if rest[2:] == ["assignments", "app-user"] and method == "GET":
            ids = sorted(a for p, f, a in self.assignments if (p, f) == (pid, fid))
            return j([{"id": a, "type": "field_key"} for a in ids])
        if rest[2:] == ["draft"] and method == "POST":
            form["draft"] = body.decode()
            return j({"success": True})
        if rest[2:] == ["draft", "publish"] and method == "POST":
            xml = form["draft"]
            version = _xform_version(xml)
            if version in form["versions"]:
                return j({"message": "version exists"}, 409)
            form["versions"].append(version)
            form["xml"], form["version"], form["draft"] = xml, version, None
            return j({"success": True})
        if rest[2] == "assignments" and method == "POST":
            self.assignments.add((pid, fid, int(rest[4])))
            return j({"success": True})
        if rest[2] == "submissions":
            sub = self.submissions.get(rest[3])
            if sub is None or sub.form_id != fid:
                return j({"message": "not found"}, 404)
            tail = rest[4:]
            if tail == [] and method == "PATCH":
                sub.review_state = json.loads(body)["reviewState"]
                sub.updated = _now()
                return j(
                    {
                        "instanceId": sub.id,
                        "submitterId": sub.submitter_id,
                        "createdAt": _iso(sub.created),
                        "reviewState": sub.review_state,
                        "updatedAt": _iso(sub.updated),
                    }
                )
            if tail == ["comments"] and method == "POST":
                sub.comments.append(json.loads(body)["body"])
                return j({"body": sub.comments[-1], "actorId": 1, "createdAt": now})
            if tail == ["versions"] and method == "GET":
                # The submitter object only with X-Extended-Metadata, as on Central.
                if getattr(self, "extended", False):
                    return j(sub.versions)
                return j(
                    [{k: v for k, v in ver.items() if k != "submitter"} for ver in sub.versions]
                )
            if tail == ["attachments"]:
                return j([{"name": n, "exists": c is not None} for n, c in sub.attachments.items()])
            if len(tail) == 2 and tail[0] == "attachments":
                content = sub.attachments.get(tail[1])
                if content is None:
                    return j({"message": "not found"}, 404)
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", "image/jpeg"),
                        ("Content-Length", str(len(content))),
                        ("ETag", '"' + hashlib.md5(content).hexdigest() + '"'),
                    ],
                )
                return [content]
        return j({"message": "not found"}, 404)

    def _entity(self, eid, e):
        now = _iso(_now())
        return {
            "uuid": eid,
            "creatorId": 1,
            "createdAt": now,
            "updatedAt": now,
            "currentVersion": {
                "label": e["label"],
                "current": True,
                "createdAt": now,
                "creatorId": 1,
                "userAgent": "fake",
                "version": e["version"],
                "data": e["data"],
            },
        }

    def _form(self, pid, fid):
        form = self.forms[(pid, fid)]
        return {
            "projectId": pid,
            "xmlFormId": fid,
            "version": form["version"],
            "hash": "x",
            "state": "open",
            "createdAt": _iso(_now()),
            "name": fid,
            "enketoId": None,
            "keyId": None,
            "updatedAt": None,
            # Never published (only a draft): no published version yet.
            "publishedAt": _iso(_now()) if form["versions"] else None,
        }

    def _odata(self, pid, fid, query, start_response):
        if "$orderby" in query and "$skiptoken" in query:
            return self._json(start_response, {"message": "not implemented"}, status=501)
        rows = [s for s in self.submissions.values() if s.form_id == fid and s.deleted is None]
        # Newest first, like Central.
        rows.sort(key=lambda s: s.seq, reverse=True)
        flt = (query.get("$filter") or [""])[0]
        if flt:
            conditions = re.findall(
                r"__system/(submissionDate|updatedAt) (ge|gt) (\S+?)\)?(?: |$)", flt
            )
            if not conditions:
                return self._json(start_response, {"message": f"bad filter {flt}"}, status=400)

            def keep(s):
                for prop, op, value in conditions:
                    actual = s.created if prop == "submissionDate" else s.updated
                    bound = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                    if actual is not None and (actual >= bound if op == "ge" else actual > bound):
                        return True
                return False

            rows = [s for s in rows if keep(s)]
        if "$skiptoken" in query:
            token = json.loads(base64.b64decode(query["$skiptoken"][0][2:]))
            rows = [s for s in rows if s.seq < token["seq"]]
        top = int((query.get("$top") or ["1000"])[0])
        page, more = rows[:top], len(rows) > top
        data = {"@odata.context": "x", "value": [s.row() for s in page]}
        if more:
            token = "01" + base64.b64encode(json.dumps({"seq": page[-1].seq}).encode()).decode()
            params = {"$top": str(top), "$skiptoken": token}
            if flt:
                params["$filter"] = flt
            data["@odata.nextLink"] = (
                f"{CENTRAL_OWN_HOST}/v1/projects/{pid}/forms/{quote(fid)}.svc/Submissions?"
                + urlencode(params)
            )
        return self._json(start_response, data)


# --- In a process of its own (the benchmark) --------------------------------------


def _serve(pipe) -> None:
    """Child process: serve a FakeCentral and obey the parent's commands."""
    central = FakeCentral().start()
    pipe.send(central.url)
    while True:
        command, args = pipe.recv()
        if command == "stop":
            break
        if command == "submit_many":
            form_id, rows, submitter_id = args
            for values in rows:
                central.submit(form_id, values, submitter_id=submitter_id)
            pipe.send(len(rows))
        elif command == "entity_count":
            with central.lock:
                pipe.send(sum(len(store) for store in central.entities.values()))
        elif command == "review_states":
            with central.lock:
                states: dict = {}
                for sub in central.submissions.values():
                    states[sub.review_state] = states.get(sub.review_state, 0) + 1
            pipe.send(states)
    central.stop()
    pipe.send("stopped")


class FakeCentralProcess:
    """A FakeCentral served from a separate process, so its request handling
    does not compete for the interpreter lock with the code under measure."""

    def start(self) -> "FakeCentralProcess":
        import multiprocessing

        # spawn, not fork: a forked child would inherit (and could close) the
        # parent's open database connections.
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        self.url = self.pipe.recv()
        return self

    def _call(self, command: str, *args):
        self.pipe.send((command, args))
        return self.pipe.recv()

    def submit_many(self, form_id: str, rows: list[dict], *, submitter_id: int) -> int:
        return self._call("submit_many", form_id, rows, submitter_id)

    def entity_count(self) -> int:
        return self._call("entity_count")

    def review_states(self) -> dict:
        return self._call("review_states")

    def stop(self) -> None:
        try:
            self._call("stop")
        finally:
            self.process.join(timeout=10)
