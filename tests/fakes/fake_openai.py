#!/usr/bin/env python3
"""Fake OpenAI Chat Completions server (POST /v1/chat/completions) for the model gateway.

The body is checked against CreateChatCompletionRequest from tests/tools/contracts/
llm-apis.json (providers.openai.schemas: the openai/openai-openapi closure), unknown fields
included; on top, the rules the API enforces between messages:
- function.arguments of every assistant tool call is a JSON *string* holding an object;
- an assistant message with tool_calls is followed by exactly one tool message per call id,
  before any other message; a tool message answers a call of that assistant message;
- tool names match ^[a-zA-Z0-9_-]{1,64}$;
- Authorization: Bearer <token> when started with --token.
Answers are CreateChatCompletionResponse bodies; errors {"error": {message, type, param,
code}}. The conversation is scripted (fakellm.py).
"""
import json
import re
import time

import fakebase
from fakebase import Route
from fakellm import LlmFake, SchemaChecker, contract

NAME_RE = re.compile(r'[a-zA-Z0-9_-]{1,64}')
ERR_TYPES = {400: 'invalid_request_error', 401: 'invalid_request_error', 404: 'not_found_error',
             429: 'requests'}


class FakeOpenAI(LlmFake):
    name = 'openai'

    def __init__(self, token=None):
        super().__init__(token)
        self.schema = SchemaChecker(contract()['providers']['openai']['schemas'])

    def llm_routes(self):
        return [Route('POST', '/v1/chat/completions', 'chat', body={}, body_type='json',
                      body_required=True)]

    def error_body(self, status, message, **extra):
        return {'error': {'message': message, 'type': ERR_TYPES.get(status, 'api_error'),
                          'param': None, 'code': 'rate_limit_exceeded' if status == 429 else None}}

    def auth_problem(self, req):
        if self.key is not None and req.headers.get('authorization') != 'Bearer ' + self.key:
            return 'Authorization is not "Bearer <API key>"'
        return None

    def received_credential(self, req):
        return req.headers.get('authorization', '')

    def check_body_contract(self, req):
        v = []
        b = req.json
        self.schema.check({'$ref': '#/components/schemas/CreateChatCompletionRequest'}, b,
                          'body', v)
        if v or not isinstance(b, dict):
            return v
        for i, t in enumerate(b.get('tools') or []):
            if not NAME_RE.fullmatch(t.get('function', {}).get('name', '')):
                v.append('body.tools[%d].function.name: must match ^[a-zA-Z0-9_-]{1,64}$' % i)
        return v + self.check_sequence(b['messages'])

    def check_sequence(self, msgs):
        v, open_ids, where = [], None, None
        for i, m in enumerate(msgs):
            role = m.get('role')
            if role == 'tool':
                if open_ids is None or m['tool_call_id'] not in open_ids:
                    v.append('messages[%d]: tool_call_id %r answers no open call of the '
                             'assistant message before it' % (i, m['tool_call_id']))
                else:
                    open_ids.discard(m['tool_call_id'])
                continue
            if open_ids:
                v.append('messages[%d]: calls %s of messages[%d] have no tool message' % (
                    i, sorted(open_ids), where))
            open_ids = None
            if role == 'assistant' and m.get('tool_calls'):
                open_ids, where = set(), i
                for k, tc in enumerate(m['tool_calls']):
                    open_ids.add(tc['id'])
                    try:
                        args = json.loads(tc['function']['arguments'])
                        if not isinstance(args, dict):
                            raise ValueError('not an object')
                    except ValueError as e:
                        v.append('messages[%d].tool_calls[%d].function.arguments: not a JSON '
                                 'object string (%s)' % (i, k, e))
        if open_ids:
            v.append('the conversation ends with unanswered calls %s' % sorted(open_ids))
        return v

    def norm(self, req):
        out, names = [], {}
        for m in req.json['messages']:
            role, text = m.get('role'), m.get('content')
            if role == 'assistant':
                calls = m.get('tool_calls') or []
                for tc in calls:
                    names[tc['id']] = tc['function']['name']
                out.append(('assistant', text, calls, {}))
            elif role == 'tool':
                out.append(('tool', text, None, {'name': names.get(m.get('tool_call_id'))}))
            else:
                out.append((role, text if isinstance(text, str) else '', None, {}))
        return out

    def answer(self, req, n, turn, usage):
        calls = [{'id': self.next_id('call_'), 'type': 'function',
                  'function': {'name': c['name'],
                               'arguments': c['raw_arguments'] if 'raw_arguments' in c
                               else json.dumps(c.get('arguments', {}))}}
                 for c in turn.get('tool_calls') or []]
        msg = {'role': 'assistant', 'content': turn.get('say'), 'refusal': None}
        if calls:
            msg['tool_calls'] = calls
        return {'id': self.next_id('chatcmpl-'), 'object': 'chat.completion',
                'created': int(time.time()), 'model': req.json['model'],
                'choices': [{'index': 0, 'message': msg, 'logprobs': None,
                             'finish_reason': turn.get('finish') or
                             ('tool_calls' if calls else 'stop')}],
                'usage': {'prompt_tokens': usage[0], 'completion_tokens': usage[1],
                          'total_tokens': usage[0] + usage[1]}}


if __name__ == '__main__':
    fakebase.main(FakeOpenAI)
