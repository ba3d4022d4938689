#!/usr/bin/env python3
"""Fake Prometheus HTTP API for the prometheus family's tests.

Routes and parameters come from tests/tools/contracts/prometheus.json (OpenAPI 3.1 subset of
prometheus/prometheus web/api/v1/testdata/openapi_3.1_golden.yaml, server URL /api/v1); POST
bodies are application/x-www-form-urlencoded with the same fields. Errors use the envelope
{"status":"error","errorType","error"} with the status of x-error-status-map
(web/api/v1/api.go getDefaultErrorCode). Range queries over 11,000 points per series are
bad_data (400), like the real server.

Deterministic data: the query text selects the answer.
  contains "bad("       -> 400 bad_data parse error
  contains "exec_fail"  -> 422 execution error
  starts with "scalar(" -> resultType scalar
  contains "nan"        -> sample values "NaN" and "+Inf"
  contains "many"       -> 300 series
  otherwise             -> 3 series {__name__="up", job="api", instance="10.0.0.<i>:9090"}

Canary series (range queries, for prometheus.canary_analyze and the demo): a query with
track="baseline" or track="canary" and app="APP" answers one synthetic series per side
{app, track}. The metric comes from the text: histogram_quantile/latency/duration -> p99
latency in seconds (~0.21), "5.." or error -> error ratio (~0.01), else requests/s (~100).
Values are a deterministic function of (app, metric, track, timestamp), so the same window
gives the same samples on every run. The app's profile decides the canary side:
  healthy   the baseline's value at the same time within +/-1 % (always judged Pass)
  degraded  error ratio ~5.5x and p99 latency ~2.3x the baseline's; requests unchanged
  spread    same centre as the baseline, three times the spread (plus mode's variance check)
  nodata    the canary query returns no series
  multi     two series per side (the op pools them)
  nan       every other canary sample is "NaN"
Profiles: `--data FILE` ({"canary": {"APP": PROFILE}}), control {"state": {"canary": {...}}},
else by name prefix: bad-, spread-, empty- (nodata), multi-, nan-; anything else is healthy.
"""
import hashlib
import json
import random
import sys
import math
import re
import time as _time
from datetime import datetime

import fakebase
from fakebase import ApiError, Fake, load_contract, routes_from_openapi3

STATUS_TYPE = {400: 'bad_data', 422: 'execution', 503: 'timeout', 499: 'canceled',
               500: 'internal', 404: 'not_found', 406: 'not_acceptable'}
DUR = re.compile(r'^(([0-9]+)(ms|s|m|h|d|w|y))+$')
UNIT = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'y': 31536000}


def parse_time(s):
    try:
        return float(s)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(s.replace('Z', '+00:00').replace('z', '+00:00')).timestamp()
    except ValueError:
        raise ApiError(400, 'invalid parameter "time": cannot parse %r to a valid timestamp' % s)


def parse_duration(s):
    try:
        return float(s)
    except ValueError:
        pass
    if not DUR.match(s):
        raise ApiError(400, 'cannot parse %r to a valid duration' % s)
    return sum(int(n) * UNIT[u] for n, u in re.findall(r'([0-9]+)(ms|s|m|h|d|w|y)', s))


TRACK = re.compile(r'track="(baseline|canary)"')
APP = re.compile(r'app="([^"]+)"')
PREFIX = {'bad-': 'degraded', 'spread-': 'spread', 'empty-': 'nodata', 'multi-': 'multi',
          'nan-': 'nan'}
# metric -> (baseline mean, sd, degraded canary mean, sd)
MODEL = {'latency': (0.21, 0.02, 0.48, 0.05), 'errors': (0.010, 0.002, 0.055, 0.008),
         'requests': (100.0, 5.0, 100.0, 5.0)}
DATA = {}


def canary_metric(q):
    if 'histogram_quantile' in q or 'latency' in q or 'duration' in q:
        return 'latency'
    if '5..' in q or 'error' in q:
        return 'errors'
    return 'requests'


def draw(*key):
    """A deterministic generator for one sample."""
    h = hashlib.sha256('|'.join(str(k) for k in key).encode()).digest()
    return random.Random(int.from_bytes(h[:8], 'big'))


class PromFake(Fake):
    name = 'prometheus'

    def __init__(self, token):
        spec = load_contract('prometheus.json')
        super().__init__(spec, routes_from_openapi3(spec), token)
        self.profiles = dict(DATA.get('canary', {}))

    def set_state(self, state):
        self.profiles.update(state.get('canary', {}))

    def profile(self, app):
        if app in self.profiles:
            return self.profiles[app]
        return next((p for k, p in PREFIX.items() if app.startswith(k)), 'healthy')

    def canary_value(self, app, metric, track, prof, t, i):
        mean, sd, dmean, dsd = MODEL[metric]
        ms = int(round(t * 1000))
        base = max(0.0, draw(app, metric, i, ms).gauss(mean, sd))
        if track == 'baseline':
            return base
        if prof == 'degraded':
            return max(0.0, draw(app, metric, 'canary', i, ms).gauss(dmean, dsd))
        if prof == 'spread':
            return max(0.0, mean + 3 * (base - mean))
        if prof == 'nan' and (ms // 1000) % 2 == 0:
            return float('nan')
        return base * (1 + 0.01 * draw(app, metric, 'jitter', i, ms).uniform(-1, 1))

    def canary_series(self, q, start, step, npts):
        track = TRACK.search(q).group(1)
        m = APP.search(q)
        app = m.group(1) if m else 'app'
        prof = self.profile(app)
        metric = canary_metric(q)
        if prof == 'nodata' and track == 'canary':
            return []
        out = []
        for i in range(2 if prof == 'multi' else 1):
            vals = []
            for k in range(npts):
                t = start + k * step
                v = self.canary_value(app, metric, track, prof, t, i)
                vals.append([t, 'NaN' if math.isnan(v) else '%.6g' % v])
            lbl = {'app': app, 'track': track}
            if prof == 'multi':
                lbl['instance'] = '10.0.1.%d:8080' % i
            out.append({'metric': lbl, 'values': vals})
        return out

    def error_body(self, status, message, **extra):
        return {'status': 'error', 'errorType': extra.get('etype', STATUS_TYPE.get(status, 'internal')),
                'error': message}

    def echo_auth(self, obj, auth):
        for s in obj.get('data', {}).get('result', []):
            if isinstance(s, dict):
                s.setdefault('metric', {})['echo'] = auth
        obj['warnings'] = ['seen ' + auth]
        return obj

    def params(self, req):
        p = {k: v[0] for k, v in req.query.items()}
        if req.form:
            p.update({k: v[0] for k, v in req.form.items()})
        return p

    def series(self, q):
        n = 300 if 'many' in q else 3
        return [{'__name__': 'up', 'job': 'api', 'instance': '10.0.0.%d:9090' % i}
                for i in range(n)]

    def value(self, q, i, t):
        if 'nan' in q:
            return 'NaN' if i % 2 == 0 else '+Inf'
        return '%g' % (1 + i + (t % 7) / 10.0)

    def check_query(self, q):
        if not q:
            raise ApiError(400, 'invalid parameter "query": unknown position: parse error: no expression found in input')
        if 'bad(' in q:
            raise ApiError(400, 'invalid parameter "query": 1:4: parse error: unexpected "("')
        if 'exec_fail' in q:
            raise ApiError(422, 'query processing would load too many samples into memory',
                           etype='execution')

    def handle_query(self, req):
        p = self.params(req)
        q = p.get('query', '')
        self.check_query(q)
        t = parse_time(p['time']) if 'time' in p else _time.time()
        if 'timeout' in p:
            parse_duration(p['timeout'])
        if q.startswith('scalar('):
            return 200, {'status': 'success', 'data': {'resultType': 'scalar',
                                                       'result': [t, '42']}}, {}
        res = [{'metric': m, 'value': [t, self.value(q, i, t)]}
               for i, m in enumerate(self.series(q))]
        limit = int(p.get('limit', '0') or 0)
        out = {'status': 'success', 'data': {'resultType': 'vector', 'result': res}}
        if limit and len(res) > limit:
            out['data']['result'] = res[:limit]
            out['warnings'] = ['results truncated due to limit']
        return 200, out, {}

    handle_query_post = handle_query

    def handle_query_range(self, req):
        p = self.params(req)
        q = p.get('query', '')
        for k in ('start', 'end', 'step'):
            if k not in p:
                raise ApiError(400, 'invalid parameter "%s": missing' % k)
        start, end, step = parse_time(p['start']), parse_time(p['end']), parse_duration(p['step'])
        self.check_query(q)
        if end < start:
            raise ApiError(400, 'invalid parameter "end": end timestamp must not be before start time')
        if step <= 0:
            raise ApiError(400, 'zero or negative query resolution step widths are not accepted. Try a positive integer')
        if (end - start) / step > 11000:
            raise ApiError(400, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)')
        npts = int(math.floor((end - start) / step)) + 1
        if TRACK.search(q):
            return 200, {'status': 'success', 'data': {
                'resultType': 'matrix', 'result': self.canary_series(q, start, step, npts)}}, {}
        res = [{'metric': m, 'values': [[start + k * step, self.value(q, i, start + k * step)]
                                        for k in range(npts)]}
               for i, m in enumerate(self.series(q))]
        return 200, {'status': 'success', 'data': {'resultType': 'matrix', 'result': res}}, {}

    handle_query_range_post = handle_query_range


if __name__ == '__main__':
    if '--data' in sys.argv:
        i = sys.argv.index('--data')
        with open(sys.argv[i + 1]) as fh:
            DATA = json.load(fh)
        del sys.argv[i:i + 2]
    fakebase.main(PromFake)
