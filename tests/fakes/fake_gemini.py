#!/usr/bin/env python3
"""Fake Gemini server (POST /v1beta/models/{model}:generateContent) for the model gateway.

The body is checked against the proto message tables in tests/tools/contracts/llm-apis.json
(providers.gemini.types: GenerateContentRequest and everything it reaches: unknown fields,
types, enums, required fields such as FunctionDeclaration.description, one member per
oneof, no output-only fields); on top:
- the API key comes in x-goog-api-key (no Authorization, no ?key=);
- contents alternate "user" and "model" and start with "user";
- functionCall parts go back with the thoughtSignature this fake gave them;
- a user turn after a model turn with functionCall parts answers each of them with one
  functionResponse, same name, same order, and an object "response"; a functionResponse id,
  when sent, is an id this fake gave out (with "with_ids"), never one the client made up.
Answers are GenerateContentResponse bodies (functionCall ids only with state "with_ids");
errors {"error": {code, message, status, details}} with a RetryInfo detail on 429 when the
state sets "retry_delay". The conversation is scripted (fakellm.py).
"""
import re

import fakebase
from fakebase import Route
from fakellm import LlmFake, ProtoChecker, contract

RPC = {400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED',
       404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE',
       504: 'DEADLINE_EXCEEDED'}
PATH_RE = re.compile(r'/v1beta/models/([A-Za-z0-9._-]+):generateContent')


class GenerateRoute(Route):
    def match(self, raw_path):
        m = PATH_RE.fullmatch(raw_path)
        return {'model': m.group(1)} if m else None


class FakeGemini(LlmFake):
    name = 'gemini'

    def __init__(self, token=None):
        super().__init__(token)
        self.proto = ProtoChecker(contract()['providers']['gemini']['types'])
        self.with_ids = False
        self.given = set()
        self.sigs = set()
        self.retry_delay = None

    def set_state(self, state):
        super().set_state(state)
        self.retry_delay = state.get('retry_delay', self.retry_delay)

    def llm_routes(self):
        return [GenerateRoute('POST', '/v1beta/models/{model}:generateContent', 'chat',
                              body={}, body_type='json', body_required=True)]

    def error_body(self, status, message, **extra):
        details = []
        if status == 429 and self.retry_delay:
            details.append({'@type': 'type.googleapis.com/google.rpc.RetryInfo',
                            'retryDelay': self.retry_delay})
        return {'error': {'code': status, 'message': message,
                          'status': RPC.get(status, 'UNKNOWN'), 'details': details}}

    def auth_problem(self, req):
        if 'key' in req.query:
            return 'API key in the query string'
        if 'authorization' in req.headers:
            return 'Authorization header sent with an API key'
        if self.key is not None and req.headers.get('x-goog-api-key') != self.key:
            return 'x-goog-api-key does not hold the API key'
        return None

    def received_credential(self, req):
        return req.headers.get('x-goog-api-key', '')

    def check_body_contract(self, req):
        v = []
        self.proto.check('GenerateContentRequest', req.json, 'body', v)
        return v or self.check_turns(req.json['contents'])

    def check_turns(self, contents):
        v, prev, calls = [], None, []
        if not contents or contents[0].get('role') != 'user':
            v.append('contents[0]: the first turn must be role "user"')
        for i, c in enumerate(contents):
            role, parts = c.get('role'), c.get('parts') or []
            if role not in ('user', 'model'):
                v.append('contents[%d].role: %r is not user or model' % (i, role))
            if role == prev:
                v.append('contents[%d]: two %s turns in a row' % (i, role))
            prev = role
            if role == 'model':
                calls = [p['functionCall'] for p in parts if 'functionCall' in p]
                for p in parts:
                    if 'functionCall' in p and self.sigs and p.get('thoughtSignature') not in self.sigs:
                        v.append('contents[%d]: a functionCall part lost its thoughtSignature' % i)
                continue
            resp = [p['functionResponse'] for p in parts if 'functionResponse' in p]
            if [r.get('name') for r in resp] != [fc.get('name') for fc in calls][:len(resp)] \
                    or len(resp) != len(calls):
                v.append('contents[%d]: functionResponse names %s do not answer the calls %s'
                         % (i, [r.get('name') for r in resp], [fc.get('name') for fc in calls]))
            for r in resp:
                if 'id' in r and r['id'] not in self.given:
                    v.append('contents[%d]: functionResponse id %r was never given out' % (
                        i, r['id']))
            for fc in calls:
                if 'id' in fc and fc['id'] not in self.given:
                    v.append('functionCall id %r was never given out' % fc['id'])
            calls = []
        return v

    def norm(self, req):
        out, pending = [], []
        for c in req.json['contents']:
            parts = c.get('parts') or []
            text = ''.join(p.get('text', '') for p in parts if 'text' in p)
            if c.get('role') == 'model':
                pending = [p['functionCall'] for p in parts if 'functionCall' in p]
                out.append(('assistant', text, pending, {}))
                continue
            for p in parts:
                if 'functionResponse' in p:
                    r = p['functionResponse']
                    resp = r.get('response') or {}
                    body = resp.get('error', resp.get('output', ''))
                    out.append(('tool', body if isinstance(body, str) else str(body), None,
                                {'name': r.get('name'), 'error': 'error' in resp}))
            if any('text' in p for p in parts):
                out.append(('user', text, None, {}))
        return out

    def answer(self, req, n, turn, usage):
        parts = []
        if turn.get('say'):
            parts.append({'text': turn['say']})
        for c in turn.get('tool_calls') or []:
            fc = {'name': c['name'], 'args': c.get('arguments', {})}
            if self.with_ids:
                fc['id'] = self.next_id('fc-')
                self.given.add(fc['id'])
            part = {'functionCall': fc}
            if turn.get('thought_signature'):
                part['thoughtSignature'] = turn['thought_signature']
                self.sigs.add(turn['thought_signature'])
            parts.append(part)
        return {'candidates': [{'content': {'role': 'model', 'parts': parts},
                                'finishReason': turn.get('finish') or 'STOP', 'index': 0}],
                'usageMetadata': {'promptTokenCount': usage[0], 'candidatesTokenCount': usage[1],
                                  'totalTokenCount': usage[0] + usage[1]},
                'modelVersion': req.params.get('model', 'gemini'),
                'responseId': self.next_id('resp-')}


if __name__ == '__main__':
    fakebase.main(FakeGemini)
