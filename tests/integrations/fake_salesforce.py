"""A local server speaking the subset of the Salesforce REST API that integrations.connectors uses (HTTPS on
127.0.0.1 with a self-signed certificate, since simple-salesforce always builds https:// URLs).

Covered, shaped after the REST API developer guide:
- ``POST /services/oauth2/token`` (client_credentials) → ``{"access_token", "instance_url", "token_type"}``;
  bad client → 400 ``{"error": "invalid_client"}``; a revoked token → 401 ``[{"errorCode": "INVALID_SESSION_ID"}]``.
- ``GET …/query/`` and ``…/queryAll/`` with ``q=SELECT f, … FROM X [WHERE (LastModifiedDate > T OR (LastModifiedDate = T
  AND Id > 'ID'))] ORDER BY LastModifiedDate, Id`` → pages of ``PAGE_SIZE`` (2,000) with ``done``/``nextRecordsUrl``;
  the next pages at ``…/query/<locator>-<offset>``. An unknown column → 400 ``INVALID_FIELD``; ``queryAll`` includes
  deleted records (``IsDeleted``: true), ``query`` does not.
- sObjects: Account, Contact, Lead, Opportunity, and (pull only, Update G2) Product2, Pricebook2 and PricebookEntry (its Pricebook2Id /
  Product2Id as plain reference columns; no relationship queries);
- ``GET …/sobjects/X/describe/``; ``PATCH …/sobjects/X/ExtField/value`` (upsert: 201 created or 204 updated);
  ``PATCH …/composite/sobjects/X/ExtField`` (sObject Collections upsert, per-record results, STRING_TOO_LONG /
  INVALID_FIELD errors).
- Faults on demand: ``server.fail_next.append((status, body))`` answers the next API calls with them (401/403/429/503);
  ``server.down = True`` answers every call with 503 (an outage) until it is set back.

The state is plain dicts: ``server.records[obj][id] = {...}``; ``server.put(obj, **fields)`` creates or changes a record
as a CRM user would (LastModifiedDate moves to the server clock, which ticks 1 ms per write unless frozen).
"""

import datetime as dt
import ipaddress
import json
import re
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PAGE_SIZE = 2000
API = "/services/data/v59.0/"
CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"  # noqa: S105 (the fake's own test credentials)

SCHEMAS = {
    "Account": {"Name": ("string", 255), "Website": ("url", 255), "Description": ("textarea", 32000),
                "Phone": ("phone", 40), "Industry": ("picklist", 255), "PRM_Code__c": ("string", 64)},
    "Lead": {"LastName": ("string", 80), "FirstName": ("string", 40), "Company": ("string", 255),
             "Email": ("email", 80), "Phone": ("phone", 40), "Status": ("picklist", 255),
             "PRM_Lead_Id__c": ("string", 18)},
    "Contact": {"AccountId": ("reference", 18), "FirstName": ("string", 40), "LastName": ("string", 80),
                "Email": ("email", 80), "Phone": ("phone", 40), "MobilePhone": ("phone", 40),
                "Title": ("string", 128), "PRM_Contact_Id__c": ("string", 18)},
    "Opportunity": {"AccountId": ("reference", 18), "Name": ("string", 120), "StageName": ("picklist", 255),
                    "Amount": ("currency", None), "CloseDate": ("date", None), "Description": ("textarea", 32000),
                    "PRM_Deal_Id__c": ("string", 18), "PRM_Registration_Status__c": ("picklist", 255),
                    "PRM_Decision_Reason__c": ("textarea", 1000)},
    "Product2": {"Name": ("string", 255), "ProductCode": ("string", 255), "Description": ("textarea", 4000),
                 "IsActive": ("boolean", None), "Family": ("picklist", 255)},
    "Pricebook2": {"Name": ("string", 255), "Description": ("string", 255), "IsActive": ("boolean", None),
                   "IsStandard": ("boolean", None)},
    "PricebookEntry": {"Pricebook2Id": ("reference", 18), "Product2Id": ("reference", 18),
                       "UnitPrice": ("currency", None), "IsActive": ("boolean", None),
                       "UseStandardPrice": ("boolean", None)},
}
STANDARD = {"Id": ("id", 18), "LastModifiedDate": ("datetime", None), "IsDeleted": ("boolean", None)}
PREFIX = {"Account": "001", "Contact": "003", "Opportunity": "006", "Lead": "00Q", "Product2": "01t", "Pricebook2": "01s", "PricebookEntry": "01u"}

_SOQL = re.compile(
    r"^SELECT (?P<cols>.+?) FROM (?P<obj>\w+)"
    r"(?: WHERE \(LastModifiedDate > (?P<t1>\S+) OR \(LastModifiedDate = (?P<t2>\S+) AND Id > '(?P<id>\w+)'\)\))?"
    r" ORDER BY LastModifiedDate, Id$"
)
_SAMPLE = re.compile(r"^SELECT (?P<cols>.+?) FROM (?P<obj>\w+) ORDER BY LastModifiedDate DESC, Id LIMIT (?P<limit>\d+)$")


def _sf_time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _parse_soql_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


def _self_signed(directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


class FakeSalesforce:
    def __init__(self):
        self.records: dict[str, dict[str, dict]] = {name: {} for name in SCHEMAS}
        self.schemas = {name: dict(fields) for name, fields in SCHEMAS.items()}
        self.tokens: set[str] = set()
        self.fail_next: list[tuple[int, object]] = []
        self.down = False  # an outage: every call, the token endpoint's too, answers 503 until set back
        self.calls: list[tuple[str, str]] = []
        self.clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.frozen = False
        self.counter = 0
        self.lock = threading.Lock()
        self._results: dict[str, list[dict]] = {}
        self._dir = tempfile.TemporaryDirectory()
        self.cert_path, key_path = _self_signed(self._dir.name)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> "FakeSalesforce":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._dir.cleanup()

    # --- what a CRM user does ---------------------------------------------------------------------------------------

    def tick(self) -> dt.datetime:
        if not self.frozen:
            self.clock += dt.timedelta(milliseconds=1)
        return self.clock

    def new_id(self, obj: str) -> str:
        self.counter += 1
        return f"{PREFIX[obj]}{self.counter:015d}"

    def put(self, obj: str, record_id: str | None = None, **fields) -> str:
        with self.lock:
            record_id = record_id or self.new_id(obj)
            record = self.records[obj].setdefault(record_id, {"Id": record_id, "IsDeleted": False})
            record.update(fields)
            record["LastModifiedDate"] = _sf_time(self.tick())
            return record_id

    def bulk_load(self, obj: str, rows: list[dict]) -> None:
        """Many records at once (the bench): each gets an id and the next clock value."""
        with self.lock:
            table = self.records[obj]
            for fields in rows:
                record_id = self.new_id(obj)
                table[record_id] = {"Id": record_id, "IsDeleted": False, **fields,
                                    "LastModifiedDate": _sf_time(self.tick())}

    def delete(self, obj: str, record_id: str) -> None:
        self.put(obj, record_id, IsDeleted=True)

    # --- the API ------------------------------------------------------------------------------------------------

    def query(self, soql: str, include_deleted: bool) -> tuple[int, object]:
        match = _SOQL.match(soql.strip()) or _SAMPLE.match(soql.strip())
        if not match or match["obj"] not in self.records:
            return 400, [{"errorCode": "MALFORMED_QUERY", "message": f"unsupported query: {soql[:200]}"}]
        obj = match["obj"]
        columns = [c.strip() for c in match["cols"].split(",")]
        known = {**STANDARD, **self.schemas[obj]}
        for column in columns:
            if column not in known:
                return 400, [{"errorCode": "INVALID_FIELD",
                              "message": f"No such column '{column}' on entity '{obj}'."}]
        with self.lock:
            rows = [r for r in self.records[obj].values() if include_deleted or not r.get("IsDeleted")]
        if "limit" in match.groupdict():
            rows.sort(key=lambda r: (r["LastModifiedDate"], r["Id"]), reverse=True)
            rows = rows[:int(match["limit"])]
            records = [{"attributes": {"type": obj}, **{c: r.get(c) for c in columns}} for r in rows]
            return 200, {"totalSize": len(records), "done": True, "records": records}
        if match["t1"]:
            since = (_parse_soql_time(match["t1"]), match["id"])
            rows = [r for r in rows if (_parse_soql_time(r["LastModifiedDate"]), r["Id"]) > since]
        rows.sort(key=lambda r: (r["LastModifiedDate"], r["Id"]))
        result = [{"attributes": {"type": obj, "url": f"{API}sobjects/{obj}/{r['Id']}"},
                   **{c: r.get(c) for c in columns}} for r in rows]
        locator = f"01g{len(self._results):015d}"
        self._results[locator] = result
        return 200, self._page(locator, 0)

    def _page(self, locator: str, offset: int) -> dict:
        result = self._results[locator]
        page = result[offset:offset + PAGE_SIZE]
        answer = {"totalSize": len(result), "done": offset + PAGE_SIZE >= len(result), "records": page}
        if not answer["done"]:
            answer["nextRecordsUrl"] = f"{API}query/{locator}-{offset + PAGE_SIZE}"
        else:
            self._results.pop(locator, None)
        return answer

    def describe(self, obj: str) -> dict:
        fields = [{"name": name, "label": name.replace("__c", "").replace("_", " "), "type": kind, "length": length or 0,
                   "updateable": name not in STANDARD} for name, (kind, length) in {**STANDARD, **self.schemas[obj]}.items()]
        return {"name": obj, "fields": fields}

    def _check(self, obj: str, data: dict) -> list[dict]:
        errors = []
        for name, value in data.items():
            if name == "attributes":
                continue
            if name not in self.schemas[obj]:
                errors.append({"statusCode": "INVALID_FIELD", "message": f"No such column '{name}' on sobject of "
                               f"type {obj}", "fields": [name]})
            elif isinstance(value, str) and self.schemas[obj][name][1] and len(value) > self.schemas[obj][name][1]:
                errors.append({"statusCode": "STRING_TOO_LONG", "message": f"{name}: data value too large",
                               "fields": [name]})
        return errors

    def upsert(self, obj: str, field: str, key: str, data: dict) -> tuple[dict, bool]:
        errors = self._check(obj, data)
        if errors:
            return {"id": None, "success": False, "errors": errors, "created": False}, False
        with self.lock:
            found = next((r["Id"] for r in self.records[obj].values() if r.get(field) == key), None)
        if field == "Id" and found is None:
            return {"id": None, "success": False, "created": False,
                    "errors": [{"statusCode": "NOT_FOUND", "message": "Provided external ID field does not exist or "
                                "is not accessible", "fields": ["Id"]}]}, False
        # --- deals: as Salesforce, an Opportunity is not created without its required fields ---
        missing = [name for name in ("Name", "StageName", "CloseDate") if not data.get(name)]
        if obj == "Opportunity" and found is None and missing:
            return {"id": None, "success": False, "created": False,
                    "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "fields": missing,
                                "message": f"Required fields are missing: [{', '.join(missing)}]"}]}, False
        # --- end deals ---
        # --- contacts: a Contact is not created without its LastName ---
        if obj == "Contact" and found is None and not data.get("LastName"):
            return {"id": None, "success": False, "created": False,
                    "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"],
                                "message": "Required fields are missing: [LastName]"}]}, False
        fields = {k: v for k, v in data.items() if k != "attributes"}
        fields[field] = key
        record_id = self.put(obj, found, **fields)
        return {"id": record_id, "success": True, "errors": [], "created": found is None}, found is None


def _handler(server: FakeSalesforce):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: object = None, headers: dict | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _authorised(self) -> bool:
            if server.down:
                self._send(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "the org is down"}])
                return False
            if server.fail_next:
                status, body = server.fail_next.pop(0)
                headers = {"Retry-After": "1"} if status == 429 else None
                self._send(status, body, headers)
                return False
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token not in server.tokens:
                self._send(401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])
                return False
            return True

        def do_POST(self):  # noqa: N802
            path = urlparse(self.path).path
            raw = self._body()
            server.calls.append(("POST", path))
            if path == "/services/oauth2/token":
                if server.down:
                    return self._send(503, "<html>Service unavailable</html>")
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                        "client_credentials", CLIENT_ID, CLIENT_SECRET):
                    return self._send(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
                token = f"00D!{len(server.tokens)}"
                server.tokens.add(token)
                return self._send(200, {"access_token": token, "instance_url": server.url, "token_type": "Bearer"})
            if path == "/_fake/load":  # the bench's controls (not Salesforce): add or touch records
                order = json.loads(raw)
                if order.get("touch"):
                    ids = list(server.records[order["object"]])[:: max(1, len(server.records[order["object"]])
                                                                       // order["touch"])][:order["touch"]]
                    for record_id in ids:
                        server.put(order["object"], record_id, Name=f"Touched {server.clock.timestamp()} {record_id}")
                    return self._send(200, {"touched": len(ids)})
                if order["object"] == "Lead":
                    rows = [{"LastName": f"Lead {i}", "Company": f"Company {i}", "Email": f"lead{i}@example.com",
                             "Status": "Open - Not Contacted"} for i in range(order["count"])]
                elif order["object"] == "Contact":  # ``count`` Contacts over the loaded Accounts in turn: Email + Phone
                    accounts = list(server.records["Account"])
                    rows = [{"AccountId": accounts[i % len(accounts)], "FirstName": "Contact", "LastName": f"{i}",
                             "Email": f"contact{i}@example.com", "Phone": f"+1 555 {i:07d}"}
                            for i in range(order["count"])]
                elif order["object"] == "Product2":
                    rows = [{"Name": f"Product {i}", "ProductCode": f"BENCH-{i}", "Description": "", "IsActive": True}
                            for i in range(order["count"])]
                elif order["object"] == "PricebookEntry":  # a standard book pricing the first ``count`` products
                    book = server.put("Pricebook2", Name="Standard Price Book", IsActive=True, IsStandard=True)
                    rows = [{"Pricebook2Id": book, "Product2Id": pid, "UnitPrice": 10 + i % 500, "IsActive": True}
                            for i, pid in enumerate(list(server.records["Product2"])[:order["count"]])]
                else:
                    rows = [{"Name": f"{order['object']} {i}", "Website": f"https://a{i}.example.com"}
                            for i in range(order["count"])]
                server.bulk_load(order["object"], rows)
                return self._send(200, {"total": len(server.records[order["object"]])})
            return self._send(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

        def do_GET(self):  # noqa: N802
            url = urlparse(self.path)
            server.calls.append(("GET", url.path))
            if not self._authorised():
                return None
            rest = url.path.removeprefix(API)
            if rest in ("query/", "queryAll/"):
                query = parse_qs(url.query).get("q", [""])[0]
                return self._send(*server.query(query, include_deleted=rest == "queryAll/"))
            if rest.startswith("query/"):
                locator, _, offset = rest.removeprefix("query/").partition("-")
                if locator not in server._results:
                    return self._send(400, [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid locator"}])
                return self._send(200, server._page(locator, int(offset)))
            match = re.fullmatch(r"sobjects/(\w+)/describe/?", rest)
            if match and match[1] in server.records:
                return self._send(200, server.describe(match[1]))
            return self._send(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

        def do_PATCH(self):  # noqa: N802
            url = urlparse(self.path)
            raw = self._body()
            server.calls.append(("PATCH", url.path))
            if not self._authorised():
                return None
            rest = url.path.removeprefix(API)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._send(400, [{"errorCode": "JSON_PARSER_ERROR", "message": "bad JSON"}])
            match = re.fullmatch(r"composite/sobjects/(\w+)/(\w+)", rest)
            if match and match[1] in server.records:
                if len(body.get("records", [])) > 200:
                    return self._send(400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": "more than 200 records"}])
                answers = []
                for record in body.get("records", []):
                    key = record.get(match[2])
                    answer, _ = server.upsert(match[1], match[2], key, {k: v for k, v in record.items() if k != match[2]})
                    answers.append(answer)
                return self._send(200, answers)
            match = re.fullmatch(r"sobjects/(\w+)/(\w+)/([^/]+)", rest)
            if match and match[1] in server.records:
                answer, created = server.upsert(match[1], match[2], unquote(match[3]), body)
                if not answer["success"]:
                    return self._send(400, [{"errorCode": answer["errors"][0]["statusCode"],
                                             "message": answer["errors"][0]["message"]}])
                return self._send(201, answer) if created else self._send(204)
            return self._send(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])

    return Handler


if __name__ == "__main__":  # the bench runs it as its own process: prints its URL and certificate, serves until killed
    import sys

    fake = FakeSalesforce().start()
    sys.stdout.write(f"{fake.url} {fake.cert_path}\n")
    sys.stdout.flush()
    fake.thread.join()
