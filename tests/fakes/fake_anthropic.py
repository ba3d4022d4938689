#!/usr/bin/env python3
"""Fake Anthropic Messages server (POST /v1/messages) for the model gateway.

The body is checked against the SDK interface tables in tests/tools/contracts/llm-apis.json
(providers.anthropic.types_1.13.0: MessageCreateParamsBase, MessageParam, the text/tool_use/
tool_result block params, Tool, Tool.InputSchema), plus what API version 2023-06-01 adds
(temperature, top_k, top_p); on top:
- anthropic-version is 2023-06-01 (credential in x-api-key, no Authorization) or 2026-10-21
  (Authorization: Bearer, no temperature);
- messages start with a user turn and alternate user/assistant;
- the user message after an assistant message with tool_use blocks starts with one
  tool_result block per tool_use id; a tool_result answers a tool_use of the turn before.
Answers are Message bodies; errors {"type": "error", "error": {type, message},
"request_id"}: 429 rate_limit_error, 529 overloaded_error. The conversation is scripted
(fakellm.py).
"""
import fakebase
from fakebase import Route
from fakellm import LlmFake, TsChecker, contract

VERSIONS = ('2023-06-01', '2026-10-21')
ERR_TYPES = {400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
             404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error',
             500: 'api_error', 529: 'overloaded_error'}


class FakeAnthropic(LlmFake):
    name = 'anthropic'

    def __init__(self, token=None):
        super().__init__(token)
        types = contract()['providers']['anthropic']['types_1.13.0']
        self.ts_new = TsChecker(types)
        self.ts_old = TsChecker(types, {'MessageCreateParamsBase': {
            'temperature': 'number', 'top_k': 'number', 'top_p': 'number'}})

    def llm_routes(self):
        return [Route('POST', '/v1/messages', 'chat', body={}, body_type='json',
                      body_required=True)]

    def error_body(self, status, message, **extra):
        return {'type': 'error', 'error': {'type': ERR_TYPES.get(status, 'api_error'),
                                           'message': message},
                'request_id': self.next_id('req_')}

    def version(self, req):
        return req.headers.get('anthropic-version')

    def auth_problem(self, req):
        if self.key is None:
            return None
        if self.version(req) == '2023-06-01':
            if req.headers.get('x-api-key') != self.key:
                return 'x-api-key does not hold the API key'
            if 'authorization' in req.headers:
                return 'Authorization sent with API version 2023-06-01'
        elif req.headers.get('authorization') != 'Bearer ' + self.key:
            return 'Authorization is not "Bearer <API key>"'
        return None

    def received_credential(self, req):
        return req.headers.get('x-api-key') or req.headers.get('authorization', '')

    def check_body_contract(self, req):
        v = []
        ver = self.version(req)
        if ver not in VERSIONS:
            return ['anthropic-version %r is not one of %s' % (ver, VERSIONS)]
        ts = self.ts_old if ver == '2023-06-01' else self.ts_new
        ts.check('MessageCreateParamsBase', req.json, 'body', v)
        if v:
            return v
        for i, t in enumerate(req.json.get('tools') or []):
            ts.check('Tool', t, 'body.tools[%d]' % i, v)
        return v + self.check_turns(req.json['messages'])

    def check_turns(self, msgs):
        v, prev_role, open_ids = [], None, set()
        if not msgs or msgs[0].get('role') != 'user':
            v.append('messages[0]: the first message must be a user turn')
        for i, m in enumerate(msgs):
            role, content = m['role'], m['content']
            blocks = content if isinstance(content, list) else [{'type': 'text', 'text': content}]
            if role == prev_role:
                v.append('messages[%d]: two %s turns in a row' % (i, role))
            if role == 'user':
                results = [b for b in blocks if b.get('type') == 'tool_result']
                lead = blocks[:len(results)]
                if open_ids and (lead != results or {b['tool_use_id'] for b in results} != open_ids
                                 or len(results) != len(open_ids)):
                    v.append('messages[%d]: must start with one tool_result per tool_use %s' % (
                        i, sorted(open_ids)))
                if results and not open_ids:
                    v.append('messages[%d]: tool_result without a tool_use before it' % i)
                for b in blocks:
                    if b.get('type') == 'text' and b.get('text') == '':
                        v.append('messages[%d]: empty text block' % i)
                open_ids = set()
            elif role == 'assistant':
                open_ids = {b['id'] for b in blocks if b.get('type') == 'tool_use'}
                if not blocks:
                    v.append('messages[%d]: empty assistant content' % i)
            prev_role = role
        return v

    def norm(self, req):
        out, names = [], {}
        for m in req.json['messages']:
            content = m['content']
            blocks = content if isinstance(content, list) else [{'type': 'text', 'text': content}]
            text = ''.join(b.get('text', '') for b in blocks if b.get('type') == 'text')
            if m['role'] == 'assistant':
                calls = [b for b in blocks if b.get('type') == 'tool_use']
                for b in calls:
                    names[b['id']] = b['name']
                out.append(('assistant', text, calls, {}))
                continue
            for b in blocks:
                if b.get('type') == 'tool_result':
                    c = b.get('content', '')
                    out.append(('tool', c if isinstance(c, str) else str(c), None,
                                {'name': names.get(b['tool_use_id']),
                                 'error': bool(b.get('is_error'))}))
            if any(b.get('type') == 'text' for b in blocks):
                out.append(('user', text, None, {}))
        return out

    def answer(self, req, n, turn, usage):
        content = []
        if turn.get('say'):
            content.append({'type': 'text', 'text': turn['say'], 'citations': None})
        for c in turn.get('tool_calls') or []:
            content.append({'type': 'tool_use', 'id': self.next_id('toolu_'), 'name': c['name'],
                            'input': c.get('arguments', {}), 'caller': {'type': 'direct'}})
        stop = turn.get('finish') or ('tool_use' if turn.get('tool_calls') else 'end_turn')
        return {'id': self.next_id('msg_'), 'type': 'message', 'role': 'assistant',
                'model': req.json['model'], 'content': content, 'stop_reason': stop,
                'stop_sequence': None, 'stop_details': None, 'container': None,
                'diagnostics': None,
                'usage': {'input_tokens': usage[0], 'output_tokens': usage[1],
                          'cache_creation_input_tokens': None, 'cache_read_input_tokens': None,
                          'cache_creation': None, 'server_tool_use': None,
                          'service_tier': 'standard', 'inference_geo': None,
                          'output_tokens_details': None, 'speed': None}}


if __name__ == '__main__':
    fakebase.main(FakeAnthropic)
