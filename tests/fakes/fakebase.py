"""Loopback fake API servers for corral's HTTP tool tests (Python 3 stdlib only).

A fake is a subclass of Fake with routes taken from the official contract files in
tests/tools/contracts/ (Swagger 2.0 or OpenAPI 3.x: path templates, methods, path/query
parameters, request body schemas) plus handlers that answer with spec-shaped bodies.

Run:   python3 fake_x.py LOGFILE [--token T] [--mode JSON]... [--tls CERT KEY]
Start: prints "PORT <n>" on stdout once listening on 127.0.0.1 (ephemeral port).
Log:   one JSON object per request, written and flushed BEFORE the response is sent:
       {"n", "method", "raw_path", "path", "route", "params", "query", "headers", "body",
        "violations": [...], "status", "mode"}
Every request is checked against the contract: unknown route or method, unknown or missing
query parameters, bad parameter types, body schema (unknown fields too), User-Agent, and the
fake's own rules (check()). A violation is answered with 400 (or what the real server answers,
e.g. ArgoCD's 415) in the API's error shape naming the violation, and recorded in the log.

Failure modes (scripted): POST /__fake/control {"modes": [MODE, ...], "clear": bool,
"state": {...}} queues modes; each API request takes the first queued mode whose optional
"method"/"match" (regex on the raw path) fit, and decrements its "count" (default 1, -1 =
forever). --mode JSON on the command line queues one at start. MODE "mode" is one of:
  status     answer "status" (401/403/404/409/415/422/429/5xx...) with the API's error body;
             "retry_after" adds Retry-After, "headers" adds more, "message" sets the text
  slow       answer normally but send the body "chunk" bytes every "delay_ms" ms
  hang       wait "seconds" (default 60) before answering
  oversize   answer 200 with a valid JSON body of "size" bytes ("no_length": no Content-Length)
  malformed  answer 200 with a truncated JSON body
  close      close the connection without answering
  echo_auth  answer normally, with the Authorization header copied into message fields
             (the fake's echo_auth()); with "status" it goes into the error message instead
GET /__fake/log returns the log as a JSON array; control requests are not logged.

Success-body modes (state, for fakes whose set_state calls set_body_mode()): {"body_mode":
"malformed"|"oversize", "body_count": N}: the next N answers with a 2xx status (204 excepted)
keep their status but get a truncated JSON body, or a 9 MiB one, so that operations whose
success is 201/202 are tested too (the modes above always answer 200).
"""
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY_MAX = 4 << 20
LOG_BODY_MAX = 64 << 10


# ------------------------------------------------------------------ contracts

class Route:
    def __init__(self, method, template, op_id, params=None, body=None, body_type=None,
                 body_required=False):
        self.method = method
        self.template = template
        self.op_id = op_id
        self.segs = template.strip('/').split('/')
        self.params = params or {}        # name -> {"in", "required", "schema"}
        self.body = body                  # schema of the body, or None
        self.body_type = body_type        # "json" or "form"
        self.body_required = body_required

    def match(self, raw_path):
        """Template variables match exactly one non-empty raw segment."""
        segs = raw_path.strip('/').split('/')
        if len(segs) != len(self.segs):
            return None
        return match_segs(self.segs, segs, {})


def match_segs(template_segs, segs, out):
    """Pairwise: a literal must be equal, a {variable} takes one non-empty raw segment (into
    out). out, or None when a pair does not match."""
    for t, s in zip(template_segs, segs):
        if t.startswith('{') and t.endswith('}'):
            if s == '':
                return None
            out[t[1:-1]] = s
        elif t != s:
            return None
    return out


def _resolve(spec, schema, depth=0):
    while isinstance(schema, dict) and '$ref' in schema and depth < 50:
        ref = schema['$ref']
        node = spec
        for part in ref.lstrip('#/').split('/'):
            node = node[part]
        schema = node
        depth += 1
    return schema


def routes_from_swagger(spec):
    base = spec.get('basePath', '') or ''
    routes = []
    for path, item in spec['paths'].items():
        common = item.get('parameters', [])
        for method, op in item.items():
            if method == 'parameters':
                continue
            params, body, breq = {}, None, False
            for p in common + op.get('parameters', []):
                if p['in'] == 'body':
                    body = p.get('schema')
                    breq = p.get('required', False)
                    continue
                sch = {k: p[k] for k in ('type', 'format', 'items', 'enum') if k in p}
                params[p['name']] = {'in': p['in'], 'required': p.get('required', False),
                                     'schema': sch}
            routes.append(Route(method.upper(), base + path, op.get('operationId'), params,
                                body, 'json' if body else None, breq))
    return routes


def routes_from_openapi3(spec):
    base = ''
    if spec.get('servers'):
        base = urllib.parse.urlparse(spec['servers'][0]['url']).path.rstrip('/')
    routes = []
    for path, item in spec['paths'].items():
        common = item.get('parameters', [])
        for method, op in item.items():
            if method not in ('get', 'post', 'put', 'patch', 'delete', 'head'):
                continue
            params, body, btype, breq = {}, None, None, False
            for p in common + op.get('parameters', []):
                p = _resolve(spec, p)
                params[p['name']] = {'in': p['in'], 'required': p.get('required', False),
                                     'schema': p.get('schema', {})}
            rb = _resolve(spec, op.get('requestBody'))
            if rb:
                breq = rb.get('required', False)
                content = rb.get('content', {})
                if 'application/json' in content:
                    body, btype = content['application/json'].get('schema', {}), 'json'
                elif 'application/x-www-form-urlencoded' in content:
                    body = content['application/x-www-form-urlencoded'].get('schema', {})
                    btype = 'form'
            routes.append(Route(method.upper(), base + path, op.get('operationId'), params,
                                body, btype, breq))
    return routes


def check_value(spec, schema, v, where, out, depth=0):
    """Minimal JSON-schema check: types, enums, properties (unknown ones are violations),
    required, items, oneOf/anyOf. int64 may be an integer or a numeric string."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict) or depth > 30:
        return
    for key in ('oneOf', 'anyOf'):
        if key in schema:
            for alt in schema[key]:
                tmp = []
                check_value(spec, alt, v, where, tmp, depth + 1)
                if not tmp:
                    return
            out.append('%s: matches none of the allowed forms' % where)
            return
    t = schema.get('type')
    if isinstance(t, list):
        t = next((x for x in t if x != 'null'), None)
    if t == 'object' or (t is None and 'properties' in schema):
        if not isinstance(v, dict):
            out.append('%s: expected an object' % where)
            return
        props = schema.get('properties')
        for req in schema.get('required', []):
            if req not in v:
                out.append('%s.%s: required field missing' % (where, req))
        if props is not None:
            addl = schema.get('additionalProperties')
            for k, x in v.items():
                if k in props:
                    check_value(spec, props[k], x, '%s.%s' % (where, k), out, depth + 1)
                elif addl is None or addl is False:
                    out.append('%s.%s: unknown field' % (where, k))
                elif isinstance(addl, dict):
                    check_value(spec, addl, x, '%s.%s' % (where, k), out, depth + 1)
        elif isinstance(schema.get('additionalProperties'), dict):
            for k, x in v.items():
                check_value(spec, schema['additionalProperties'], x, '%s.%s' % (where, k), out,
                            depth + 1)
    elif t == 'array':
        if not isinstance(v, list):
            out.append('%s: expected an array' % where)
            return
        for i, x in enumerate(v):
            check_value(spec, schema.get('items', {}), x, '%s[%d]' % (where, i), out, depth + 1)
    elif t == 'string':
        fmt = schema.get('format')
        if fmt in ('int64', 'uint64', 'int32') and isinstance(v, int) and not isinstance(v, bool):
            pass
        elif not isinstance(v, str):
            out.append('%s: expected a string' % where)
        elif 'enum' in schema and v not in schema['enum']:
            out.append('%s: %r not in %s' % (where, v, schema['enum']))
    elif t == 'integer':
        if isinstance(v, bool) or not isinstance(v, int):
            out.append('%s: expected an integer' % where)
    elif t == 'number':
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append('%s: expected a number' % where)
    elif t == 'boolean':
        if not isinstance(v, bool):
            out.append('%s: expected a boolean' % where)


def check_query_value(spec, schema, values, where, out):
    """Query values are text: check the spelling of integers, booleans, enums."""
    schema = _resolve(spec, schema)
    t = schema.get('type')
    if t != 'array' and len(values) > 1:
        out.append('%s: given %d times' % (where, len(values)))
    for v in values:
        if t == 'integer' and not re.fullmatch(r'-?[0-9]+', v):
            out.append('%s: %r is not an integer' % (where, v))
        elif t == 'boolean' and v not in ('true', 'false'):
            out.append('%s: %r is not true/false' % (where, v))
        elif t == 'number' and not re.fullmatch(r'-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?', v):
            out.append('%s: %r is not a number' % (where, v))
        elif 'enum' in schema and v not in schema['enum']:
            out.append('%s: %r not in %s' % (where, v, schema['enum']))


# ------------------------------------------------------------------ the server

class Req:
    """What a handler sees."""

    def __init__(self, method, raw_path, raw_query, headers, body):
        self.method = method
        self.raw_path = raw_path
        self.raw_query = raw_query
        self.headers = headers            # lower-case name -> value
        self.body = body
        self.query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        self.params = {}
        self.json = None
        self.form = None
        self.route = None

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default


class ApiError(Exception):
    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class Fake:
    """Subclass: set name, load contract routes in __init__, implement handlers named after
    the route's op_id (handle_<op_id with non-alnum as _>), error_body(), and optionally
    check() and echo_auth()."""
    name = 'fake'
    content_type = 'application/json'

    def __init__(self, spec, routes, token=None):
        self.spec = spec
        self.routes = routes
        self.token = token
        self.lock = threading.Lock()
        self.state_lock = threading.RLock()
        self.modes = []
        self.log_f = None
        self.n = 0
        self.entries = []

    # --- hooks -------------------------------------------------------------
    def error_body(self, status, message, **extra):
        return {'error': message}

    def check(self, req, route):
        return []

    def echo_auth(self, obj, auth):
        if isinstance(obj, dict):
            obj['echo'] = auth
        return obj

    def violation_status(self, violations):
        return 400

    # --- success-body modes (see the module's doc) ------------------------------
    body_mode, body_count = None, 0

    def apply_state(self, state, **knobs):
        """The usual set_state: "reset" calls the fake's reset(), then the success-body modes,
        then each knob present in state becomes the attribute of that name, through its
        converter (None: as given)."""
        if state.get('reset'):
            self.reset()
        self.set_body_mode(state)
        for k, conv in knobs.items():
            if k in state:
                setattr(self, k, conv(state[k]) if conv else state[k])

    def set_body_mode(self, state):
        if 'body_mode' in state:
            self.body_mode = state['body_mode']
            self.body_count = int(state.get('body_count', 1))

    def success_body(self, status, out, entry):
        """The body to send for an answer with status: out, or the queued body mode's."""
        with self.lock:
            bm = self.body_mode
            if bm and 200 <= status < 300 and status != 204 and self.body_count != 0:
                self.body_count -= 1
                if self.body_count == 0:
                    self.body_mode = None
            else:
                bm = None
        if bm == 'malformed':
            out = b'{"id": 1, "name": "trunc'
        elif bm == 'oversize':
            out = b'{"pad": "' + b'x' * (9 << 20) + b'"}'
        if bm:
            entry['mode'] = 'body_' + bm
        return out

    # --- modes -------------------------------------------------------------
    def take_mode(self, method, raw_path):
        with self.lock:
            for m in self.modes:
                if m.get('method') and m['method'] != method:
                    continue
                if m.get('match') and not re.search(m['match'], raw_path):
                    continue
                c = m.get('count', 1)
                if c > 0:
                    m['count'] = c - 1
                    if m['count'] == 0:
                        self.modes.remove(m)
                return dict(m)
        return None

    def control(self, obj):
        with self.lock:
            if obj.get('clear'):
                self.modes = []
            for m in obj.get('modes', []):
                self.modes.append(dict(m))
        if 'state' in obj:
            with self.state_lock:
                self.set_state(obj['state'])
        return {'ok': True, 'queued': len(self.modes)}

    def set_state(self, state):
        pass

    # --- logging -----------------------------------------------------------
    def log(self, entry):
        with self.lock:
            self.n += 1
            entry['n'] = self.n
            self.entries.append(entry)
            if self.log_f:
                self.log_f.write(json.dumps(entry, sort_keys=True) + '\n')
                self.log_f.flush()

    # --- contract ----------------------------------------------------------
    def find_route(self, method, raw_path):
        path_hit = None
        for r in self.routes:
            params = r.match(raw_path)
            if params is None:
                continue
            path_hit = r
            if r.method == method:
                return r, params, None
        if path_hit:
            return None, None, 'method %s not allowed on %s' % (method, path_hit.template)
        return None, None, 'no route for %s %s' % (method, raw_path)

    def check_request(self, req, route):
        v = []
        ua = req.headers.get('user-agent', '')
        if not ua.startswith('corral/'):
            v.append('User-Agent %r is not corral/<version>' % ua)
        for name, p in route.params.items():
            if p['in'] == 'query':
                if p['required'] and name not in req.query:
                    v.append('query parameter %s is required' % name)
                if name in req.query:
                    check_query_value(self.spec, p['schema'], req.query[name],
                                      'query ' + name, v)
            elif p['in'] == 'path' and name in req.params:
                if req.params[name] == '':
                    v.append('path parameter %s is empty' % name)
        known = {n for n, p in route.params.items() if p['in'] == 'query'}
        for name in req.query:
            if name not in known:
                v.append('unknown query parameter %s' % name)
        v += self.check_body(req, route)
        v += self.check(req, route)
        return v

    def check_body(self, req, route):
        v = []
        if route.body is None:
            if req.body:
                v.append('%s %s takes no body' % (route.method, route.template))
            return v
        if not req.body:
            if route.body_required:
                v.append('request body is required')
            return v
        if route.body_type == 'json':
            try:
                req.json = json.loads(req.body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError) as e:
                return ['body is not JSON: %s' % e]
            check_value(self.spec, route.body, req.json, 'body', v)
        elif route.body_type == 'form':
            ct = req.headers.get('content-type', '')
            if ct.split(';')[0].strip().lower() != 'application/x-www-form-urlencoded':
                v.append('form body needs Content-Type application/x-www-form-urlencoded, got %r'
                         % ct)
            try:
                req.form = urllib.parse.parse_qs(req.body.decode('utf-8'), keep_blank_values=True,
                                                 strict_parsing=True)
            except (ValueError, UnicodeDecodeError) as e:
                return ['form body does not parse: %s' % e]
            sch = _resolve(self.spec, route.body)
            props = sch.get('properties', {})
            for r in sch.get('required', []):
                if r not in req.form:
                    v.append('form field %s is required' % r)
            for k in req.form:
                if props and k not in props:
                    v.append('unknown form field %s' % k)
        return v


def _decode(seg):
    b = urllib.parse.unquote_to_bytes(seg)
    return b.decode('utf-8', errors='backslashreplace')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'corral-fake'
    fake = None

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms to every exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n > BODY_MAX:
            raise ApiError(413, 'request body too large')
        return self.rfile.read(n) if n > 0 else b''

    def _send(self, status, body, ctype='application/json', headers=None, mode=None,
              close=False):
        self.send_response(status)
        hdrs = dict(headers or {})
        no_length = bool(mode and mode.get('mode') == 'oversize' and mode.get('no_length'))
        self.send_header('Content-Type', ctype)
        if no_length or close:
            self.send_header('Connection', 'close')
            self.close_connection = True
        if not no_length:
            self.send_header('Content-Length', str(len(body)))
        for k, v in hdrs.items():
            self.send_header(k, str(v))
        self.end_headers()
        if self.command == 'HEAD':
            return
        if mode and mode.get('mode') == 'slow':
            chunk = int(mode.get('chunk', 16))
            delay = float(mode.get('delay_ms', 200)) / 1000.0
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                self.wfile.flush()
                time.sleep(delay)
            return
        self.wfile.write(body)

    def _control(self, raw_path):
        f = self.fake
        if raw_path == '/__fake/log':
            with f.lock:
                out = json.dumps(f.entries).encode()
            return self._send(200, out)
        body = self._read_body()
        try:
            obj = json.loads(body or b'{}')
        except ValueError:
            return self._send(400, b'{"error":"bad control json"}')
        return self._send(200, json.dumps(f.control(obj)).encode())

    def _handle(self):
        f = self.fake
        raw_path, _, raw_query = self.path.partition('?')
        raw_query = raw_query.partition('#')[0]
        if raw_path.startswith('/__fake/'):
            return self._control(raw_path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body()
        except ApiError as e:
            return self._send(e.status, json.dumps({'error': e.message}).encode(), close=True)
        req = Req(self.command, raw_path, raw_query, headers, body)
        mode = f.take_mode(self.command, raw_path)
        entry = {'method': self.command, 'raw_path': raw_path, 'query': req.query,
                 'raw_query': raw_query, 'headers': headers,
                 'body': body[:LOG_BODY_MAX].decode('utf-8', errors='backslashreplace'),
                 'path': _decode(raw_path), 'route': None, 'params': {}, 'violations': [],
                 'mode': mode.get('mode') if mode else None}
        if mode and mode.get('mode') == 'close':
            entry['status'] = 0
            f.log(entry)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, out, hdrs = self._dispatch(req, entry, mode)
        out = f.success_body(status, out, entry)
        if mode and mode.get('mode') == 'hang':
            entry['status'] = status
            f.log(entry)
            HANG.wait(float(mode.get('seconds', 60)))
            return self._send(status, out, f.content_type, hdrs)
        entry['status'] = status
        f.log(entry)
        ctype = hdrs.pop('Content-Type', f.content_type)
        self._send(status, out, ctype, hdrs, mode)

    def _dispatch(self, req, entry, mode):
        f = self.fake
        route, params, miss = f.find_route(req.method, req.raw_path)
        if route is None:
            entry['violations'].append(miss)
            st = 405 if miss.startswith('method') else 404
            return st, json.dumps(f.error_body(st, miss)).encode(), {}
        entry['route'] = route.template
        req.route = route
        req.params = {k: _decode(v) for k, v in params.items()}
        entry['params'] = req.params
        v = f.check_request(req, route)
        auth = req.headers.get('authorization')
        if v:
            entry['violations'] += v
            st = f.violation_status(v)
            return st, json.dumps(f.error_body(st, 'contract violation: ' + '; '.join(v))).encode(), {}
        if f.token is not None and auth != 'Bearer ' + f.token:
            return 401, json.dumps(f.error_body(401, 'invalid session: token is invalid')).encode(), {}
        m = mode.get('mode') if mode else None
        if m == 'status' or (m == 'echo_auth' and 'status' in mode):
            st = int(mode.get('status', 500))
            msg = mode.get('message', 'scripted failure %d' % st)
            if m == 'echo_auth':
                msg = msg + ' ' + (auth or '')
            hdrs = dict(mode.get('headers', {}))
            if 'retry_after' in mode:
                hdrs['Retry-After'] = str(mode['retry_after'])
            return st, json.dumps(f.error_body(st, msg)).encode(), hdrs
        if m == 'oversize':
            size = int(mode.get('size', 10 << 20))
            pad = 'x' * max(0, size - 20)
            return 200, ('{"pad": "%s"}' % pad).encode(), {}
        if m == 'malformed':
            return 200, b'{"metadata": {"name": "trunc', {}
        handler = getattr(f, 'handle_' + re.sub(r'[^A-Za-z0-9]', '_', route.op_id or ''), None)
        if handler is None:
            return 501, json.dumps(f.error_body(501, 'not implemented in fake')).encode(), {}
        try:
            with f.state_lock:
                st, obj, hdrs = handler(req)
        except ApiError as e:
            return e.status, json.dumps(f.error_body(e.status, e.message, **e.extra)).encode(), {}
        if m == 'echo_auth' and not isinstance(obj, (bytes, str)):
            obj = f.echo_auth(obj, auth or '')
        if isinstance(obj, bytes):
            return st, obj, dict(hdrs or {})
        if isinstance(obj, str):
            return st, obj.encode(), dict(hdrs or {})
        return st, json.dumps(obj).encode(), dict(hdrs or {})

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET


HANG = threading.Event()


def load_contract(name):
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, '..', 'tools', 'contracts', name)
    with open(path) as fh:
        return json.load(fh)


def main(make_fake):
    args = sys.argv[1:]
    if not args:
        sys.stderr.write('usage: %s LOGFILE [--token T] [--mode JSON]...\n' % sys.argv[0])
        sys.exit(2)
    logpath, token, modes, tls = args[0], None, [], None
    i = 1
    while i < len(args):
        if args[i] == '--token' and i + 1 < len(args):
            token = args[i + 1]
            i += 2
        elif args[i] == '--mode' and i + 1 < len(args):
            modes.append(json.loads(args[i + 1]))
            i += 2
        elif args[i] == '--tls' and i + 2 < len(args):
            tls = (args[i + 1], args[i + 2])
            i += 3
        else:
            sys.stderr.write('unknown argument %s\n' % args[i])
            sys.exit(2)
    fake = make_fake(token)
    fake.log_f = open(logpath, 'a', buffering=1)
    fake.modes = modes
    Handler.fake = fake
    ThreadingHTTPServer.daemon_threads = True
    # A client that gives up (timeouts, caps) closes its end: not worth a traceback.
    ThreadingHTTPServer.handle_error = lambda self, request, addr: None
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    if tls:
        import ssl
        here = os.path.dirname(os.path.abspath(__file__))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(here, tls[0]), os.path.join(here, tls[1]))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.stdout.write('PORT %d\n' % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    os._exit(0)
