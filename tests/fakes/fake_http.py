#!/usr/bin/env python3
"""Generic fake for the HTTP client's own tests (tests/tools/test_http*.c): echo, redirects,
pagination (Link and x-next-page), raw text. Routes are declared here (no upstream contract);
every other behaviour (log, modes, checks) comes from fakebase."""
import json

import fakebase
from fakebase import ApiError, Fake, Route

Q = {'in': 'query', 'required': False, 'schema': {'type': 'string'}}
QI = {'in': 'query', 'required': False, 'schema': {'type': 'integer'}}


def routes():
    anyq = {'q': Q, 'a': Q, 'b': Q, 'page': QI, 'to': Q, 'per_page': QI, 'cursor': Q, 'n': QI}
    r = [Route('GET', '/v1/echo', 'echo', dict(anyq)),
         Route('HEAD', '/v1/echo', 'echo', dict(anyq)),
         Route('GET', '/v1/items/{id}', 'echo', {'id': {'in': 'path', 'required': True,
                                                        'schema': {'type': 'string'}}}),
         Route('GET', '/v1/items/{id}/sub', 'echo', {'id': {'in': 'path', 'required': True,
                                                            'schema': {'type': 'string'}}}),
         Route('GET', '/v1/redirect', 'redirect', dict(anyq)),
         Route('GET', '/v1/pages', 'pages', dict(anyq)),
         Route('GET', '/v1/gl-pages', 'gl_pages', dict(anyq)),
         Route('GET', '/v1/text', 'text', dict(anyq)),
         Route('GET', '/v1/secret-echo', 'secret_echo', dict(anyq))]
    for m in ('POST', 'PUT', 'PATCH', 'DELETE'):
        r.append(Route(m, '/v1/echo', 'echo', dict(anyq), body={}, body_type='json'))
    return r


class HttpFake(Fake):
    name = 'http'

    def __init__(self, token):
        super().__init__({}, routes(), token)
        self.port = 0

    def error_body(self, status, message, **extra):
        return {'message': message, 'status': status}

    def handle_echo(self, req):
        return 200, {'method': req.method, 'raw_path': req.raw_path, 'params': req.params,
                     'query': req.query, 'body': req.body.decode('utf-8', 'replace'),
                     'content_type': req.headers.get('content-type'),
                     'user_agent': req.headers.get('user-agent'),
                     'has_auth': 'authorization' in req.headers}, {}

    def handle_redirect(self, req):
        to = req.q('to')
        if not to:
            raise ApiError(400, 'to is required')
        return 302, {'redirect': to}, {'Location': to}

    def handle_pages(self, req):
        """4 pages of 2 items; Link rel=next is absolute, like GitHub's."""
        page = int(req.q('page', '1'))
        host = req.headers.get('host', '127.0.0.1')
        hdrs = {}
        if page < 4:
            hdrs['Link'] = ('<http://%s/v1/pages?page=%d&per_page=2>; rel="next", '
                            '<http://%s/v1/pages?page=4&per_page=2>; rel="last"'
                            % (host, page + 1, host))
        return 200, {'page': page, 'items': [page * 10 + 1, page * 10 + 2]}, hdrs

    def handle_gl_pages(self, req):
        page = int(req.q('page', '1'))
        hdrs = {'X-Page': str(page), 'X-Next-Page': str(page + 1) if page < 3 else ''}
        return 200, [page * 10 + 1, page * 10 + 2], hdrs

    def handle_text(self, req):
        n = int(req.q('n', '3'))
        body = ''.join('line %d\n' % i for i in range(n))
        return 200, body.encode(), {'Content-Type': 'text/plain'}

    def handle_secret_echo(self, req):
        auth = req.headers.get('authorization', '')
        tok = auth.split(' ', 1)[1] if ' ' in auth else auth
        return 200, {'auth': auth, 'token': tok, 'escaped': json.dumps(tok)}, {
            'X-Echo': auth}


if __name__ == '__main__':
    fakebase.main(HttpFake)
