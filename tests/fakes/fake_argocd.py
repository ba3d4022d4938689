#!/usr/bin/env python3
"""Fake argocd-server for the argocd family's tests.

Routes, parameters and body schemas come from tests/tools/contracts/argocd-subset.json (the
Swagger 2.0 subset of argoproj/argo-cd assets/swagger.json). On top of the schema checks it
enforces what CONTRACTS.md section 2 lists:
- every non-GET request (DELETE included) must carry exactly "Content-Type: application/json",
  else 415 "Invalid content type" (server/server.go enforceContentTypes), recorded as violation;
- the rollback body must hold an integer "id" (proto `required int64 id`);
- sync's force is strategy.hook.force (Go embedding flattens SyncStrategyApply); the nested
  "syncStrategyApply" spelling and unknown fields such as a top-level "force" are violations;
- patch is a JSON *string* with patchType merge|json;
- logs must not ask follow=true (the stream would never end).
Errors use runtimeError {"error", "code" (gRPC), "message", "details"} and grpc-gateway's
status mapping. A missing app is 404 with `project`, 403 "permission denied" without (RBAC).
`--data FILE` applies a control "state" object ({"apps": {"NS/NAME": merge patch or null}})
at start, so a demo can begin with its own applications.
"""
import copy
import json
import sys

import fakebase
from fakebase import ApiError, Fake, load_contract, routes_from_swagger

GRPC = {400: 3, 401: 16, 403: 7, 404: 5, 408: 1, 409: 10, 415: 3, 422: 3, 429: 8, 500: 13,
        501: 12, 502: 14, 503: 14, 504: 4}
CONTROL_NS = 'argocd'


def app(name, ns='argocd', project='default', auto=False, history=3, labels=None,
        op_phase=None):
    hist = [{'id': i, 'revision': 'rev%d%s' % (i, 'a' * 36), 'deployedAt':
             '2026-11-0%dT10:00:00Z' % i, 'deployStartedAt': '2026-11-0%dT09:59:00Z' % i,
             'source': {'repoURL': 'https://git.example.com/%s.git' % name,
                        'path': 'deploy', 'targetRevision': 'HEAD'}}
            for i in range(1, history + 1)]
    a = {'metadata': {'name': name, 'namespace': ns, 'labels': labels or {},
                      'uid': 'uid-' + name, 'resourceVersion': '1'},
         'spec': {'project': project,
                  'source': {'repoURL': 'https://git.example.com/%s.git' % name,
                             'path': 'deploy', 'targetRevision': 'HEAD'},
                  'destination': {'server': 'https://kubernetes.default.svc',
                                  'namespace': name + '-prod'},
                  'syncPolicy': {}},
         'status': {'sync': {'status': 'Synced', 'revision': hist[-1]['revision'] if hist else '',
                             'comparedTo': {}},
                    'health': {'status': 'Healthy', 'message': ''},
                    'history': hist, 'conditions': [],
                    'resources': [], 'sourceType': 'Kustomize',
                    'reconciledAt': '2026-11-05T10:00:00Z'}}
    if auto:
        a['spec']['syncPolicy']['automated'] = {'prune': True, 'selfHeal': True}
    if op_phase:
        a['status']['operationState'] = {'phase': op_phase, 'message': 'syncing',
                                         'startedAt': '2026-11-05T10:00:00Z',
                                         'operation': {'sync': {'revision': 'HEAD'}}}
    return a


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(doc, ops):
    """RFC 6902 subset: add, replace, remove, test on object paths."""
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = [p.replace('~1', '/').replace('~0', '~') for p in op['path'].split('/')[1:]]
        node = doc
        for p in parts[:-1]:
            if not isinstance(node, dict) or p not in node:
                raise ApiError(400, 'json patch: path %s not found' % op['path'])
            node = node[p]
        last = parts[-1] if parts else None
        if op['op'] in ('add', 'replace'):
            node[last] = op.get('value')
        elif op['op'] == 'remove':
            if last not in node:
                raise ApiError(400, 'json patch: path %s not found' % op['path'])
            del node[last]
        elif op['op'] == 'test':
            if node.get(last) != op.get('value'):
                raise ApiError(400, 'json patch: test failed')
        else:
            raise ApiError(400, 'json patch: unsupported op %s' % op['op'])
    return doc


class ArgoFake(Fake):
    name = 'argocd'

    def __init__(self, token):
        spec = load_contract('argocd-subset.json')
        # Go embedding: SyncStrategyHook embeds SyncStrategyApply, so on the wire the hook
        # object holds "force" directly (util/grpc/json.go); the swagger shows the Go nesting.
        spec['definitions']['v1alpha1SyncStrategyHook'] = {
            'type': 'object', 'properties': {'force': {'type': 'boolean'}}}
        super().__init__(spec, routes_from_swagger(spec), token)
        self.apps = {}
        self.reset()

    def reset(self):
        self.apps = {}
        for a in (app('guestbook', labels={'env': 'prod', 'team': 'web'}),
                  app('auto-app', auto=True, history=2, labels={'env': 'prod'}),
                  app('team-app', ns='team-a', project='team-a', labels={'env': 'dev'}),
                  app('fresh', history=1),
                  app('busy', op_phase='Running')):
            self.apps[(a['metadata']['namespace'], a['metadata']['name'])] = a
        self.logs = [{'result': {'content': 'line %d' % i, 'podName': 'guestbook-7d9f-abc',
                                 'timeStamp': '2026-11-05T10:00:0%dZ' % i,
                                 'timeStampStr': '2026-11-05T10:00:0%dZ' % i, 'last': False}}
                     for i in range(5)]
        self.logs.append({'result': {'content': '', 'podName': 'guestbook-7d9f-abc',
                                     'last': True}})

    def set_state(self, state):
        if state.get('reset'):
            self.reset()
        for key, patch in state.get('apps', {}).items():
            ns, _, name = key.rpartition('/')
            k = (ns or CONTROL_NS, name)
            if patch is None:
                self.apps.pop(k, None)
            elif k in self.apps:
                self.apps[k] = merge_patch(self.apps[k], patch)
            else:
                self.apps[k] = merge_patch(app(name, ns=k[0]), patch)
        if 'logs' in state:
            self.logs = state['logs']

    # --- contract additions ----------------------------------------------
    def error_body(self, status, message, **extra):
        return {'error': message, 'code': GRPC.get(status, 2), 'message': message, 'details': []}

    def echo_auth(self, obj, auth):
        if isinstance(obj, dict) and 'status' in obj and isinstance(obj['status'], dict):
            obj['status'].setdefault('operationState', {})['message'] = 'seen ' + auth
            obj['status']['conditions'] = [{'type': 'Echo', 'message': auth}]
            obj['status']['health']['message'] = auth
        elif isinstance(obj, dict):
            obj['echo'] = auth
        return obj

    def violation_status(self, violations):
        return 415 if any(v.startswith('Content-Type') for v in violations) else 400

    def check(self, req, route):
        v = []
        if req.method != 'GET':
            ct = req.headers.get('content-type')
            if ct is None or ct.lower() != 'application/json':
                v.append('Content-Type must be exactly application/json on %s, got %r'
                         % (req.method, ct))
        op = route.op_id
        j = req.json if isinstance(req.json, dict) else {}
        if op == 'ApplicationService_Rollback':
            if 'id' not in j or isinstance(j.get('id'), bool) or not isinstance(j.get('id'), int):
                v.append('rollback body needs an integer id (the history ID)')
        if op == 'ApplicationService_Patch':
            if not isinstance(j.get('patch'), str):
                v.append('patch must be a JSON string')
            if j.get('patchType') not in ('merge', 'json'):
                v.append('patchType must be merge or json')
        if op in ('ApplicationService_PodLogs2', 'ApplicationService_PodLogs'):
            if req.q('follow') == 'true':
                v.append('follow=true never ends')
        return v

    # --- helpers -----------------------------------------------------------
    def ns_of(self, req):
        j = req.json if isinstance(req.json, dict) else {}
        return j.get('appNamespace') or req.q('appNamespace') or CONTROL_NS

    def find(self, req, name):
        a = self.apps.get((self.ns_of(req), name))
        project = req.q('project')
        if project is None and isinstance(req.json, dict):
            project = req.json.get('project')
        if a is None:
            if project:
                raise ApiError(404, 'applications.argoproj.io "%s" not found' % name)
            raise ApiError(403, 'permission denied')
        if project and a['spec']['project'] != project:
            raise ApiError(403, 'permission denied')
        return a

    @staticmethod
    def auto_on(a):
        au = a['spec'].get('syncPolicy', {}).get('automated')
        return isinstance(au, dict) and au.get('enabled', True) is not False

    # --- handlers ----------------------------------------------------------
    def handle_ApplicationService_List(self, req):
        sel = req.q('selector')
        items = []
        for (ns, name), a in sorted(self.apps.items()):
            if req.q('appNamespace') and ns != req.q('appNamespace'):
                continue
            if req.query.get('projects') and a['spec']['project'] not in req.query['projects']:
                continue
            if req.q('repo') and a['spec']['source']['repoURL'] != req.q('repo'):
                continue
            if sel:
                ok = True
                for term in sel.split(','):
                    if '!=' in term:
                        k, val = term.split('!=', 1)
                        ok &= a['metadata']['labels'].get(k.strip()) != val.strip()
                    elif '=' in term:
                        k, val = term.split('=', 1)
                        ok &= a['metadata']['labels'].get(k.strip()) == val.strip()
                    else:
                        ok &= term.strip() in a['metadata']['labels']
                if not ok:
                    continue
            items.append(a)
        return 200, {'metadata': {'resourceVersion': '1'}, 'items': items}, {}

    def handle_ApplicationService_Get(self, req):
        a = self.find(req, req.params['name'])
        if req.q('refresh') is not None and req.q('refresh') not in ('normal', 'hard'):
            raise ApiError(400, 'invalid refresh type')
        return 200, a, {}

    def handle_ApplicationService_Sync(self, req):
        a = self.find(req, req.params['name'])
        op = a['status'].get('operationState')
        if op and op.get('phase') in ('Running', 'Terminating'):
            raise ApiError(400, 'another operation is already in progress')
        j = req.json or {}
        if not j.get('dryRun'):
            a['status']['operationState'] = {
                'phase': 'Running', 'message': 'sync started',
                'startedAt': '2026-11-05T11:00:00Z',
                'operation': {'sync': {'revision': j.get('revision', 'HEAD'),
                                       'prune': j.get('prune', False)}}}
        return 200, a, {}

    def handle_ApplicationService_ResourceTree(self, req):
        a = self.find(req, req.params['applicationName'])
        name = a['metadata']['name']
        ns = a['spec']['destination']['namespace']
        nodes = [
            {'group': 'apps', 'version': 'v1', 'kind': 'Deployment', 'namespace': ns,
             'name': name, 'uid': 'd1', 'health': {'status': 'Healthy'}},
            {'group': 'apps', 'version': 'v1', 'kind': 'ReplicaSet', 'namespace': ns,
             'name': name + '-7d9f', 'uid': 'r1', 'health': {'status': 'Healthy'},
             'parentRefs': [{'group': 'apps', 'kind': 'Deployment', 'name': name,
                             'namespace': ns, 'uid': 'd1'}]},
            {'version': 'v1', 'kind': 'Pod', 'namespace': ns, 'name': name + '-7d9f-abc',
             'uid': 'p1', 'health': {'status': 'Degraded', 'message': 'CrashLoopBackOff'},
             'parentRefs': [{'group': 'apps', 'kind': 'ReplicaSet', 'name': name + '-7d9f',
                             'namespace': ns, 'uid': 'r1'}],
             'images': ['example/app:1.2']},
            {'version': 'v1', 'kind': 'Service', 'namespace': ns, 'name': name, 'uid': 's1',
             'health': {'status': 'Healthy'}}]
        if req.q('kind'):
            nodes = [n for n in nodes if n['kind'] == req.q('kind')]
        return 200, {'nodes': nodes, 'orphanedNodes': [], 'hosts': []}, {}

    def handle_ApplicationService_Rollback(self, req):
        a = self.find(req, req.params['name'])
        j = req.json
        if self.auto_on(a):
            raise ApiError(400, 'rollback cannot be initiated when auto-sync is enabled')
        ids = [h['id'] for h in a['status'].get('history', [])]
        if j['id'] not in ids:
            raise ApiError(400, 'application %s does not have deployment with id %d'
                           % (a['metadata']['name'], j['id']))
        if not j.get('dryRun'):
            a['status']['operationState'] = {
                'phase': 'Running', 'message': 'rollback to %d' % j['id'],
                'startedAt': '2026-11-05T11:00:00Z',
                'operation': {'sync': {'revision': [h for h in a['status']['history']
                                                    if h['id'] == j['id']][0]['revision']}}}
        return 200, a, {}

    def handle_ApplicationService_TerminateOperation(self, req):
        a = self.find(req, req.params['name'])
        op = a['status'].get('operationState')
        if not op or op.get('phase') != 'Running':
            raise ApiError(400, 'Unable to terminate operation. No operation is in progress')
        op['phase'] = 'Terminating'
        return 200, {}, {}

    def handle_ApplicationService_Patch(self, req):
        a = self.find(req, req.params['name'])
        j = req.json
        try:
            patch = json.loads(j['patch'])
        except ValueError as e:
            raise ApiError(400, 'invalid patch: %s' % e)
        if j['patchType'] == 'merge':
            if not isinstance(patch, dict):
                raise ApiError(400, 'merge patch must be an object')
            new = merge_patch(a, patch)
        else:
            if not isinstance(patch, list):
                raise ApiError(400, 'json patch must be an array')
            new = json_patch(a, patch)
        if new['metadata'].get('name') != a['metadata']['name']:
            raise ApiError(400, 'cannot change the name')
        key = (a['metadata']['namespace'], a['metadata']['name'])
        self.apps[key] = new
        return 200, new, {}

    def handle_ApplicationService_GetManifests(self, req):
        a = self.find(req, req.params['name'])
        name = a['metadata']['name']
        ns = a['spec']['destination']['namespace']
        rev = req.q('revision') or a['status']['sync']['revision']
        ms = [{'apiVersion': 'apps/v1', 'kind': 'Deployment',
               'metadata': {'name': name, 'namespace': ns},
               'spec': {'replicas': 2, 'template': {'spec': {'containers': [
                   {'name': 'app', 'image': 'example/app:%s' % rev[:8]}]}}}},
              {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name,
                                                                   'namespace': ns},
               'spec': {'ports': [{'port': 80}]}}]
        return 200, {'manifests': [json.dumps(m) for m in ms], 'namespace': ns,
                     'server': a['spec']['destination']['server'], 'revision': rev,
                     'sourceType': 'Kustomize'}, {}

    def handle_ApplicationService_PodLogs2(self, req):
        self.find(req, req.params['name'])
        lines = self.logs
        tail = req.q('tailLines')
        if tail:
            body = [x for x in lines if not x.get('result', {}).get('last')]
            last = [x for x in lines if x.get('result', {}).get('last')]
            lines = body[-int(tail):] + last
        out = ''.join(json.dumps(x) + '\n' for x in lines)
        return 200, out.encode(), {'Content-Type': 'application/json'}

    handle_ApplicationService_PodLogs = handle_ApplicationService_PodLogs2


def main():
    """--data FILE: a control "state" object applied at start (e.g. the demo's apps)."""
    data = None
    if '--data' in sys.argv:
        i = sys.argv.index('--data')
        with open(sys.argv[i + 1]) as fh:
            data = json.load(fh)
        del sys.argv[i:i + 2]

    def make(token):
        f = ArgoFake(token)
        if data is not None:
            f.set_state(data)
        return f
    fakebase.main(make)


if __name__ == '__main__':
    main()
