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
"""
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


class PromFake(Fake):
    name = 'prometheus'

    def __init__(self, token):
        spec = load_contract('prometheus.json')
        super().__init__(spec, routes_from_openapi3(spec), token)

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
        res = [{'metric': m, 'values': [[start + k * step, self.value(q, i, start + k * step)]
                                        for k in range(npts)]}
               for i, m in enumerate(self.series(q))]
        return 200, {'status': 'success', 'data': {'resultType': 'matrix', 'result': res}}, {}

    handle_query_range_post = handle_query_range


if __name__ == '__main__':
    fakebase.main(PromFake)
