"""A loopback fake Kubernetes API server serving the Flux CRDs, for corral's flux tests.

Python 3 stdlib only; plain HTTP (kubectl talks to http:// servers).

Run:   python3 fake_kube.py LOGFILE [--token T] [--mode MODE] [--version MINOR] [--settle-ms N]
                            [--tls CERT KEY]
       --tls serves https with that certificate (tests/fakes/kube-tls/: a self-signed test
       certificate for 127.0.0.1, test use only). kubectl sends a bearer token only over TLS.
Start: prints "PORT <n>" on stdout once listening on 127.0.0.1 (ephemeral port).

Serves what kubectl needs for the Flux objects:
  GET /version, /api, /api/v1, /apis, /apis/<group>/<version>  (legacy discovery)
  GET    /apis/<g>/<v>[/namespaces/<ns>]/<plural>           list (namespace or cluster-wide)
  GET    /apis/<g>/<v>/namespaces/<ns>/<plural>/<name>       one object
  PATCH  same path: JSON merge patch only (application/merge-patch+json); anything else is
         415 as a real API server answers for custom resources; ?dryRun=All stores nothing
  GET    /api/v1/namespaces/<ns>  (kubectl asks after a 404, to tell a missing namespace)
  GET    /api/v1/namespaces/<ns>/pods[?labelSelector=k=v,...], .../pods/<name>,
         .../pods/<name>/log?container=manager[&tailLines=N]   (the Flux controllers' pods)
for kustomizations, helmreleases (helm.toolkit.fluxcd.io/v2), gitrepositories,
helmrepositories, buckets, ocirepositories, helmcharts (source.toolkit.fluxcd.io/v1), alerts,
providers (notification.toolkit.fluxcd.io/v1beta3).

A patch that sets metadata.annotations["reconcile.fluxcd.io/requestedAt"], or changes the
spec of an object that is not suspended, acts like the controller: settle-ms later (default
150) the object shows status.lastHandledReconcileAt equal to the token,
status.observedGeneration equal to metadata.generation and Ready=True, unless the mode is
never-ready (Ready turns Unknown "Reconciliation in progress" and nothing is ever handled).

Log: one JSON object per API request, written and flushed before the answer:
  {"n", "method", "path", "query" (name -> last value), "raw_query", "absolute_form" (the
   request line carried a full URL, as an HTTP proxy forwards it), "content_type", "accept",
   "body" (parsed JSON, or text), "auth" ("none"|"ok"|"bad"), "user_agent", "status", "mode"}
Control (never logged): POST /__fake/control {"mode": M, "reset": true, "objects": [...]}
(objects: whole Flux objects added or replaced by kind/namespace/name, their namespaces
becoming known); GET /__fake/state (all objects).

Modes: ok (default), forbidden (every resource request: 403 Status; discovery still works),
down (reads the request, then closes the connection without an answer), never-ready,
not-found (every object is missing: gets 404, lists are empty), unauthorized (401).
"""
import copy
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLUX_NS = 'flux-system'
KS = ('kustomize.toolkit.fluxcd.io', 'v1')
HR = ('helm.toolkit.fluxcd.io', 'v2')
SRC = ('source.toolkit.fluxcd.io', 'v1')
NTF = ('notification.toolkit.fluxcd.io', 'v1beta3')

# plural -> (group, version, Kind, shortNames)
RESOURCES = {
    'kustomizations': (KS, 'Kustomization', ['ks']),
    'helmreleases': (HR, 'HelmRelease', ['hr']),
    'gitrepositories': (SRC, 'GitRepository', ['gitrepo']),
    'helmrepositories': (SRC, 'HelmRepository', ['helmrepo']),
    'buckets': (SRC, 'Bucket', []),
    'ocirepositories': (SRC, 'OCIRepository', ['ocirepo']),
    'helmcharts': (SRC, 'HelmChart', ['hc']),
    'alerts': (NTF, 'Alert', []),
    'providers': (NTF, 'Provider', []),
}
CONTROLLERS = ['kustomize-controller', 'helm-controller', 'source-controller',
               'notification-controller']
T0 = '2025-06-01T10:00:00Z'
NAMESPACES = ('default', FLUX_NS, 'apps-dev', 'apps-staging')


def cond(status, reason, message, t=T0):
    return {'type': 'Ready', 'status': status, 'reason': reason, 'message': message,
            'lastTransitionTime': t, 'observedGeneration': 1}


def obj(plural, ns, name, spec=None, ready=('True', 'ReconciliationSucceeded', 'ok'),
        status=None):
    (g, v), kind, _ = RESOURCES[plural]
    st = {'observedGeneration': 1, 'conditions': [cond(*ready)]} if ready else {}
    st.update(status or {})
    return {'apiVersion': '%s/%s' % (g, v), 'kind': kind,
            'metadata': {'name': name, 'namespace': ns, 'uid': 'uid-%s-%s-%s' % (plural, ns, name),
                         'generation': 1, 'resourceVersion': '1',
                         'creationTimestamp': '2025-05-01T00:00:00Z'},
            'spec': spec or {}, 'status': st}


def initial_objects():
    rev = 'main@sha1:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567'
    objs = [
        obj('kustomizations', FLUX_NS, 'flux-system',
            {'interval': '10m', 'path': './clusters/prod', 'prune': True,
             'sourceRef': {'kind': 'GitRepository', 'name': 'flux-system'}},
            ('True', 'ReconciliationSucceeded', 'Applied revision: ' + rev),
            {'lastAppliedRevision': rev, 'lastAttemptedRevision': rev,
             'lastHandledReconcileAt': '2025-06-01T09:00:00Z'}),
        obj('kustomizations', FLUX_NS, 'apps',
            {'interval': '5m', 'path': './apps', 'prune': True,
             'sourceRef': {'kind': 'GitRepository', 'name': 'flux-system'}},
            ('True', 'ReconciliationSucceeded', 'Applied revision: ' + rev),
            {'lastAppliedRevision': rev}),
        obj('kustomizations', FLUX_NS, 'infra',
            {'interval': '1h', 'path': './infra', 'suspend': True,
             'sourceRef': {'kind': 'GitRepository', 'name': 'flux-system'}},
            ('True', 'ReconciliationSucceeded', 'Applied revision: ' + rev),
            {'lastAppliedRevision': rev}),
        obj('kustomizations', 'apps-dev', 'podinfo',
            {'interval': '5m', 'path': './podinfo',
             'sourceRef': {'kind': 'GitRepository', 'name': 'podinfo', 'namespace': 'apps-dev'}},
            ('False', 'BuildFailed', 'kustomize build failed: accumulating resources'),
            {'lastAttemptedRevision': 'main@sha1:ffff'}),
        obj('helmreleases', FLUX_NS, 'podinfo',
            {'interval': '5m', 'chart': {'spec': {'chart': 'podinfo', 'version': '6.x',
             'sourceRef': {'kind': 'HelmRepository', 'name': 'podinfo'}}}},
            ('True', 'InstallSucceeded', 'Helm install succeeded for release podinfo'),
            {'lastAttemptedRevision': '6.5.0', 'helmChart': 'flux-system/flux-system-podinfo',
             'history': [{'chartVersion': '6.5.0', 'status': 'deployed', 'version': 1}]}),
        obj('helmreleases', 'apps-dev', 'redis',
            {'interval': '5m', 'chart': {'spec': {'chart': 'redis',
             'sourceRef': {'kind': 'HelmRepository', 'name': 'bitnami',
                           'namespace': FLUX_NS}}}},
            ('False', 'InstallFailed', 'Helm install failed: timed out waiting for the condition'),
            {'lastAttemptedRevision': '18.1.0'}),
        obj('gitrepositories', FLUX_NS, 'flux-system',
            {'url': 'ssh://git@github.com/example/fleet', 'interval': '1m',
             'ref': {'branch': 'main'}},
            ('True', 'Succeeded', "stored artifact for revision '%s'" % rev),
            {'artifact': {'revision': rev, 'lastUpdateTime': T0}}),
        obj('gitrepositories', 'apps-dev', 'podinfo',
            {'url': 'https://github.com/stefanprodan/podinfo', 'interval': '5m'},
            ('False', 'GitOperationFailed', 'failed to checkout and determine revision'), {}),
        obj('helmrepositories', FLUX_NS, 'podinfo',
            {'url': 'https://stefanprodan.github.io/podinfo', 'interval': '1h'},
            ('True', 'Succeeded', 'stored artifact: revision sha256:1234'),
            {'artifact': {'revision': 'sha256:1234'}}),
        obj('buckets', FLUX_NS, 'assets',
            {'bucketName': 'assets', 'endpoint': 'minio.example:9000', 'interval': '5m'},
            ('True', 'Succeeded', 'stored artifact for revision sha256:abcd'),
            {'artifact': {'revision': 'sha256:abcd'}}),
        obj('ocirepositories', FLUX_NS, 'manifests',
            {'url': 'oci://ghcr.io/example/manifests', 'interval': '5m', 'ref': {'tag': 'latest'}},
            ('True', 'Succeeded', "stored artifact for digest 'latest@sha256:9999'"),
            {'artifact': {'revision': 'latest@sha256:9999'}}),
        obj('helmcharts', FLUX_NS, 'flux-system-podinfo',
            {'chart': 'podinfo', 'version': '6.x',
             'sourceRef': {'kind': 'HelmRepository', 'name': 'podinfo'}},
            ('True', 'ChartPullSucceeded', "pulled 'podinfo' chart with version '6.5.0'"),
            {'artifact': {'revision': '6.5.0'}}),
        obj('alerts', FLUX_NS, 'slack-alert',
            {'providerRef': {'name': 'slack'}, 'eventSeverity': 'error',
             'eventSources': [{'kind': 'Kustomization', 'name': '*'}]}, None, {}),
        obj('alerts', 'apps-dev', 'dev-alert',
            {'providerRef': {'name': 'slack'}, 'eventSeverity': 'info', 'suspend': True,
             'eventSources': [{'kind': 'HelmRelease', 'name': '*'}]}, None, {}),
        obj('providers', FLUX_NS, 'slack',
            {'type': 'slack', 'channel': 'ops'}, None, {}),
    ]
    return {(o['kind'], o['metadata']['namespace'], o['metadata']['name']): o for o in objs}


def pod(component):
    name = '%s-7d9f8c6b5-x%d' % (component, len(component))
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': name, 'namespace': FLUX_NS, 'uid': 'pod-' + component,
                         'resourceVersion': '1',
                         'labels': {'app': component, 'app.kubernetes.io/part-of': 'flux',
                                    'app.kubernetes.io/component': component}},
            'spec': {'containers': [{'name': 'manager', 'image': 'fluxcd/' + component}]},
            'status': {'phase': 'Running',
                       'containerStatuses': [{'name': 'manager', 'ready': True,
                                              'restartCount': 0, 'image': 'x', 'imageID': 'x',
                                              'state': {'running': {'startedAt': T0}}}]}}


def log_lines(component):
    kinds = {'kustomize-controller': 'Kustomization', 'helm-controller': 'HelmRelease',
             'source-controller': 'GitRepository', 'notification-controller': 'Alert'}
    k = kinds[component]
    lines = [
        {'level': 'info', 'ts': '2025-06-01T10:00:01.000Z', 'msg': 'starting manager',
         'logger': 'setup'},
        {'level': 'info', 'ts': '2025-06-01T10:00:02.000Z', 'msg': 'reconciliation finished',
         'controller': k.lower(), 'controllerKind': k, 'name': 'flux-system',
         'namespace': FLUX_NS},
        {'level': 'error', 'ts': '2025-06-01T10:00:03.000Z', 'msg': 'Reconciler error',
         'controller': k.lower(), 'controllerKind': k, 'name': 'podinfo',
         'namespace': 'apps-dev', 'error': 'failed for podinfo'},
        {'level': 'debug', 'ts': '2025-06-01T10:00:04.000Z', 'msg': 'dependencies ready',
         'controller': k.lower(), 'controllerKind': k, 'name': 'apps', 'namespace': FLUX_NS},
        {'level': 'info', 'ts': '2025-06-01T10:00:05.000Z', 'msg': 'old style line',
         'reconciler kind': k, 'name': 'apps', 'namespace': FLUX_NS},
    ]
    out = [json.dumps(x) for x in lines]
    out.insert(1, 'not json: plain text line from ' + component)
    return out


class State:
    def __init__(self, mode, settle_ms):
        self.lock = threading.Lock()
        self.objects = initial_objects()
        self.pods = {p['metadata']['name']: p for p in (pod(c) for c in CONTROLLERS)}
        self.mode = mode
        self.settle = settle_ms / 1000.0
        self.pending = {}       # key -> (due time, token)
        self.n = 0
        self.rv = 10
        self.namespaces = set(NAMESPACES)

    def settle_due(self):
        now = time.time()
        for key, (due, token) in list(self.pending.items()):
            if now >= due and key in self.objects:
                o = self.objects[key]
                st = o.setdefault('status', {})
                if token is not None:
                    st['lastHandledReconcileAt'] = token
                st['observedGeneration'] = o['metadata'].get('generation', 1)
                st['conditions'] = [cond('True', 'ReconciliationSucceeded',
                                         'Applied revision: main@sha1:fresh', T0)]
                del self.pending[key]


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def status_body(code, reason, message, details=None):
    return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': message, 'reason': reason, 'details': details or {}, 'code': code}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'fake-kube/1'

    def log_message(self, *a):
        pass

    # -------------------------------------------------------------- plumbing

    def _split(self):
        raw = self.path
        absolute = raw.startswith('http://') or raw.startswith('https://')
        u = urllib.parse.urlsplit(raw)
        path = urllib.parse.unquote(u.path or '/')
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        return absolute, path, {k: v[-1] for k, v in q.items()}, u.query

    def _body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n > 0 else b''

    def _send(self, code, body, ctype='application/json'):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        if (self.headers.get('Connection') or '').lower() == 'close':
            self.send_header('Connection', 'close')
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _log(self, entry):
        st = self.server.state
        with st.lock:
            st.n += 1
            entry['n'] = st.n
            with open(self.server.log_path, 'a') as f:
                f.write(json.dumps(entry) + '\n')
                f.flush()

    def _auth(self):
        h = self.headers.get('Authorization')
        if h is None:
            return 'none'
        tok = self.server.token
        return 'ok' if tok is not None and h == 'Bearer ' + tok else 'bad'

    # -------------------------------------------------------------- entry points

    def do_GET(self):
        self._handle('GET')

    def do_PATCH(self):
        self._handle('PATCH')

    def do_POST(self):
        self._handle('POST')

    def do_PUT(self):
        self._handle('PUT')

    def do_DELETE(self):
        self._handle('DELETE')

    def _handle(self, method):
        absolute, path, q, raw_q = self._split()
        raw_body = self._body()
        if path.startswith('/__fake/'):
            return self._control(method, path, raw_body)
        st = self.server.state
        body = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode('utf-8', 'replace')
        entry = {'method': method, 'path': path, 'query': q, 'raw_query': raw_q,
                 'absolute_form': absolute, 'content_type': self.headers.get('Content-Type'),
                 'accept': self.headers.get('Accept'), 'body': body, 'auth': self._auth(),
                 'user_agent': self.headers.get('User-Agent'), 'mode': st.mode}
        if st.mode == 'down':
            entry['status'] = 0
            self._log(entry)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        code, resp, ctype = self._route(method, path, q, raw_body, body, entry)
        entry['status'] = code
        self._log(entry)
        self._send(code, resp, ctype)

    def _control(self, method, path, raw):
        st = self.server.state
        if path == '/__fake/control' and method == 'POST':
            c = json.loads(raw or b'{}')
            with st.lock:
                if 'mode' in c:
                    st.mode = c['mode']
                if c.get('reset'):
                    st.objects = initial_objects()
                    st.pending = {}
                    st.namespaces = set(NAMESPACES)
                for o in c.get('objects', []):
                    md = o['metadata']
                    st.objects[(o['kind'], md['namespace'], md['name'])] = copy.deepcopy(o)
                    st.namespaces.add(md['namespace'])
            return self._send(200, {'ok': True, 'mode': st.mode})
        if path == '/__fake/state':
            with st.lock:
                st.settle_due()
                objs = [o for o in st.objects.values()]
                return self._send(200, {'mode': st.mode, 'objects': objs})
        return self._send(404, {'error': 'unknown control path'})

    # -------------------------------------------------------------- the API

    def _route(self, method, path, q, raw_body, body, entry):
        st = self.server.state
        if self.server.token is not None and entry['auth'] != 'ok':
            return 401, status_body(401, 'Unauthorized', 'Unauthorized'), 'application/json'
        if st.mode == 'unauthorized':
            return 401, status_body(401, 'Unauthorized', 'Unauthorized'), 'application/json'
        segs = [s for s in path.split('/') if s]
        if method == 'GET':
            d = self._discovery(segs)
            if d is not None:
                return 200, d, 'application/json'
        if segs[:2] == ['api', 'v1'] and len(segs) == 4 and segs[2] == 'namespaces':
            return self._namespace(method, segs[3])
        if segs[:2] == ['api', 'v1'] and len(segs) >= 5 and segs[2] == 'namespaces' and \
                segs[4] == 'pods':
            return self._pods(method, segs[3], segs[5:], q)
        if len(segs) >= 4 and segs[0] == 'apis':
            return self._resource(method, segs[1], segs[2], segs[3:], q, raw_body, body)
        return 404, status_body(404, 'NotFound', 'the server could not find the requested '
                                'resource'), 'application/json'

    def _discovery(self, segs):
        minor = self.server.minor
        if segs == ['version']:
            return {'major': '1', 'minor': minor, 'gitVersion': 'v1.%s.0' % minor,
                    'platform': 'linux/amd64'}
        if segs == ['api']:
            return {'kind': 'APIVersions', 'versions': ['v1'],
                    'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0',
                                                    'serverAddress': '127.0.0.1:6443'}]}
        if segs == ['api', 'v1']:
            return {'kind': 'APIResourceList', 'groupVersion': 'v1', 'resources': [
                {'name': 'pods', 'singularName': 'pod', 'namespaced': True, 'kind': 'Pod',
                 'verbs': ['get', 'list'], 'shortNames': ['po']},
                {'name': 'pods/log', 'singularName': '', 'namespaced': True, 'kind': 'Pod',
                 'verbs': ['get']},
                {'name': 'namespaces', 'singularName': 'namespace', 'namespaced': False,
                 'kind': 'Namespace', 'verbs': ['get', 'list'], 'shortNames': ['ns']}]}
        groups = {}
        for plural, ((g, v), kind, short) in RESOURCES.items():
            groups.setdefault((g, v), []).append((plural, kind, short))
        if segs == ['apis']:
            return {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [
                {'name': g, 'versions': [{'groupVersion': '%s/%s' % (g, v), 'version': v}],
                 'preferredVersion': {'groupVersion': '%s/%s' % (g, v), 'version': v}}
                for (g, v) in groups]}
        if len(segs) == 3 and segs[0] == 'apis' and (segs[1], segs[2]) in groups:
            g, v = segs[1], segs[2]
            res = []
            for plural, kind, short in groups[(g, v)]:
                res.append({'name': plural, 'singularName': kind.lower(), 'namespaced': True,
                            'kind': kind, 'shortNames': short, 'categories': ['all'],
                            'verbs': ['delete', 'deletecollection', 'get', 'list', 'patch',
                                      'create', 'update', 'watch']})
                res.append({'name': plural + '/status', 'singularName': '', 'namespaced': True,
                            'kind': kind, 'verbs': ['get', 'patch', 'update']})
            return {'kind': 'APIResourceList', 'apiVersion': 'v1',
                    'groupVersion': '%s/%s' % (g, v), 'resources': res}
        return None

    def _forbidden(self, verb, plural, group, ns):
        where = ' in the namespace "%s"' % ns if ns else ' at the cluster scope'
        msg = ('%s.%s is forbidden: User "system:serviceaccount:corral:flux" cannot %s '
               'resource "%s" in API group "%s"%s' % (plural, group, verb, plural, group, where))
        return 403, status_body(403, 'Forbidden', msg, {'group': group, 'kind': plural}), \
            'application/json'

    def _resource(self, method, group, version, rest, q, raw_body, body):
        st = self.server.state
        ns = None
        if rest[0] == 'namespaces' and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        if plural not in RESOURCES or RESOURCES[plural][0] != (group, version) or len(rest) > 2:
            return 404, status_body(404, 'NotFound', 'the server could not find the requested '
                                    'resource'), 'application/json'
        kind = RESOURCES[plural][1]
        verb = {'GET': 'get' if name else 'list', 'PATCH': 'patch'}.get(method, method.lower())
        if st.mode == 'forbidden':
            return self._forbidden(verb, plural, group, ns)
        if method == 'GET' and name is None:
            with st.lock:
                st.settle_due()
                items = [] if st.mode == 'not-found' else [
                    copy.deepcopy(o) for (k, n_, _), o in sorted(st.objects.items())
                    if k == kind and (ns is None or n_ == ns)]
            return 200, {'apiVersion': '%s/%s' % (group, version), 'kind': kind + 'List',
                         'metadata': {'resourceVersion': str(st.rv)}, 'items': items}, \
                'application/json'
        if name is None or ns is None:
            return 405, status_body(405, 'MethodNotAllowed', 'method not allowed'), \
                'application/json'
        key = (kind, ns, name)
        with st.lock:
            st.settle_due()
            o = None if st.mode == 'not-found' else st.objects.get(key)
            if o is None:
                return 404, status_body(404, 'NotFound', '%s.%s "%s" not found' %
                                        (plural, group, name),
                                        {'name': name, 'group': group, 'kind': plural}), \
                    'application/json'
            if method == 'GET':
                return 200, copy.deepcopy(o), 'application/json'
            if method != 'PATCH':
                return 405, status_body(405, 'MethodNotAllowed', 'method not allowed'), \
                    'application/json'
            ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip()
            if ctype != 'application/merge-patch+json':
                return 415, status_body(415, 'UnsupportedMediaType',
                                        'the body of the request was in an unknown format - '
                                        'accepted media types include: '
                                        'application/json-patch+json, '
                                        'application/merge-patch+json, '
                                        'application/apply-patch+yaml'), 'application/json'
            if not isinstance(body, dict):
                return 400, status_body(400, 'BadRequest', 'invalid JSON patch'), \
                    'application/json'
            new = merge_patch(copy.deepcopy(o), body)
            if q.get('dryRun') == 'All':
                return 200, new, 'application/json'
            st.rv += 1
            new['metadata']['resourceVersion'] = str(st.rv)
            if new.get('spec') != o.get('spec'):
                new['metadata']['generation'] = o['metadata'].get('generation', 1) + 1
            token = ((body.get('metadata') or {}).get('annotations') or {}).get(
                'reconcile.fluxcd.io/requestedAt')
            spec_changed = new.get('spec') != o.get('spec')
            if token is not None or (spec_changed and not new['spec'].get('suspend')):
                if st.mode == 'never-ready':
                    new.setdefault('status', {})['conditions'] = [
                        cond('Unknown', 'Progressing', 'Reconciliation in progress')]
                else:
                    if token is None:
                        token = (new.get('status') or {}).get('lastHandledReconcileAt')
                    st.pending[key] = (time.time() + st.settle, token)
            st.objects[key] = new
            return 200, copy.deepcopy(new), 'application/json'

    def _namespace(self, method, name):
        if self.server.state.mode == 'forbidden':
            return self._forbidden('get', 'namespaces', '', None)
        if method != 'GET' or name not in self.server.state.namespaces:
            return 404, status_body(404, 'NotFound', 'namespaces "%s" not found' % name,
                                    {'name': name, 'kind': 'namespaces'}), 'application/json'
        return 200, {'apiVersion': 'v1', 'kind': 'Namespace',
                     'metadata': {'name': name, 'uid': 'ns-' + name, 'resourceVersion': '1'},
                     'status': {'phase': 'Active'}}, 'application/json'

    def _pods(self, method, ns, rest, q):
        st = self.server.state
        if st.mode == 'forbidden':
            return self._forbidden('list' if not rest else 'get', 'pods', '', ns)
        if method != 'GET':
            return 405, status_body(405, 'MethodNotAllowed', 'method not allowed'), \
                'application/json'
        pods = st.pods if ns == FLUX_NS and st.mode != 'not-found' else {}
        if not rest:
            sel = [s.split('=', 1) for s in q.get('labelSelector', '').split(',') if '=' in s]
            items = [copy.deepcopy(p) for p in pods.values()
                     if all(p['metadata']['labels'].get(k.strip()) == v.strip() for k, v in sel)]
            return 200, {'apiVersion': 'v1', 'kind': 'PodList',
                         'metadata': {'resourceVersion': '1'}, 'items': items}, \
                'application/json'
        p = pods.get(rest[0])
        if p is None:
            return 404, status_body(404, 'NotFound', 'pods "%s" not found' % rest[0],
                                    {'name': rest[0], 'kind': 'pods'}), 'application/json'
        if len(rest) == 1:
            return 200, copy.deepcopy(p), 'application/json'
        if rest[1:] == ['log']:
            lines = log_lines(p['metadata']['labels']['app'])
            if 'tailLines' in q:
                lines = lines[-int(q['tailLines']):] if int(q['tailLines']) > 0 else []
            return 200, ''.join(x + '\n' for x in lines), 'text/plain'
        return 404, status_body(404, 'NotFound', 'not found'), 'application/json'


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    args = sys.argv[1:]
    if not args:
        sys.stderr.write('usage: fake_kube.py LOGFILE [--token T] [--mode M] [--version MINOR]'
                         ' [--settle-ms N]\n')
        sys.exit(2)
    log_path, token, mode, minor, settle, tls = args[0], None, 'ok', '32', 150, None
    i = 1
    while i < len(args):
        if args[i] == '--token':
            token = args[i + 1]
        elif args[i] == '--mode':
            mode = args[i + 1]
        elif args[i] == '--version':
            minor = args[i + 1]
        elif args[i] == '--settle-ms':
            settle = int(args[i + 1])
        elif args[i] == '--tls':
            tls = (args[i + 1], args[i + 2])
            i += 1
        else:
            sys.stderr.write('unknown argument %s\n' % args[i])
            sys.exit(2)
        i += 2
    open(log_path, 'w').close()
    srv = Server(('127.0.0.1', 0), Handler)
    if tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.state = State(mode, settle)
    srv.log_path = log_path
    srv.token = token
    srv.minor = minor
    sys.stdout.write('PORT %d\n' % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == '__main__':
    main()
