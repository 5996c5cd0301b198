#!/usr/bin/python3
"""A raw client of vschedd's control socket (doc/control-protocol.md), for
the integration tests: it sends one request exactly as given - valid or not -
and prints what came back as one JSON line:

    {"reply": OBJECT or null, "closed": BOOL, "status_after": BOOL or null}

reply: the first NUL-terminated message the daemon sent (null if none came
before the connection closed or 10 s passed); closed: the daemon closed the
connection after that reply; status_after (with --then-status): a Status
request sent afterwards on the same connection got a reply without "error".

Usage:
    control-client.py SOCKET raw TEXT          # TEXT, then a NUL byte
    control-client.py SOCKET call METHOD [PARAMETERS_JSON]
    control-client.py SOCKET big BYTES         # a Status request padded to BYTES
    ... [--then-status]
"""

import json
import socket
import sys

TIMEOUT = 10.0


def recv_message(sock, buf):
    """Returns (message bytes or None on EOF/timeout, rest of buffer)."""
    while b"\0" not in buf:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return None, buf
        if not chunk:
            return None, buf
        buf += chunk
    msg, _, rest = buf.partition(b"\0")
    return msg, rest


def is_closed(sock, buf):
    if buf:
        return False
    sock.settimeout(2.0)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def main(argv):
    then_status = "--then-status" in argv
    args = [a for a in argv[1:] if a != "--then-status"]
    if len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, kind, arg = args[0], args[1], args[2]
    if kind == "raw":
        payload = arg.encode()
    elif kind == "call":
        req = {"method": arg}
        if len(args) > 3:
            req["parameters"] = json.loads(args[3])
        payload = json.dumps(req).encode()
    elif kind == "big":
        head = b'{"method": "org.vsched.Status", "parameters": {}, "pad": "'
        tail = b'"}'
        payload = head + b"x" * max(0, int(arg) - len(head) - len(tail)) + tail
    else:
        sys.stderr.write(__doc__)
        return 2

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(path)
    try:
        sock.sendall(payload + b"\0")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon may close before it read everything (too large)
    msg, buf = recv_message(sock, b"")
    out = {"reply": json.loads(msg) if msg is not None else None,
           "closed": False, "status_after": None}
    if then_status:
        ok = False
        try:
            sock.sendall(json.dumps({"method": "org.vsched.Status"}).encode() + b"\0")
            sock.settimeout(TIMEOUT)
            smsg, buf = recv_message(sock, buf)
            ok = smsg is not None and "error" not in json.loads(smsg)
        except (BrokenPipeError, ConnectionResetError):
            ok = False
        out["status_after"] = ok
    else:
        out["closed"] = is_closed(sock, buf)
    sock.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
