#!/usr/bin/env python3
"""Fake GitLab REST v4 (CI subset) for tests/tools/test_gitlab.c.

Routes, parameters, success codes and bodies come from tests/tools/contracts/gitlab-ci.json
(hand-built from GitLab's docs and lib/api/ci/*.rb; see its "sources"). The API lives under
/api/v4 (or <prefix>/api/v4 with state "prefix" for a relative URL root). On top of fakebase's
checks: the project is ONE segment (numeric, or the path with '/' sent as %2F), the artifact path
keeps its '/', user-token requests carry "Authorization: Bearer" and never PRIVATE-TOKEN, the
trigger endpoint authenticates with the form field `token` (no Authorization), per_page <= 100,
create-pipeline variables are [{key, value[, variable_type]}] and trigger variables are
variables[KEY]=value form fields. State knobs (besides fakebase's): "project" (the path the
project answers to beside its numeric id 42), "failure_reason" (of the failed jobs; GitLab's
enum, e.g. runner_system_failure) and "log_error" (the trace's closing error lines, '\n'-joined).
"""
import io
import re
import zipfile

import fakebase
from fakebase import ApiError, Fake, Route

PROJECT = 'group/sub/proj'
PROJECT_ID = '42'
TRIGGER_TOKEN = 'glptt-trigger-0123'

TYPES = {'integer': {'type': 'integer'}, 'boolean': {'type': 'boolean'}}


def param_schema(p):
    t = p.get('type', 'string')
    if t.startswith('string (repeatable)'):
        s = {'type': 'array', 'items': {'type': 'string'}}
        if 'enum' in p:
            s['items']['enum'] = p['enum']
        return s
    s = dict(TYPES.get(t, {'type': 'string'}))
    if 'enum' in p:
        s['enum'] = p['enum']
    return s


def params_of(op):
    out = {}
    for p in op.get('params', []):
        out[p['name']] = {'in': p['in'], 'required': p.get('required', False),
                          'schema': param_schema(p)}
    return out


PATH = {'in': 'path', 'required': True, 'schema': {'type': 'string'}}
PATH_INT = {'in': 'path', 'required': True, 'schema': {'type': 'integer'}}
PAGING = {'page': {'in': 'query', 'required': False, 'schema': {'type': 'integer'}},
          'per_page': {'in': 'query', 'required': False, 'schema': {'type': 'integer'}}}


class WildRoute(Route):
    """A route whose last template variable {name*} takes one or more raw segments, '/' kept
    (GitLab's *artifact_path)."""

    def match(self, raw_path):
        segs = raw_path.strip('/').split('/')
        n = len(self.segs) - 1
        if len(segs) <= n:
            return None
        out = fakebase.match_segs(self.segs[:n], segs[:n], {})
        if out is not None:
            out[self.segs[n][1:-2]] = '/'.join(segs[n:])
        return out


def routes(spec):
    ops = spec['operations']
    r = []
    for name in ('list_pipelines', 'get_pipeline', 'get_pipeline_jobs', 'get_job',
                 'get_job_logs', 'retry_pipeline', 'cancel_pipeline', 'retry_job', 'cancel_job'):
        op = ops[name]
        prm = params_of(op)
        for k in ('id', 'pipeline_id', 'job_id'):
            if k in op['path']:
                prm[k] = PATH if k == 'id' else PATH_INT
        r.append(Route(op['method'], '/api/v4' + op['path'], name, prm))
    # bridges: named by the get_pipeline_jobs note, same parameters
    prm = params_of(ops['get_pipeline_jobs'])
    prm.update({'id': PATH, 'pipeline_id': PATH_INT})
    r.append(Route('GET', '/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges', 'bridges', prm))
    tv = ops['trigger_pipeline']['variants']
    create = tv['create_pipeline_with_user_token']
    r.append(Route(create['method'], '/api/v4' + create['path'], 'create_pipeline', {'id': PATH},
                   body={'type': 'object', 'required': ['ref'], 'properties': {
                       'ref': {'type': 'string'},
                       'variables': {'type': 'array', 'items': {
                           'type': 'object', 'required': ['key', 'value'],
                           'properties': {'key': {'type': 'string'}, 'value': {'type': 'string'},
                                          'variable_type': {'type': 'string',
                                                            'enum': ['env_var', 'file']}}}},
                       'inputs': {'type': 'object', 'additionalProperties': {}}}},
                   body_type='json', body_required=True))
    trig = tv['trigger_with_trigger_token']
    r.append(Route(trig['method'], '/api/v4' + trig['path'], 'trigger_pipeline', {'id': PATH},
                   body={'type': 'object', 'required': ['token', 'ref'], 'properties': {}},
                   body_type='form', body_required=True))
    dv = ops['download_artifact']['variants']
    r.append(WildRoute('GET', '/api/v4' + dv['single_file_by_job_id']['path'].replace(
        '{artifact_path}', '{artifact_path*}'), 'artifact_file',
        {'id': PATH, 'job_id': PATH_INT}))
    r.append(Route('GET', '/api/v4' + dv['archive_by_job_id']['path'], 'artifact_archive',
                   {'id': PATH, 'job_id': PATH_INT}))
    return r


def pipeline(pid, status, ref='main', source='push'):
    return {'id': pid, 'iid': pid - 1000, 'project_id': 42, 'status': status, 'source': source,
            'ref': ref, 'sha': '%040x' % pid, 'before_sha': '0' * 40, 'tag': False,
            'yaml_errors': None, 'user': {'id': 1, 'username': 'ci-bot', 'name': 'CI bot'},
            'created_at': '2026-01-01T00:00:00.000Z', 'updated_at': '2026-01-01T00:10:00.000Z',
            'started_at': '2026-01-01T00:00:05.000Z', 'finished_at': None, 'committed_at': None,
            'duration': 600, 'queued_duration': 5, 'coverage': None,
            'web_url': 'https://gitlab.example.com/%s/-/pipelines/%d' % (PROJECT, pid),
            'detailed_status': {'icon': 'status_' + status, 'text': status, 'label': status,
                                'group': status, 'tooltip': status, 'has_details': True}}


def job(jid, pid, name, stage, status, bridge=False):
    j = {'id': jid, 'name': name, 'stage': stage, 'status': status, 'ref': 'main', 'tag': False,
         'allow_failure': False, 'created_at': '2026-01-01T00:00:00.000Z',
         'started_at': '2026-01-01T00:00:10.000Z', 'finished_at': '2026-01-01T00:05:00.000Z',
         'duration': 290.0, 'queued_duration': 1.5,
         'failure_reason': 'script_failure' if status == 'failed' else None,
         'web_url': 'https://gitlab.example.com/%s/-/jobs/%d' % (PROJECT, jid),
         'user': {'id': 1, 'username': 'ci-bot'}, 'pipeline': {'id': pid, 'status': 'failed'},
         'commit': {'id': '%040x' % pid, 'title': 'fix: things'},
         'runner': {'id': 7, 'description': 'shared-runner-1'},
         'artifacts': [{'file_type': 'archive', 'size': 1000, 'filename': 'artifacts.zip'}]}
    if bridge:
        j['downstream_pipeline'] = {'id': pid + 500, 'status': 'success'}
    return j


def artifacts_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('dist/report.json', '{"passed": 12, "failed": 1}\n')
        z.writestr('dist/app.bin', bytes(range(256)))
    return buf.getvalue()


class GitLabFake(Fake):
    name = 'gitlab'

    def __init__(self, token):
        spec = fakebase.load_contract('gitlab-ci.json')
        super().__init__({}, routes(spec), None)
        self.api_token = token
        self.reset()

    def reset(self):
        self.body_mode, self.body_count = None, 0
        self.prefix = ''
        self.pipelines = {1000 + i: pipeline(1000 + i, s) for i, s in enumerate(
            ['failed', 'running', 'success', 'success', 'canceled', 'success', 'failed'])}
        self.jobs = {2001: job(2001, 1000, 'unit', 'test', 'failed'),
                     2002: job(2002, 1000, 'lint', 'test', 'success'),
                     2003: job(2003, 1000, 'build', 'build', 'success'),
                     2004: job(2004, 1001, 'unit', 'test', 'running')}
        self.bridges = {2101: job(2101, 1000, 'deploy-child', 'deploy', 'success', True)}
        self.files = {2003: {'dist/report.json': b'{"passed": 12, "failed": 1}\n',
                             'dist/app.bin': bytes(range(256))}}
        self.next_id = 1100
        self.echo_token = False
        self.project_path = PROJECT
        self.log_error = ('FAIL: test_rollback (expected 2, got 3)\n'
                          'ERROR: Job failed: exit code 1')

    def set_state(self, state):
        self.apply_state(state, prefix=None, echo_token=bool, log_error=str)
        if 'project' in state:
            old, self.project_path = self.project_path, str(state['project'])
            for o in list(self.pipelines.values()) + list(self.jobs.values()) + \
                    list(self.bridges.values()):
                o['web_url'] = o['web_url'].replace('/%s/-/' % old, '/%s/-/' % self.project_path)
        if 'failure_reason' in state:
            for j in self.jobs.values():
                if j['status'] == 'failed':
                    j['failure_reason'] = str(state['failure_reason'])

    # ---------------------------------------------------------------- contract
    def find_route(self, method, raw_path):
        if self.prefix:
            if not raw_path.startswith(self.prefix + '/'):
                return None, None, 'no route for %s %s' % (method, raw_path)
            raw_path = raw_path[len(self.prefix):]
        return super().find_route(method, raw_path)

    def error_body(self, status, message, **extra):
        if status == 403 and extra.get('scope'):
            return {'error': 'insufficient_scope', 'error_description': message,
                    'scope': extra['scope']}
        return {'message': message}

    def check(self, req, route):
        v = []
        if 'private-token' in req.headers:
            v.append('PRIVATE-TOKEN header sent (use Authorization: Bearer)')
        auth = req.headers.get('authorization')
        if route.op_id == 'trigger_pipeline':
            if auth is not None:
                v.append('trigger endpoint got an Authorization header (the token field '
                         'authenticates)')
            for k in (req.form or {}):
                if k not in ('token', 'ref') and not re.fullmatch(r'variables\[[A-Za-z0-9_]+\]', k):
                    v.append('unknown form field %s' % k)
                elif len(req.form[k]) != 1:
                    v.append('form field %s given %d times' % (k, len(req.form[k])))
        elif auth is None or not auth.startswith('Bearer '):
            v.append('Authorization must be "Bearer <token>"')
        for k in ('pipeline_id', 'job_id'):
            if k in req.params and not re.fullmatch(r'[0-9]+', req.params[k]):
                v.append('path parameter %s=%r is not an integer' % (k, req.params[k]))
        pp = req.q('per_page')
        if pp and pp.isdigit() and int(pp) > 100:
            v.append('per_page %s over 100' % pp)
        if route.method == 'POST' and route.body is None and req.body:
            v.append('no body expected')
        return v

    def echo_auth(self, obj, auth):
        if isinstance(obj, list):
            for x in obj:
                self.echo_auth(x, auth)
        elif isinstance(obj, dict):
            for k in ('name', 'ref', 'web_url'):
                if k in obj:
                    obj[k] = 'echo ' + auth
        return obj

    # ---------------------------------------------------------------- helpers
    def authed(self, req):
        if req.route.op_id == 'trigger_pipeline':
            if (req.form or {}).get('token', [''])[0] != TRIGGER_TOKEN:
                raise ApiError(404, '404 Not Found')
            return
        if self.api_token is not None and \
                req.headers.get('authorization') != 'Bearer ' + self.api_token:
            raise ApiError(401, '401 Unauthorized')

    def project(self, req):
        self.authed(req)
        if req.params.get('id') not in (self.project_path, PROJECT_ID):
            raise ApiError(404, '404 Project Not Found')

    def page(self, req, items):
        per = int(req.q('per_page', '20'))
        page = int(req.q('page', '1'))
        chunk = items[(page - 1) * per: page * per]
        pages = max(1, (len(items) + per - 1) // per)
        nxt = str(page + 1) if page < pages else ''
        hdrs = {'X-Page': str(page), 'X-Per-Page': str(per), 'X-Next-Page': nxt,
                'X-Prev-Page': str(page - 1) if page > 1 else '', 'X-Total': str(len(items)),
                'X-Total-Pages': str(pages)}
        if nxt:
            host = req.headers.get('host', '127.0.0.1')
            hdrs['Link'] = '<http://%s%s?page=%s&per_page=%d>; rel="next"' % (
                host, req.raw_path, nxt, per)
        return chunk, hdrs

    def pipeline_of(self, req):
        self.project(req)
        pid = int(req.params['pipeline_id'])
        if pid not in self.pipelines:
            raise ApiError(404, '404 Not found')
        return self.pipelines[pid]

    def job_of(self, req):
        self.project(req)
        jid = int(req.params['job_id'])
        if jid not in self.jobs:
            raise ApiError(404, '404 Not found')
        return self.jobs[jid]

    # ---------------------------------------------------------------- handlers
    def handle_list_pipelines(self, req):
        self.project(req)
        out = [p for _, p in sorted(self.pipelines.items(), reverse=True)
               if (not req.q('status') or p['status'] == req.q('status')) and
               (not req.q('ref') or p['ref'] == req.q('ref'))]
        chunk, hdrs = self.page(req, out)
        return 200, chunk, hdrs

    def handle_get_pipeline(self, req):
        return 200, self.pipeline_of(req), {}

    def jobs_list(self, req, src):
        pid = self.pipeline_of(req)['id']
        scopes = req.query.get('scope[]', [])
        out = [j for _, j in sorted(src.items())
               if j['pipeline']['id'] == pid and (not scopes or j['status'] in scopes)]
        chunk, hdrs = self.page(req, out)
        return 200, chunk, hdrs

    def handle_get_pipeline_jobs(self, req):
        return self.jobs_list(req, self.jobs)

    def handle_bridges(self, req):
        return self.jobs_list(req, self.bridges)

    def handle_get_job(self, req):
        return 200, self.job_of(req), {}

    def handle_get_job_logs(self, req):
        j = self.job_of(req)
        lines = ['\x1b[0KRunning with gitlab-runner 17.0.0\x1b[0;m']
        lines += ['\x1b[32;1m$ make test\x1b[0;m'] + ['ok %d - case %d' % (i, i) for i in range(400)]
        lines += ['\x1b[31;1m%s\x1b[0;m' % e for e in self.log_error.split('\n')]
        return 200, ('\n'.join(lines) + '\n').encode(), {
            'Content-Type': 'text/plain', 'Content-Disposition': 'attachment; filename=%d.log'
            % j['id']}

    def handle_retry_pipeline(self, req):
        p = self.pipeline_of(req)
        if p['status'] in ('failed', 'canceled'):
            p['status'] = 'pending'
            p['detailed_status']['text'] = 'pending'
        return 201, p, {}

    def handle_cancel_pipeline(self, req):
        p = self.pipeline_of(req)
        if p['status'] in ('running', 'pending', 'created'):
            p['status'] = 'canceled'
        return 200, p, {}

    def new_pipeline(self, ref, source):
        if ref not in ('main', 'release/1.x', 'v1.0.0'):
            raise ApiError(400, {'base': ['Reference not found']})
        self.next_id += 1
        p = pipeline(self.next_id, 'created', ref, source)
        self.pipelines[p['id']] = p
        return p

    def handle_create_pipeline(self, req):
        self.project(req)
        p = self.new_pipeline(req.json['ref'], 'api')
        p['variables'] = req.json.get('variables', [])
        return 201, p, {}

    def handle_trigger_pipeline(self, req):
        self.project(req)
        p = self.new_pipeline(req.form['ref'][0], 'trigger')
        p['variables'] = {k[10:-1]: v[0] for k, v in req.form.items() if k.startswith('variables[')}
        if self.echo_token:    # a server that echoes what it was sent (scrubbing test)
            p['name'] = 'triggered with ' + req.form['token'][0]
        return 201, p, {}

    def handle_artifact_file(self, req):
        j = self.job_of(req)
        path = req.params['artifact_path']
        files = self.files.get(j['id'])
        if files is None:
            raise ApiError(404, '404 Not Found')
        if path not in files:
            raise ApiError(404, '404 Not Found')
        return 200, files[path], {'Content-Type': 'application/octet-stream'}

    def handle_artifact_archive(self, req):
        j = self.job_of(req)
        if j['id'] not in self.files:
            raise ApiError(404, '404 Not Found')
        return 200, artifacts_zip(), {'Content-Type': 'application/zip'}

    def handle_retry_job(self, req):
        return 201, self.job_of(req), {}

    def handle_cancel_job(self, req):
        return 201, self.job_of(req), {}


if __name__ == '__main__':
    fakebase.main(GitLabFake)
