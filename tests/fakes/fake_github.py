#!/usr/bin/env python3
"""Fake GitHub REST API for tests/tools/test_github.c: the Actions subset plus releases and
commit comparison.

Routes, parameters and request bodies come from tests/tools/contracts/github-actions-subset.json
(the official OpenAPI description, via @octokit/openapi) and github-releases.json (hand-written
from docs.github.com); answers are built from the same schemas (every required field present)
with this fake's data laid over them. On top of fakebase's checks every API request must carry
Accept: application/vnd.github+json, X-GitHub-Api-Version: 2022-11-28 and Authorization: Bearer,
integer path parameters must be integers, per_page <= 100, no trailing slash, archive_format zip.

Logs and artifact archives answer 302 to http://localhost:<port>/_blob/... (another host name
for the same server: the "storage host"); a request there that carries Authorization is a
violation. State knobs (POST /__fake/control {"state": {...}}): "prefix" (e.g. "/api/v3" for
GitHub Enterprise Server), "log_lines", "log_error" (the log's last, ##[error] line), "owner" and
"repo" (the one repository served; default octo-org/hello-world), "reset". A created release's
tag becomes a ref (compare_commits, workflow dispatch), as on GitHub.
"""
import io
import json
import re
import zipfile

import fakebase
from fakebase import ApiError, Fake, Route, _resolve

OWNER, REPO = 'octo-org', 'hello-world'
DOC = 'https://docs.github.com/rest'


def example(spec, schema, depth=0):
    """A value of the schema with every required field filled in."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    if 'allOf' in schema:
        out = {}
        for s in schema['allOf']:
            e = example(spec, s, depth + 1)
            if isinstance(e, dict):
                out.update(e)
        return out
    for k in ('oneOf', 'anyOf'):
        if k in schema:
            return example(spec, schema[k][0], depth + 1)
    t = schema.get('type')
    if isinstance(t, list):
        t = next((x for x in t if x != 'null'), None)
    if schema.get('enum'):
        return next((x for x in schema['enum'] if x is not None), None)
    if t == 'object' or 'properties' in schema:
        props = schema.get('properties', {})
        return {k: example(spec, props.get(k, {}), depth + 1) for k in schema.get('required', [])}
    if t == 'array':
        return []
    if t == 'string':
        fmt = schema.get('format')
        if fmt == 'date-time':
            return '2026-01-01T00:00:00Z'
        if fmt == 'uri':
            return 'https://example.invalid/x'
        return 'x'
    if t == 'integer':
        return 1
    if t == 'number':
        return 1.0
    if t == 'boolean':
        return False
    return None


def overlay(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            overlay(base[k], v)
        else:
            base[k] = v
    return base


def authed(fn):
    """GitHub answers a wrong or missing token with 401 "Bad credentials"."""
    def wrapper(self, req):
        if self.api_token is not None and \
                req.headers.get('authorization') != 'Bearer ' + self.api_token:
            raise ApiError(401, 'Bad credentials')
        return fn(self, req)
    return wrapper


def artifact_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('report.txt', 'all 12 tests passed\n')
        z.writestr('dist/app.bin', bytes(range(256)) * 4)
    return buf.getvalue()


class GitHubFake(Fake):
    name = 'github'

    def __init__(self, token):
        actions = fakebase.load_contract('github-actions-subset.json')
        rel = fakebase.load_contract('github-releases.json')
        schemas = dict(actions['components']['schemas'])
        schemas.update(rel['components']['schemas'])
        spec = {'components': {'schemas': schemas}}
        routes = fakebase.routes_from_openapi3(actions) + fakebase.routes_from_openapi3(rel)
        sp = {'in': 'path', 'required': True, 'schema': {'type': 'string'}}
        routes.append(Route('GET', '/_blob/{kind}/{name}', 'blob', {'kind': sp, 'name': sp}))
        super().__init__(spec, routes, None)
        self.api_token = token
        self.reset()

    # ---------------------------------------------------------------- data
    def reset(self):
        self.body_mode, self.body_count = None, 0
        self.prefix = ''
        self.owner, self.repo = OWNER, REPO
        self.log_lines = 3000
        self.log_error = 'Process completed with exit code 1.'
        self.workflows = {161335: ('CI', '.github/workflows/ci.yml'),
                          161336: ('Deploy', '.github/workflows/deploy.yml')}
        self.deploy_inputs = {'environment', 'version'}
        self.runs = {}
        for i in range(7):
            rid = 30001 + i
            done = i != 1
            self.runs[rid] = {'id': rid, 'workflow_id': 161335 if i % 2 == 0 else 161336,
                              'status': 'completed' if done else 'in_progress',
                              'conclusion': ('failure' if i == 0 else 'success') if done else None,
                              'head_branch': 'main' if i < 5 else 'feature/x', 'event': 'push',
                              'run_number': 100 + i}
        self.jobs = {40001: (30001, 'test', 'completed', 'failure'),
                     40002: (30001, 'lint', 'completed', 'success'),
                     40003: (30002, 'build', 'in_progress', None)}
        self.artifacts = {50001: (30001, 'dist', False, artifact_zip()),
                          50002: (30001, 'coverage', True, b''),
                          50003: (30003, 'big-image', False, None)}
        self.releases = [self.release_obj(2, 'v1.1.0', 'main'), self.release_obj(1, 'v1.0.0', 'main')]
        self.commits = ['feat: first public API', 'fix: handle empty input', 'chore: bump deps',
                        'feat!: new config format\n\nBREAKING CHANGE: config keys renamed',
                        'fix(ci): cache key', 'docs: readme']
        self.ref_index = {'v1.0.0': 1, 'v1.1.0': 3, 'main': 6, 'release/1.x': 2}
        self.next_run = 39000

    def set_state(self, state):
        self.apply_state(state, prefix=None, log_lines=int, owner=str, repo=str, log_error=str)

    def obj(self, schema, over):
        return overlay(example(self.spec, {'$ref': '#/components/schemas/' + schema}), over)

    def run_obj(self, r):
        rid = r['id']
        base = 'https://api.github.com/repos/%s/%s/actions/runs/%d' % (self.owner, self.repo, rid)
        name, path = self.workflows[r['workflow_id']]
        return self.obj('workflow-run', {
            'id': rid, 'name': name, 'display_title': 'run %d' % rid, 'path': path,
            'run_number': r['run_number'], 'run_attempt': 1, 'event': r['event'],
            'status': r['status'], 'conclusion': r['conclusion'], 'workflow_id': r['workflow_id'],
            'head_branch': r['head_branch'], 'head_sha': '%040x' % rid, 'url': base,
            'html_url': 'https://github.com/%s/%s/actions/runs/%d' % (self.owner, self.repo, rid),
            'actor': self.obj('simple-user', {'login': 'octocat'}),
            'head_commit': {'message': 'commit for %d' % rid},
            'pull_requests': []})

    def job_obj(self, jid):
        run, name, status, concl = self.jobs[jid]
        steps = [{'name': 'Set up job', 'status': 'completed', 'conclusion': 'success',
                  'number': 1},
                 {'name': 'Run tests', 'status': status, 'conclusion': concl, 'number': 2}]
        return self.obj('job', {'id': jid, 'run_id': run, 'name': name, 'status': status,
                                'conclusion': concl, 'workflow_name': 'CI', 'head_branch': 'main',
                                'labels': ['ubuntu-latest'], 'runner_name': 'runner-1',
                                'steps': steps})

    def artifact_obj(self, aid):
        run, name, expired, data = self.artifacts[aid]
        size = len(data) if data is not None else 50 << 20
        return self.obj('artifact', {
            'id': aid, 'name': name, 'size_in_bytes': size, 'expired': expired,
            'archive_download_url': 'https://api.github.com/repos/%s/%s/actions/artifacts/%d/zip'
            % (self.owner, self.repo, aid), 'workflow_run': {'id': run, 'head_branch': 'main'}})

    def release_obj(self, rid, tag, target, name=None, body=None, draft=False, pre=False):
        return {'url': 'https://api.github.com/repos/%s/%s/releases/%d' % (self.owner, self.repo, rid),
                'html_url': 'https://github.com/%s/%s/releases/tag/%s' % (self.owner, self.repo, tag),
                'assets_url': 'x', 'upload_url': 'x', 'tarball_url': 'x', 'zipball_url': 'x',
                'id': rid, 'node_id': 'RE_%d' % rid, 'tag_name': tag, 'target_commitish': target,
                'name': name or tag, 'body': body or 'notes for %s' % tag, 'draft': draft,
                'prerelease': pre, 'created_at': '2026-01-0%dT00:00:00Z' % rid,
                'published_at': None if draft else '2026-01-0%dT00:00:00Z' % rid,
                'author': {'login': 'octocat', 'id': 1}, 'assets': []}

    # ---------------------------------------------------------------- contract
    def find_route(self, method, raw_path):
        if raw_path.startswith('/_blob/'):
            return super().find_route(method, raw_path)
        if self.prefix:
            if not raw_path.startswith(self.prefix + '/'):
                return None, None, 'no route for %s %s (expected prefix %s)' % (
                    method, raw_path, self.prefix)
            raw_path = raw_path[len(self.prefix):]
        return super().find_route(method, raw_path)

    def error_body(self, status, message, **extra):
        out = {'message': message, 'documentation_url': DOC, 'status': str(status)}
        out.update(extra)
        return out

    def check(self, req, route):
        v = []
        if route.op_id == 'blob':
            if 'authorization' in req.headers:
                v.append('the credential was sent to the storage host')
            return v
        if req.headers.get('accept') != 'application/vnd.github+json':
            v.append('Accept must be application/vnd.github+json, got %r'
                     % req.headers.get('accept'))
        if req.headers.get('x-github-api-version') != '2022-11-28':
            v.append('X-GitHub-Api-Version must be 2022-11-28')
        if not req.headers.get('authorization', '').startswith('Bearer '):
            v.append('Authorization must be "Bearer <token>"')
        if req.raw_path.endswith('/'):
            v.append('trailing slash (GitHub answers 404)')
        pp = req.q('per_page')
        if pp and pp.isdigit() and int(pp) > 100:
            v.append('per_page %s over 100' % pp)
        for name, p in route.params.items():
            sch = p.get('schema', {})
            if p['in'] == 'path' and sch.get('type') == 'integer' and \
                    not re.fullmatch(r'[0-9]+', req.params.get(name, '')):
                v.append('path parameter %s=%r is not an integer' % (name, req.params.get(name)))
        if 'archive_format' in req.params and req.params['archive_format'] != 'zip':
            v.append('archive_format must be zip')
        if req.body and req.headers.get('content-type') != 'application/json':
            v.append('JSON body needs Content-Type application/json')
        if isinstance(req.json, dict) and isinstance(req.json.get('inputs'), dict) and \
                len(req.json['inputs']) > 25:
            v.append('inputs: more than 25 keys')
        return v

    def echo_auth(self, obj, auth):
        """Put the Authorization header into fields the family returns."""
        if isinstance(obj, list):
            for x in obj:
                self.echo_auth(x, auth)
        elif isinstance(obj, dict):
            for k in list(obj):
                if k in ('name', 'display_title', 'message', 'body', 'html_url'):
                    obj[k] = 'echo ' + auth
                elif isinstance(obj[k], (dict, list)):
                    self.echo_auth(obj[k], auth)
        return obj

    # ---------------------------------------------------------------- helpers
    def repo_check(self, req):
        if req.params.get('owner') != self.owner or req.params.get('repo') != self.repo:
            raise ApiError(404, 'Not Found')

    def page(self, req, items):
        per = int(req.q('per_page', '30'))
        page = int(req.q('page', '1'))
        chunk = items[(page - 1) * per: page * per]
        hdrs = {}
        if page * per < len(items):
            host = req.headers.get('host', '127.0.0.1')
            hdrs['Link'] = ('<http://%s%s?per_page=%d&page=%d>; rel="next", '
                            '<http://%s%s?per_page=%d&page=%d>; rel="last"'
                            % (host, req.raw_path, per, page + 1, host, req.raw_path, per,
                               (len(items) + per - 1) // per))
        return chunk, hdrs

    def storage(self, req, kind, name):
        port = req.headers.get('host', '127.0.0.1:0').rsplit(':', 1)[-1]
        return 'http://localhost:%s/_blob/%s/%s' % (port, kind, name)

    def run_of(self, req):
        self.repo_check(req)
        rid = int(req.params['run_id'])
        if rid not in self.runs:
            raise ApiError(404, 'Not Found')
        return self.runs[rid]

    def workflow_of(self, req):
        wid = req.params.get('workflow_id', '')
        for k, (name, path) in self.workflows.items():
            if wid == str(k) or wid == path.rsplit('/', 1)[-1]:
                return k
        raise ApiError(404, 'Not Found')

    # ---------------------------------------------------------------- runs and jobs
    def list_runs(self, req, wid):
        self.repo_check(req)
        out = []
        for r in sorted(self.runs.values(), key=lambda x: -x['id']):
            if wid is not None and r['workflow_id'] != wid:
                continue
            if req.q('branch') and r['head_branch'] != req.q('branch'):
                continue
            if req.q('event') and r['event'] != req.q('event'):
                continue
            st = req.q('status')
            if st and st not in (r['status'], r['conclusion']):
                continue
            out.append(self.run_obj(r))
        chunk, hdrs = self.page(req, out)
        return 200, {'total_count': len(out), 'workflow_runs': chunk}, hdrs

    @authed
    def handle_actions_list_workflow_runs_for_repo(self, req):
        return self.list_runs(req, None)

    @authed
    def handle_actions_list_workflow_runs(self, req):
        self.repo_check(req)
        return self.list_runs(req, self.workflow_of(req))

    @authed
    def handle_actions_get_workflow_run(self, req):
        return 200, self.run_obj(self.run_of(req)), {}

    @authed
    def handle_actions_list_jobs_for_workflow_run(self, req):
        rid = self.run_of(req)['id']
        jobs = [self.job_obj(j) for j in sorted(self.jobs) if self.jobs[j][0] == rid]
        chunk, hdrs = self.page(req, jobs)
        return 200, {'total_count': len(jobs), 'jobs': chunk}, hdrs

    def job_of(self, req):
        self.repo_check(req)
        jid = int(req.params['job_id'])
        if jid not in self.jobs:
            raise ApiError(404, 'Not Found')
        return jid

    @authed
    def handle_actions_get_job_for_workflow_run(self, req):
        return 200, self.job_obj(self.job_of(req)), {}

    @authed
    def handle_actions_download_job_logs_for_workflow_run(self, req):
        jid = self.job_of(req)
        return 302, b'', {'Location': self.storage(req, 'logs', str(jid)),
                          'Content-Type': 'text/html'}

    def handle_blob(self, req):
        kind, name = req.params['kind'], req.params['name']
        if kind == 'logs':
            lines = ['2026-01-01T00:00:%02dZ step output line %d' % (i % 60, i)
                     for i in range(self.log_lines)]
            lines.append('2026-01-01T00:01:00Z ##[error]' + self.log_error)
            return 200, ('\n'.join(lines) + '\n').encode(), {'Content-Type': 'text/plain'}
        if kind == 'artifacts' and name.isdigit() and int(name) in self.artifacts:
            data = self.artifacts[int(name)][3] or b''
            return 200, data, {'Content-Type': 'application/zip'}
        raise ApiError(404, 'BlobNotFound')

    def change_run(self, req, ok_when, status, conflict, msg):
        r = self.run_of(req)
        if not ok_when(r):
            raise ApiError(conflict, msg)
        if status:
            r['status'], r['conclusion'] = status
        return r

    @authed
    def handle_actions_cancel_workflow_run(self, req):
        self.change_run(req, lambda r: r['status'] != 'completed', ('completed', 'cancelled'),
                        409, 'Cannot cancel a workflow run that is completed.')
        return 202, {}, {}

    @authed
    def handle_actions_force_cancel_workflow_run(self, req):
        self.change_run(req, lambda r: r['status'] != 'completed', ('completed', 'cancelled'),
                        409, 'Cannot cancel a workflow run that is completed.')
        return 202, {}, {}

    @authed
    def handle_actions_re_run_workflow(self, req):
        self.change_run(req, lambda r: r['status'] == 'completed', ('queued', None), 403,
                        'This workflow is already running')
        return 201, {}, {}

    @authed
    def handle_actions_re_run_workflow_failed_jobs(self, req):
        self.change_run(req, lambda r: r['status'] == 'completed', ('queued', None), 403,
                        'This workflow is already running')
        return 201, {}, {}

    @authed
    def handle_actions_create_workflow_dispatch(self, req):
        self.repo_check(req)
        wid = self.workflow_of(req)
        body = req.json or {}
        if body.get('ref') not in self.ref_index:
            raise ApiError(422, 'No ref found for: %s' % body.get('ref'))
        extra = sorted(set(body.get('inputs', {})) - (self.deploy_inputs if wid == 161336 else set()))
        if extra:
            raise ApiError(422, 'Unexpected inputs provided: %s' % json.dumps(extra))
        self.next_run += 1
        rid = self.next_run
        self.runs[rid] = {'id': rid, 'workflow_id': wid, 'status': 'queued', 'conclusion': None,
                          'head_branch': body['ref'], 'event': 'workflow_dispatch',
                          'run_number': rid - 38000}
        if body.get('return_run_details'):
            return 200, {'workflow_run_id': rid,
                         'run_url': 'https://api.github.com/repos/%s/%s/actions/runs/%d'
                         % (self.owner, self.repo, rid),
                         'html_url': 'https://github.com/%s/%s/actions/runs/%d'
                         % (self.owner, self.repo, rid)}, {}
        return 204, b'', {}

    # ---------------------------------------------------------------- artifacts
    def list_artifacts(self, req, rid):
        out = [self.artifact_obj(a) for a in sorted(self.artifacts)
               if (rid is None or self.artifacts[a][0] == rid) and
               (not req.q('name') or self.artifacts[a][1] == req.q('name'))]
        chunk, hdrs = self.page(req, out)
        return 200, {'total_count': len(out), 'artifacts': chunk}, hdrs

    @authed
    def handle_actions_list_artifacts_for_repo(self, req):
        self.repo_check(req)
        return self.list_artifacts(req, None)

    @authed
    def handle_actions_list_workflow_run_artifacts(self, req):
        return self.list_artifacts(req, self.run_of(req)['id'])

    def artifact_of(self, req):
        self.repo_check(req)
        aid = int(req.params['artifact_id'])
        if aid not in self.artifacts:
            raise ApiError(404, 'Not Found')
        return aid

    @authed
    def handle_actions_get_artifact(self, req):
        return 200, self.artifact_obj(self.artifact_of(req)), {}

    @authed
    def handle_actions_download_artifact(self, req):
        aid = self.artifact_of(req)
        if self.artifacts[aid][2]:
            raise ApiError(410, 'Artifact has expired')
        return 302, b'', {'Location': self.storage(req, 'artifacts', str(aid))}

    # ---------------------------------------------------------------- releases
    @authed
    def handle_repos_list_releases(self, req):
        self.repo_check(req)
        chunk, hdrs = self.page(req, self.releases)
        return 200, chunk, hdrs

    @authed
    def handle_repos_create_release(self, req):
        self.repo_check(req)
        b = req.json
        if any(r['tag_name'] == b['tag_name'] for r in self.releases):
            raise ApiError(422, 'Validation Failed', errors=[
                {'resource': 'Release', 'code': 'already_exists', 'field': 'tag_name'}])
        rel = self.release_obj(len(self.releases) + 1, b['tag_name'],
                               b.get('target_commitish', 'main'), b.get('name'), b.get('body'),
                               b.get('draft', False), b.get('prerelease', False))
        self.releases.insert(0, rel)
        # the release creates its tag (GitHub does) at the target's head: it is a ref from now on
        self.ref_index[b['tag_name']] = self.ref_index.get(b.get('target_commitish', 'main'),
                                                           self.ref_index['main'])
        return 201, rel, {'Location': rel['url']}

    def commit_obj(self, i):
        sha = '%040x' % (0xabc000 + i)
        return {'url': 'x', 'sha': sha, 'node_id': 'C_%d' % i, 'html_url': 'x',
                'comments_url': 'x', 'author': {'login': 'octocat', 'id': 1},
                'committer': {'login': 'octocat', 'id': 1}, 'parents': [],
                'commit': {'message': self.commits[i - 1], 'url': 'x', 'comment_count': 0,
                           'author': {'name': 'Mona', 'email': 'm@example.invalid',
                                      'date': '2026-01-0%dT00:00:00Z' % i},
                           'committer': {'name': 'Mona', 'email': 'm@example.invalid',
                                         'date': '2026-01-0%dT00:00:00Z' % i},
                           'tree': {'sha': sha, 'url': 'x'}}}

    @authed
    def handle_repos_compare_commits_with_basehead(self, req):
        self.repo_check(req)
        base, sep, head = req.params['basehead'].partition('...')
        if not sep or base not in self.ref_index or head not in self.ref_index:
            raise ApiError(404, 'Not Found')
        b, h = self.ref_index[base], self.ref_index[head]
        commits = [self.commit_obj(i) for i in range(b + 1, h + 1)]
        files = [{'sha': 'x', 'filename': 'src/f%d.c' % i, 'status': 'modified',
                  'additions': i, 'deletions': 1, 'changes': i + 1, 'blob_url': 'x',
                  'raw_url': 'x', 'contents_url': 'x'} for i in range(len(commits))]
        st = 'identical' if b == h else ('ahead' if h > b else 'behind')
        return 200, {'url': 'x', 'html_url': 'https://github.com/%s/%s/compare/%s...%s'
                     % (self.owner, self.repo, base, head), 'permalink_url': 'x', 'diff_url': 'x',
                     'patch_url': 'x', 'base_commit': self.commit_obj(max(b, 1)),
                     'merge_base_commit': self.commit_obj(max(min(b, h), 1)), 'status': st,
                     'ahead_by': max(h - b, 0), 'behind_by': max(b - h, 0),
                     'total_commits': len(commits), 'commits': commits, 'files': files}, {}


if __name__ == '__main__':
    fakebase.main(GitHubFake)
