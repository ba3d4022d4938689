#!/usr/bin/env python3
"""Fake Jenkins (core remote access API subset) for tests/tools/test_jenkins.c.

Routes follow tests/tools/contracts/jenkins.json (hand-built from jenkinsci/jenkins core and the
jenkins.io docs; see its "sources"): job paths are one /job/<segment> per folder level, each
segment encoded on its own; state changes are POST only (GET -> 405); build triggers answer 201 +
Location of a queue item, which turns into a build after "queue_polls" polls; stop, enable and
disable answer 302 to the job page; errors are HTML pages (Jetty style) with X-Jenkins, and 403s
carry X-You-Are-Authenticated-As / X-Required-Permission. Auth is HTTP Basic corral-bot:<token>;
with an API token no crumb is needed, so a Jenkins-Crumb header or a /crumbIssuer request is a
violation. State knobs: "context" (e.g. "/jenkins"), "queue_polls", "queue_cancel", "dup",
"reset", "results" ({job full name: [result of build 1, 2, ...]}, null for one building) and
"log_error" (the console's closing failure lines, '\n'-joined, before "Finished: <result>").
"""
import base64
import json
import re

import fakebase
from fakebase import ApiError, Fake, Route

USER = 'corral-bot'
VERSION = '2.579'

Q = {'in': 'query', 'required': False, 'schema': {'type': 'string'}}
QI = {'in': 'query', 'required': False, 'schema': {'type': 'integer'}}
GETQ = {'tree': Q, 'depth': QI, 'pretty': {'in': 'query', 'required': False,
                                          'schema': {'type': 'boolean'}}}


class JobRoute(Route):
    """{job}<tail>: {job} is one or more "/job/<raw segment>" pairs (none when root_ok)."""

    def __init__(self, method, tail, op_id, params=None, body=None, body_type=None,
                 root_ok=False):
        super().__init__(method, '/{job}' + tail, op_id, params, body, body_type)
        self.tail = [s for s in tail.strip('/').split('/') if s]
        self.root_ok = root_ok

    def match(self, raw_path):
        segs = raw_path.strip('/').split('/') if raw_path.strip('/') else []
        i, names = 0, []
        while i + 1 < len(segs) and segs[i] == 'job' and len(segs) - i - 2 >= len(self.tail):
            if segs[i + 1] == '':
                return None
            names.append(segs[i + 1])
            i += 2
        if not names and not self.root_ok:
            return None
        rest = segs[i:]
        if len(rest) != len(self.tail):
            return None
        return fakebase.match_segs(self.tail, rest, {'job': '/'.join(names)})


def routes(spec):
    ops = spec['operations']
    form = {'type': 'object', 'properties': {}}
    r = [JobRoute('GET', '/api/json', 'list_jobs_or_get_job', dict(GETQ), root_ok=True),
         JobRoute('GET', '/{number}/api/json', 'get_build', dict(GETQ)),
         JobRoute('GET', '/{number}/consoleText', 'get_build_logs'),
         JobRoute('POST', '/build', 'trigger_build', {'delay': Q}),
         JobRoute('POST', '/buildWithParameters', 'trigger_build_params', {'delay': Q},
                  body=form, body_type='form'),
         JobRoute('POST', '/{number}/stop', 'stop_build'),
         JobRoute('POST', '/disable', 'disable_job'),
         JobRoute('POST', '/enable', 'enable_job')]
    for name, op_id in (('get_queue', 'get_queue'), ('get_nodes', 'get_nodes'),
                        ('get_queue_item', 'get_queue_item')):
        path = ops[name]['path'].split()[0]
        prm = dict(GETQ)
        if '{id}' in path:
            prm['id'] = {'in': 'path', 'required': True, 'schema': {'type': 'integer'}}
        r.append(Route(ops[name]['method'], path, op_id, prm))
    r.append(Route('POST', ops['cancel_queue_item']['path'], 'cancel_queue_item', {'id': QI}))
    r.append(Route('GET', ops['get_crumb']['path'], 'crumb', dict(GETQ)))
    return r


def parse_tree(spec, i=0):
    """Parse a tree= value ("a,b[c,d[e]]{0,20}") into {name: (sub or None, (lo, hi) or None)};
    returns (selection, index after it). Raises ValueError on a malformed value (Jenkins answers
    those with 400)."""
    sel, name = {}, ''
    while i < len(spec):
        ch = spec[i]
        if ch in '[':
            sub, i = parse_tree(spec, i + 1)
            if i >= len(spec) or spec[i] != ']':
                raise ValueError('unbalanced [ in tree')
            sel[name] = (sub, None)
            i += 1
            continue
        if ch == '{':
            j = spec.find('}', i)
            if j < 0 or not name:
                raise ValueError('bad {range} in tree')
            rng = spec[i + 1:j]
            if ',' in rng:
                lo, hi = rng.split(',', 1)
                lo = int(lo) if lo else 0
                hi = int(hi) if hi else None
            else:
                lo = int(rng)
                hi = lo + 1
            sel[name] = (sel.get(name, (None, None))[0], (lo, hi))
            i = j + 1
            continue
        if ch == ']':
            break
        if ch == ',':
            if name and name not in sel:
                sel[name] = (None, None)
            name = ''
        else:
            if name in sel and spec[i - 1] in ']}':
                raise ValueError('tree: no comma after a selection')
            name += ch
        i += 1
    if name and name not in sel:
        sel[name] = (None, None)
    return sel, i


def apply_tree(obj, sel):
    """Jenkins' selection: an object keeps the named fields (and its _class), each narrowed by
    its own selection; an array's elements are narrowed one by one, and {lo,hi} slices it."""
    if isinstance(obj, list):
        return [apply_tree(o, sel) for o in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    if '_class' in obj:
        out['_class'] = obj['_class']
    for k, (sub, rng) in sel.items():
        if k not in obj:
            continue
        v = obj[k]
        if rng is not None and isinstance(v, list):
            v = v[rng[0]:rng[1]]
        out[k] = apply_tree(v, sub) if sub is not None else v
    return out


def tree_filter(obj, tree):
    """obj as ?tree=... selects it (nested selections and {ranges} applied)."""
    if not tree:
        return obj
    try:
        sel, i = parse_tree(tree)
        if i != len(tree):
            raise ValueError('unbalanced ] in tree')
    except ValueError as e:
        raise ApiError(400, str(e))
    return apply_tree(obj, sel)


def html_page(status, reason, message):
    return ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
            '<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d %s</h2>\n'
            '<table><tr><th>URI:</th><td>/</td></tr><tr><th>STATUS:</th><td>%d</td></tr>'
            '<tr><th>MESSAGE:</th><td>%s</td></tr></table>\n</body>\n</html>\n'
            % (status, message, status, reason, status, message))


REASONS = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
           405: 'Method Not Allowed', 409: 'Conflict', 415: 'Unsupported Media Type',
           422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Server Error',
           502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}


class JenkinsFake(Fake):
    name = 'jenkins'

    def __init__(self, token):
        super().__init__({}, routes(fakebase.load_contract('jenkins.json')), None)
        self.api_token = token
        self.reset()

    def reset(self):
        self.body_mode, self.body_count = None, 0
        self.context = ''
        self.queue_polls = 2
        self.queue_cancel = False
        self.dup = False
        params = [{'name': 'ENV', 'type': 'StringParameterDefinition',
                   'defaultParameterValue': {'value': 'staging'}},
                  {'name': 'VERSION', 'type': 'StringParameterDefinition',
                   'defaultParameterValue': {'value': ''}}]
        fs, wf, folder, mb = ('hudson.model.FreeStyleProject',
                              'org.jenkinsci.plugins.workflow.job.WorkflowJob',
                              'com.cloudbees.hudson.plugins.folder.Folder',
                              'org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject')
        # full name (folders joined by '/', names as Jenkins stores them) -> job
        self.jobs = {
            'deploy': {'cls': fs, 'params': params},
            'team-a': {'cls': folder}, 'team-a/apps': {'cls': folder},
            'team-a/apps/deploy': {'cls': wf, 'params': params},
            'team-a/apps/build': {'cls': fs},
            'repo': {'cls': mb}, 'repo/feature%2Fx': {'cls': wf},
            'disabled-job': {'cls': fs, 'disabled': True},
            'locked': {'cls': fs},
            'needs-login': {'cls': fs},
        }
        for name, j in self.jobs.items():
            j.setdefault('disabled', False)
            if j['cls'] not in (folder, mb):
                j['builds'] = {n: {'result': 'SUCCESS' if n % 3 else 'FAILURE', 'building': False}
                               for n in range(1, 6)}
                if name == 'team-a/apps/deploy':
                    j['builds'][6] = {'result': None, 'building': True}
        self.queue = {}
        self.next_q = 500
        self.log_error = 'test_migrate ... FAILED\nERROR: script returned exit code 2'

    def set_state(self, state):
        self.apply_state(state, context=None, queue_polls=None, queue_cancel=None, dup=None,
                         log_error=str)
        for name, results in state.get('results', {}).items():
            self.jobs[name]['builds'] = {n + 1: {'result': res, 'building': res is None}
                                         for n, res in enumerate(results)}

    # ---------------------------------------------------------------- contract
    def find_route(self, method, raw_path):
        if self.context:
            if raw_path != self.context and not raw_path.startswith(self.context + '/'):
                return None, None, 'no route for %s %s (context %s)' % (method, raw_path,
                                                                        self.context)
            raw_path = raw_path[len(self.context):] or '/'
        return super().find_route(method, raw_path)

    def error_body(self, status, message, **extra):
        if not isinstance(message, str):
            message = json.dumps(message)
        out = {'html': html_page(status, REASONS.get(status, 'Error'), message)}
        if extra.get('headers'):
            out['headers'] = extra['headers']
        return out

    def check(self, req, route):
        v = []
        if 'jenkins-crumb' in req.headers:
            v.append('Jenkins-Crumb sent: API-token requests are exempt from the crumb')
        if route.op_id == 'crumb':
            v.append('/crumbIssuer fetched although API-token requests need no crumb')
        if not req.headers.get('authorization', '').startswith('Basic '):
            v.append('Authorization must be HTTP Basic user:api-token')
        if 'number' in req.params and not re.fullmatch(
                r'[0-9]+|lastBuild|lastCompletedBuild|lastSuccessfulBuild|lastFailedBuild|'
                r'lastStableBuild|lastUnstableBuild|lastUnsuccessfulBuild', req.params['number']):
            v.append('build number %r is not a number or a permalink' % req.params['number'])
        return v

    def echo_auth(self, obj, auth):
        if isinstance(obj, dict):
            for k in ('displayName', 'why', 'fullName'):
                if k in obj:
                    obj[k] = 'echo ' + auth
            for x in obj.values():
                if isinstance(x, (dict, list)):
                    self.echo_auth(x, auth)
        elif isinstance(obj, list):
            for x in obj:
                self.echo_auth(x, auth)
        return obj

    # ---------------------------------------------------------------- helpers
    def authed(self, req):
        if self.api_token is None:
            return
        want = 'Basic ' + base64.b64encode(('%s:%s' % (USER, self.api_token)).encode()).decode()
        if req.headers.get('authorization') != want:
            raise ApiError(401, 'Invalid password/token for user: %s' % USER)

    def base(self, req):
        return 'http://%s%s' % (req.headers.get('host', '127.0.0.1'), self.context)

    def job_name(self, req):
        """The full name from the raw path: each /job/<seg> decoded on its own."""
        segs = req.raw_path[len(self.context):].strip('/').split('/')
        names, i = [], 0
        while i + 1 < len(segs) and segs[i] == 'job':
            names.append(fakebase._decode(segs[i + 1]))
            i += 2
        if any('/' in n for n in names):
            raise ApiError(404, 'Not Found')
        return '/'.join(names)

    def job_of(self, req):
        self.authed(req)
        name = self.job_name(req)
        if name not in self.jobs:
            raise ApiError(404, 'Not Found')
        return name, self.jobs[name]

    def job_url(self, req, name):
        return self.base(req) + ''.join('/job/' + n.replace('%', '%25') for n in name.split('/')) + '/'

    def build_of(self, req):
        name, j = self.job_of(req)
        builds = j.get('builds')
        if builds is None:
            raise ApiError(404, 'Not Found')
        n = req.params['number']
        if n.isdigit():
            num = int(n)
        elif n == 'lastBuild':
            num = max(builds) if builds else None
        elif n == 'lastFailedBuild':
            num = max((b for b in builds if builds[b]['result'] == 'FAILURE'), default=None)
        else:
            num = max((b for b in builds if not builds[b]['building']), default=None)
        if num is None or num not in builds:
            raise ApiError(404, 'Not Found')
        return name, j, num, builds[num]

    def job_obj(self, req, name, j):
        short = name.rsplit('/', 1)[-1]
        o = {'_class': j['cls'], 'name': short, 'fullName': name, 'url': self.job_url(req, name)}
        kids = [k for k in self.jobs if k.rsplit('/', 1)[0] == name and '/' in k]
        if 'builds' not in j:
            o['jobs'] = [{'_class': self.jobs[k]['cls'], 'name': k.rsplit('/', 1)[-1],
                          'fullName': k, 'url': self.job_url(req, k),
                          'color': 'blue' if 'builds' in self.jobs[k] else None} for k in kids]
            return o
        b = j['builds']
        done = [n for n in b if not b[n]['building']]

        def ref(nums, result=False):
            """A permalink as Jenkins exports it (null when no build fits); the tree= selection
            then keeps what the client asked of it."""
            if not nums:
                return None
            r = {'_class': 'hudson.model.FreeStyleBuild', 'number': max(nums),
                 'url': self.job_url(req, name) + '%d/' % max(nums)}
            if result:
                r['result'] = b[max(nums)]['result']
            return r
        last = b[max(done)]['result'] if done else None
        color = {'FAILURE': 'red', 'UNSTABLE': 'yellow', 'ABORTED': 'aborted'}.get(last, 'blue') \
            if done else 'notbuilt'
        if b and b[max(b)]['building']:
            color += '_anime'
        o.update({'buildable': not j['disabled'],
                  'color': 'disabled' if j['disabled'] else color, 'inQueue': False,
                  'nextBuildNumber': max(b) + 1 if b else 1,
                  'lastBuild': ref(list(b)),
                  'lastCompletedBuild': ref(done, True),
                  'lastSuccessfulBuild': ref([n for n in done if b[n]['result'] == 'SUCCESS']),
                  'lastFailedBuild': ref([n for n in done if b[n]['result'] == 'FAILURE']),
                  'builds': [{'number': n, 'url': self.job_url(req, name) + '%d/' % n}
                             for n in sorted(b, reverse=True)][:20],
                  'property': [{'_class': 'hudson.model.ParametersDefinitionProperty',
                                'parameterDefinitions': j['params']}] if j.get('params') else []})
        return o

    # ---------------------------------------------------------------- reads
    def handle_list_jobs_or_get_job(self, req):
        self.authed(req)
        if req.params['job'] == '':
            top = [k for k in self.jobs if '/' not in k]
            return 200, tree_filter({'_class': 'hudson.model.Hudson', 'jobs': [
                {'_class': self.jobs[k]['cls'], 'name': k, 'fullName': k,
                 'url': self.job_url(req, k),
                 'color': 'disabled' if self.jobs[k]['disabled'] else 'blue'} for k in top]},
                req.q('tree')), {}
        name, j = self.job_of(req)
        return 200, tree_filter(self.job_obj(req, name, j), req.q('tree')), {}

    def handle_get_build(self, req):
        name, j, num, b = self.build_of(req)
        o = {'_class': 'hudson.model.FreeStyleBuild', 'number': num, 'result': b['result'],
             'building': b['building'], 'inProgress': b['building'],
             'duration': 0 if b['building'] else 61000, 'estimatedDuration': 60000,
             'timestamp': 1767225600000 + num, 'displayName': '#%d' % num,
             'url': self.job_url(req, name) + '%d/' % num, 'queueId': 400 + num,
             'actions': [{'_class': 'hudson.model.CauseAction'}]}
        return 200, tree_filter(o, req.q('tree')), {}

    def handle_get_build_logs(self, req):
        name, j, num, b = self.build_of(req)
        lines = ['Started by user admin', 'Running as SYSTEM',
                 'Building in workspace /var/jenkins_home/workspace/%s' % name]
        lines += ['[Pipeline] sh', '+ make test'] + ['test %d ... ok' % i for i in range(500)]
        lines += self.log_error.split('\n') + ['Finished: %s' % (b['result'] or 'RUNNING')]
        return 200, ('\n'.join(lines) + '\n').encode(), {'Content-Type': 'text/plain;charset=UTF-8'}

    def handle_get_queue(self, req):
        self.authed(req)
        items = [{'_class': 'hudson.model.Queue$WaitingItem', 'id': q, 'blocked': False,
                  'buildable': True, 'stuck': False, 'inQueueSince': 1767225600000,
                  'why': 'Waiting for next available executor',
                  'task': {'_class': 'hudson.model.FreeStyleProject',
                           'name': it['job'].rsplit('/', 1)[-1],
                           'url': self.job_url(req, it['job'])}}
                 for q, it in sorted(self.queue.items()) if it['number'] is None]
        return 200, tree_filter({'_class': 'hudson.model.Queue', 'items': items},
                                req.q('tree')), {}

    def handle_get_queue_item(self, req):
        self.authed(req)
        qid = int(req.params['id'])
        it = self.queue.get(qid)
        if it is None:
            raise ApiError(404, 'Not Found')
        o = {'id': qid, 'task': {'name': it['job'].rsplit('/', 1)[-1]}, 'params': it['params']}
        if it['cancelled']:
            o.update({'_class': 'hudson.model.Queue$LeftItem', 'cancelled': True,
                      'executable': None})
        elif it['polls'] > 0:
            it['polls'] -= 1
            o.update({'_class': 'hudson.model.Queue$WaitingItem',
                      'why': 'Waiting for next available executor', 'executable': None})
        else:
            if it['number'] is None:
                b = self.jobs[it['job']]['builds']
                it['number'] = max(b) + 1 if b else 1
                b[it['number']] = {'result': None, 'building': True}
            o.update({'_class': 'hudson.model.Queue$LeftItem', 'cancelled': False,
                      'executable': {'_class': 'hudson.model.FreeStyleBuild',
                                     'number': it['number'],
                                     'url': self.job_url(req, it['job']) + '%d/' % it['number']}})
        return 200, tree_filter(o, req.q('tree')), {}

    def handle_get_nodes(self, req):
        self.authed(req)
        comps = [{'_class': 'hudson.model.Hudson$MasterComputer', 'displayName': 'Built-In Node',
                  'offline': False, 'temporarilyOffline': False, 'offlineCauseReason': '',
                  'idle': True, 'numExecutors': 2, 'assignedLabels': [{'name': 'built-in'}]},
                 {'_class': 'hudson.slaves.SlaveComputer', 'displayName': 'linux-1',
                  'offline': True, 'temporarilyOffline': False,
                  'offlineCauseReason': 'Connection was broken', 'idle': True,
                  'numExecutors': 4, 'assignedLabels': [{'name': 'linux'}]}]
        return 200, tree_filter({'_class': 'hudson.model.ComputerSet', 'busyExecutors': 0,
                                 'totalExecutors': 6, 'computer': comps}, req.q('tree')), {}

    def handle_crumb(self, req):
        return 200, {'crumb': 'x', 'crumbRequestField': 'Jenkins-Crumb'}, {}

    # ---------------------------------------------------------------- state changes
    def enqueue(self, req, name, params):
        if self.dup:
            for q, it in self.queue.items():
                if it['job'] == name and it['params'] == params and it['number'] is None:
                    return 303, b'', {'Location': self.base(req) + '/queue/item/%d/' % q}
        self.next_q += 1
        self.queue[self.next_q] = {'job': name, 'params': params, 'polls': self.queue_polls,
                                   'number': None, 'cancelled': bool(self.queue_cancel)}
        return 201, b'', {'Location': self.base(req) + '/queue/item/%d/' % self.next_q}

    def buildable(self, req):
        name, j = self.job_of(req)
        if 'builds' not in j:
            raise ApiError(405, 'Method Not Allowed')
        if j['disabled']:
            raise ApiError(409, '%s is not buildable' % name)
        return name, j

    def handle_trigger_build(self, req):
        name, j = self.buildable(req)
        if j.get('params'):
            raise ApiError(400, 'This page expects a form submission')
        return self.enqueue(req, name, {})

    def handle_trigger_build_params(self, req):
        name, j = self.buildable(req)
        if not j.get('params'):
            raise ApiError(400, '%s is not parameterized' % name)
        params = {k: v[-1] for k, v in (req.form or {}).items()}
        return self.enqueue(req, name, params)

    def handle_stop_build(self, req):
        name, j, num, b = self.build_of(req)
        if b['building']:
            b['building'], b['result'] = False, 'ABORTED'
        return 302, b'', {'Location': self.job_url(req, name) + '%d/' % num}

    def set_disabled(self, req, flag):
        name, j = self.job_of(req)
        if name == 'locked':
            raise ApiError(403, '%s is missing the Job/Configure permission' % USER, headers={
                'X-You-Are-Authenticated-As': USER,
                'X-Required-Permission': 'hudson.model.Item.Configure'})
        if name == 'needs-login':
            return 302, b'', {'Location': self.base(req) + '/login?from=%2Fjob%2Fneeds-login'}
        j['disabled'] = flag
        return 302, b'', {'Location': self.job_url(req, name)}

    def handle_disable_job(self, req):
        return self.set_disabled(req, True)

    def handle_enable_job(self, req):
        return self.set_disabled(req, False)

    def handle_cancel_queue_item(self, req):
        self.authed(req)
        qid = int(req.q('id', '0'))
        if qid not in self.queue:
            raise ApiError(404, 'Not Found')
        self.queue[qid]['cancelled'] = True
        return 204, b'', {}


_dispatch = fakebase.Handler._dispatch


def _dispatch_html(self, req, entry, mode):
    """Jenkins answers errors with HTML pages, and every page with X-Jenkins."""
    st, out, hdrs = _dispatch(self, req, entry, mode)
    if st >= 400:
        try:
            obj = json.loads(out)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and 'html' in obj:
            out = obj['html'].encode()
            hdrs['Content-Type'] = 'text/html;charset=utf-8'
            hdrs.update(obj.get('headers', {}))
    hdrs['X-Jenkins'] = VERSION
    return st, out, hdrs


fakebase.Handler._dispatch = _dispatch_html


if __name__ == '__main__':
    fakebase.main(JenkinsFake)
