"""Shared parts of the loopback fake LLM servers (fake_openai.py, fake_anthropic.py,
fake_gemini.py): checkers for the three contract notations in
tests/tools/contracts/llm-apis.json (OpenAPI JSON Schema, TypeScript interface tables, proto
message tables) and the scripted conversation every fake plays.

Conversation (POST /__fake/control {"state": {"turns": [TURN, ...], ...}}):
  TURN = {"say": "text" | null, "tool_calls": [{"name", "arguments": {...},
          "raw_arguments": "..." (OpenAI: sent as-is, e.g. invalid JSON)}],
          "expect": {"tool": NAME, "tool_result_contains": TEXT, "history_contains": TEXT,
                     "tool_error": true},
          "finish": provider finish reason (override), "usage": {"in": N, "out": N},
          "say_auth": true (append the credential header the fake received: the gateway must
          scrub it), "thought_signature": "..." (Gemini)}
The turn answered is the number of assistant turns after the request's last user text (the
same rule as corral's script provider), so one fake serves a whole multi-turn conversation
and a retried request gets the same turn again. A missed expectation, or a turn past the
script, is logged as a violation prefixed "scenario:" and answered with the API's 400.
"""
import json
import re

from fakebase import Fake, load_contract

_CONTRACT = None


def contract():
    global _CONTRACT
    if _CONTRACT is None:
        _CONTRACT = load_contract('llm-apis.json')
    return _CONTRACT


# ------------------------------------------------------------------ OpenAPI JSON Schema

class SchemaChecker:
    """OpenAPI 3.1 subset as the openai schemas use it: $ref, allOf, oneOf/anyOf (with a
    discriminator when there is one), type (also "null" and lists), nullable, enum,
    properties/required/additionalProperties (absent = no unknown fields), items, minItems."""

    def __init__(self, schemas):
        self.schemas = schemas

    def resolve(self, s):
        n = 0
        while isinstance(s, dict) and '$ref' in s and n < 50:
            s = self.schemas[s['$ref'].rsplit('/', 1)[1]]
            n += 1
        return s

    def props(self, s):
        """Properties of s with those of its allOf parts; None when any part is open."""
        s = self.resolve(s)
        out, open_ = dict(s.get('properties', {})), s.get('additionalProperties') not in (None, False)
        for part in s.get('allOf', []):
            p = self.props(part)
            if p is None:
                open_ = True
            else:
                out.update(p)
        return None if open_ else out

    def check(self, s, v, where, out, depth=0):
        s = self.resolve(s)
        if not isinstance(s, dict) or depth > 40:
            return
        if v is None and s.get('nullable'):
            return
        for part in s.get('allOf', []):
            self.check_closed(part, v, where, out, depth + 1, closed=False)
        for key in ('oneOf', 'anyOf'):
            if key in s:
                self.check_alts(s, s[key], v, where, out, depth)
                return
        self.check_closed(s, v, where, out, depth, closed='allOf' not in s)
        if 'allOf' in s and isinstance(v, dict):
            props = self.props(s)
            if props is not None:
                for k in v:
                    if k not in props:
                        out.append('%s.%s: unknown field' % (where, k))

    def check_alts(self, s, alts, v, where, out, depth):
        disc = (s.get('discriminator') or {}).get('propertyName')
        if disc and isinstance(v, dict) and disc in v:
            for alt in alts:
                p = (self.props(alt) or {}).get(disc)
                if p and v[disc] in self.resolve(p).get('enum', []):
                    self.check(alt, v, where, out, depth + 1)
                    return
            out.append('%s.%s: %r is not one of the allowed kinds' % (where, disc, v[disc]))
            return
        errs = []
        for alt in alts:
            tmp = []
            self.check(alt, v, where, tmp, depth + 1)
            if not tmp:
                return
            errs.append(tmp[0])
        out.append('%s: matches none of the allowed forms (%s)' % (where, '; '.join(errs[:3])))

    def check_closed(self, s, v, where, out, depth, closed=True):
        s = self.resolve(s)
        t = s.get('type')
        types = t if isinstance(t, list) else [t] if t else []
        if v is None and ('null' in types or s.get('nullable')):
            return
        if 'enum' in s and v not in s['enum']:
            out.append('%s: %r not in %s' % (where, v, s['enum']))
            return
        if 'object' in types or (not types and 'properties' in s):
            if not isinstance(v, dict):
                out.append('%s: expected an object' % where)
                return
            for r in s.get('required', []):
                if r not in v:
                    out.append('%s.%s: required field missing' % (where, r))
            props = s.get('properties', {})
            addl = s.get('additionalProperties')
            for k, x in v.items():
                if k in props:
                    self.check(props[k], x, '%s.%s' % (where, k), out, depth + 1)
                elif closed and addl in (None, False) and 'properties' in s:
                    out.append('%s.%s: unknown field' % (where, k))
        elif 'array' in types:
            if not isinstance(v, list):
                out.append('%s: expected an array' % where)
                return
            if len(v) < s.get('minItems', 0):
                out.append('%s: fewer than %d items' % (where, s['minItems']))
            for i, x in enumerate(v):
                self.check(s.get('items', {}), x, '%s[%d]' % (where, i), out, depth + 1)
        elif 'string' in types and not isinstance(v, str):
            out.append('%s: expected a string' % where)
        elif 'integer' in types and (isinstance(v, bool) or not isinstance(v, int)):
            out.append('%s: expected an integer' % where)
        elif 'number' in types and (isinstance(v, bool) or not isinstance(v, (int, float))):
            out.append('%s: expected a number' % where)
        elif 'boolean' in types and not isinstance(v, bool):
            out.append('%s: expected a boolean' % where)
        elif types == ['null'] and v is not None:
            out.append('%s: expected null' % where)


# ------------------------------------------------------------------ TypeScript tables

def _split_union(t):
    parts, depth, cur = [], 0, ''
    for ch in t:
        if ch in '<{(':
            depth += 1
        elif ch in '>})':
            depth -= 1
        if ch == '|' and depth == 0:
            parts.append(cur.strip())
            cur = ''
        else:
            cur += ch
    parts.append(cur.strip())
    return [p for p in parts if p]


class TsChecker:
    """TypeScript interface tables (Anthropic SDK .d.ts): interfaces {props: {name: {type,
    optional}}}, type aliases, unions, literals, Array<T>, primitives. Names the table does
    not hold are accepted unchecked; a union of object interfaces picks its member by the
    'type' literal."""

    def __init__(self, types, extra_props=None):
        self.types = types
        self.extra = extra_props or {}     # interface -> {prop: type} added (API versions)

    def check(self, t, v, where, out, depth=0):
        if depth > 40:
            return
        alts = _split_union(t)
        if len(alts) > 1:
            return self.check_union(alts, v, where, out, depth)
        t = alts[0]
        if t in ('unknown', 'any'):
            return
        if t == 'null':
            if v is not None:
                out.append('%s: expected null' % where)
            return
        if t == 'string':
            if not isinstance(v, str):
                out.append('%s: expected a string' % where)
            return
        if t == 'number':
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                out.append('%s: expected a number' % where)
            return
        if t == 'boolean':
            if not isinstance(v, bool):
                out.append('%s: expected a boolean' % where)
            return
        if t.startswith("'") and t.endswith("'"):
            if v != t[1:-1]:
                out.append('%s: expected %s, got %r' % (where, t, v))
            return
        m = re.fullmatch(r'Array<(.*)>', t)
        if m:
            if not isinstance(v, list):
                out.append('%s: expected an array' % where)
                return
            for i, x in enumerate(v):
                self.check(m.group(1), x, '%s[%d]' % (where, i), out, depth + 1)
            return
        d = self.types.get(t)
        if d is None:
            return
        if d.get('kind') == 'type':
            return self.check(d['type'], v, where, out, depth + 1)
        if d.get('kind') == 'interface':
            self.check_iface(t, d, v, where, out, depth)

    def check_iface(self, name, d, v, where, out, depth):
        if not isinstance(v, dict):
            out.append('%s: expected an object (%s)' % (where, name))
            return
        props = dict(d['props'])
        for k, typ in self.extra.get(name, {}).items():
            props[k] = {'type': typ, 'optional': True}
        index = props.pop('[index]', None)
        for k, p in props.items():
            if not p.get('optional') and k not in v:
                out.append('%s.%s: required field missing' % (where, k))
        for k, x in v.items():
            if k in props:
                self.check(props[k]['type'], x, '%s.%s' % (where, k), out, depth + 1)
            elif index is None:
                out.append('%s.%s: unknown field (%s)' % (where, k, name))

    def literal_type(self, name):
        d = self.types.get(name)
        if d and d.get('kind') == 'interface':
            t = d['props'].get('type', {}).get('type', '')
            if t.startswith("'") and t.endswith("'"):
                return t[1:-1]
        return None

    def check_union(self, alts, v, where, out, depth):
        names = []
        for a in alts:
            d = self.types.get(a)
            if d and d.get('kind') == 'type':
                names += _split_union(d['type'])
            else:
                names.append(a)
        if isinstance(v, dict) and 'type' in v:
            for a in names:
                if self.literal_type(a) == v['type']:
                    return self.check(a, v, where, out, depth + 1)
            if any(a not in self.types and a[0].isupper() for a in names):
                return      # a block type the table does not describe
        errs = []
        for a in names:
            tmp = []
            self.check(a, v, where, tmp, depth + 1)
            if not tmp:
                return
            errs.append(tmp[0])
        out.append('%s: matches none of %s (%s)' % (where, ' | '.join(names[:6]),
                                                   '; '.join(errs[:2])))


# ------------------------------------------------------------------ proto tables

PROTO_SCALARS = {
    'string': lambda v: isinstance(v, str),
    'bool': lambda v: isinstance(v, bool),
    'bytes': lambda v: isinstance(v, str),
    'int32': lambda v: (isinstance(v, int) and not isinstance(v, bool)) or
    (isinstance(v, str) and re.fullmatch(r'-?[0-9]+', v) is not None),
    'float': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'double': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'google.protobuf.Struct': lambda v: isinstance(v, dict),
    'google.protobuf.Value': lambda v: True,
}
PROTO_SCALARS['int64'] = PROTO_SCALARS['int32']


class ProtoChecker:
    """Proto messages rendered as {fields: [{json, type, repeated?, oneof?, required?}]} and
    enums {jsonValues}: unknown fields, types, enums, repeated, required, one member per
    oneof."""

    def __init__(self, types):
        self.types = types

    def check(self, t, v, where, out, depth=0, repeated=False):
        if repeated:
            if not isinstance(v, list):
                out.append('%s: expected an array' % where)
                return
            for i, x in enumerate(v):
                self.check(t, x, '%s[%d]' % (where, i), out, depth + 1)
            return
        if t in PROTO_SCALARS:
            if not PROTO_SCALARS[t](v):
                out.append('%s: expected %s' % (where, t))
            return
        d = self.types.get(t)
        if d is None or depth > 40:
            return
        if d.get('kind') == 'enum':
            if v not in d['jsonValues']:
                out.append('%s: %r is not a %s' % (where, v, t))
            return
        if not isinstance(v, dict):
            out.append('%s: expected an object (%s)' % (where, t))
            return
        fields = {f['json']: f for f in d['fields']}
        oneofs = {}
        for f in d['fields']:
            if f.get('required') and f['json'] not in v:
                out.append('%s.%s: required field missing' % (where, f['json']))
        for k, x in v.items():
            f = fields.get(k)
            if f is None:
                out.append('%s.%s: unknown field (%s)' % (where, k, t))
                continue
            if f.get('outputOnly'):
                out.append('%s.%s: output-only field sent' % (where, k))
            if f.get('oneof'):
                oneofs.setdefault(f['oneof'], []).append(k)
            self.check(f['type'], x, '%s.%s' % (where, k), out, depth + 1, f.get('repeated'))
        for g, ks in oneofs.items():
            if len(ks) > 1:
                out.append('%s: %s are one oneof (%s)' % (where, ', '.join(ks), g))


# ------------------------------------------------------------------ the conversation

class LlmFake(Fake):
    """A Fake whose state is a scripted conversation (see the module doc)."""

    def __init__(self, token=None):
        super().__init__({}, self.llm_routes(), None)
        self.key = token
        self.turns = []
        self.ids = 0
        self.with_ids = True

    def set_state(self, state):
        self.turns = state.get('turns', self.turns)
        self.with_ids = state.get('with_ids', self.with_ids)

    def next_id(self, prefix):
        with self.lock:
            self.ids += 1
            return '%s%04d' % (prefix, self.ids)

    # subclasses: llm_routes(), auth_problem(req), norm(req) -> [(role, text, calls,
    # results)], answer(req, turn, calls, usage) -> body
    def check(self, req, route):
        """Contract first; then the credential ("auth:") and the scenario ("scenario:")."""
        v = []
        ct = req.headers.get('content-type', '')
        if ct.split(';')[0].strip().lower() != 'application/json':
            v.append('Content-Type %r is not application/json' % ct)
        if req.json is None:
            try:
                req.json = json.loads(req.body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError) as e:
                return v + ['body is not JSON: %s' % e]
        v += self.check_body_contract(req)
        if v:
            return v
        prob = self.auth_problem(req)
        if prob:
            return ['auth: ' + prob]
        n, turn, sv = self.converse(req)
        req.llm_turn = (n, turn)
        return sv

    def violation_status(self, violations):
        return 401 if any(x.startswith('auth:') for x in violations) else 400

    def turn_index(self, conv):
        """conv: normalised [(role, text, calls, results)] with role user/assistant/tool."""
        last_user = max((i for i, m in enumerate(conv) if m[0] == 'user'), default=-1)
        return sum(1 for m in conv[last_user + 1:] if m[0] == 'assistant')

    def expect_problems(self, turn, n, conv):
        ex = turn.get('expect') or {}
        last_asst = max((i for i, m in enumerate(conv) if m[0] == 'assistant'), default=-1)
        results = [m for m in conv[last_asst + 1:] if m[0] == 'tool']
        out = []
        if 'tool' in ex or 'tool_result_contains' in ex or 'tool_error' in ex:
            ok = [r for r in results
                  if ex.get('tool') in (None, r[3].get('name'))
                  and ex.get('tool_result_contains', '') in (r[1] or '')
                  and ('tool_error' not in ex or bool(r[3].get('error')) == ex['tool_error'])]
            if not ok:
                out.append('scenario: turn %d expected a tool result %s; got %s' % (
                    n, json.dumps(ex, sort_keys=True),
                    json.dumps([[r[3].get('name'), (r[1] or '')[:120]] for r in results])))
        if 'history_contains' in ex and not any(
                ex['history_contains'] in (m[1] or '') for m in conv if m[0] != 'system'):
            out.append('scenario: turn %d expected the history to contain %r' % (
                n, ex['history_contains']))
        return out

    def converse(self, req):
        conv = self.norm(req)
        n = self.turn_index(conv)
        if n >= len(self.turns):
            return n, None, ['scenario: no turn %d in the script (%d turns)' % (n, len(self.turns))]
        turn = self.turns[n]
        return n, turn, self.expect_problems(turn, n, conv)

    def handle_chat(self, req):
        n, turn = req.llm_turn
        say = turn.get('say')
        if turn.get('say_auth'):
            say = (say or '') + ' ' + self.received_credential(req)
        u = turn.get('usage') or {}
        usage = (u.get('in', 10 + len(req.body) // 40), u.get('out', 5))
        return 200, self.answer(req, n, dict(turn, say=say), usage), {}
