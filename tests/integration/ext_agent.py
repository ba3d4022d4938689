#!/usr/bin/python3
"""An external corral agent in Python (stdlib only): an MCP client on its stdin/stdout.

corrald hosts it with `agents: - {name: pyagent, tenant: T, exec: ext_agent.py, protocol: mcp}`:
corral-jail confines it (agent profile, tenant uid, no network) and corral-agent --mcp-bridge
serves it MCP. Everything it may do goes through the tools the bridge lists, i.e. through
corrald. It waits for runs (corralctl run pyagent INPUT) and answers them:

  probe  list the tools, call echo.echo (allowed) and echo.crash (denied by policy), try to
         read /etc/shadow and to write outside its state dir, write inside it; answer with
         what happened
  tcp    report, then open a TCP socket to 127.0.0.1:PORT (the port in the run's input,
         "tcp PORT"): the confinement kills it (seccomp), and the bridge fails the run
  other  echo the input through echo.echo
"""
import errno
import json
import os
import socket
import sys

_next_id = 0


def log(*args):
    print("ext_agent:", *args, file=sys.stderr, flush=True)


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def request(method, params=None):
    global _next_id
    _next_id += 1
    send({"jsonrpc": "2.0", "id": _next_id, "method": method, "params": params or {}})
    while True:
        line = sys.stdin.readline()
        if not line:
            log("the bridge closed stdin")
            sys.exit(3)
        msg = json.loads(line)
        if msg.get("id") == _next_id:
            return msg


def call(name, args):
    """A tool call: {"ok": bool, "value": parsed JSON or text} (isError: ok false)."""
    msg = request("tools/call", {"name": name, "arguments": args})
    if "error" in msg:
        return {"ok": False, "rpc_error": msg["error"]}
    res = msg["result"]
    text = res["content"][0]["text"]
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return {"ok": not res.get("isError", False), "value": value}


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def write_file(path):
    with open(path, "w") as f:
        f.write("x")


def probe(tools):
    def read_shadow():
        with open("/etc/shadow") as f:
            f.read()

    files = {"read /etc/shadow": attempt(read_shadow)}
    for path in ("/tmp/escape", "/ipc/escape", "/escape", "/usr/escape"):
        files["write " + path] = attempt(lambda p=path: write_file(p))
    files["write state"] = attempt(lambda: write_file(os.path.join(
        os.environ.get("HOME", "/state"), "note")))
    return {
        "tools": tools,
        "echo": call("echo__echo", {"msg": "from python"}),
        "crash": call("echo__crash", {}),
        "files": files,
        "uid": os.getuid(),
        "pid": os.getpid(),
    }


def main():
    init = request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                  "clientInfo": {"name": "ext_agent.py", "version": "1"}})
    log("server", init["result"]["serverInfo"]["name"], init["result"]["protocolVersion"])
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    tools = [t["name"] for t in request("tools/list")["result"]["tools"]]
    log("tools", " ".join(tools))
    while True:
        nxt = call("corral__next_run", {"wait_ms": 60000})
        if not nxt["ok"]:
            log("next_run failed:", nxt)
            return 1
        run = nxt["value"]
        if run["run"] is None:
            continue
        rid, text = run["run"], run["input"]
        log("run", rid, text)
        if text == "probe":
            answer = probe(tools)
        elif text.startswith("tcp "):
            port = int(text.split()[1])
            call("corral__run_event", {"run": rid, "text": "connecting to 127.0.0.1:%d" % port})
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect(("127.0.0.1", port))
            answer = {"tcp": "connected"}
        else:
            answer = {"echo": call("echo__echo", {"msg": text})}
        done = call("corral__finish_run", {"run": rid, "result": answer})
        log("finished", rid, done["ok"])


if __name__ == "__main__":
    sys.exit(main())
