#!/usr/bin/env python3
"""Load for order-workflow's notification sockets, through the gateway over HTTPS.

Seeds USERS operators straight into foundation's SQLite database (the administrator's password
hash copied, so no hashing per user), logs each in, opens CONNS sockets spread over them
(`Sec-WebSocket-Protocol: bearer, <token>`), answers pings and otherwise holds them idle, and
reports the resident memory of the gateway and of order-workflow before and with the sockets
open. Then, for each user in turn (PUSH_CONCURRENCY at a time), the administrator assigns a new
lead to them and the time from sending that request to the notification's arrival on the
user's first socket is recorded: p50/p99 of those, and how many of the other sockets also got it.

Standard library only. Settings come from the environment (see ws.sh).
"""
import asyncio
import json
import os
import sqlite3
import ssl
import statistics
import sys
import time
import urllib.request
import uuid

# One or more gateway replicas (comma-separated ports, certificates and pids): sockets are spread
# over them in turn; the plain HTTP calls go to the first.
GWS = [int(p) for p in os.environ["GW_TLS_PORT"].split(",")]
GW = GWS[0]
CERTS = os.environ["GW_CERT"].split(",")
FOUNDATION_DB = os.environ["FOUNDATION_DB"]
USERS = int(os.environ.get("USERS", "1000"))
CONNS = int(os.environ.get("CONNS", "10000"))
GW_PIDS = [int(p) for p in os.environ["GW_PID"].split(",")]
OW_PID = int(os.environ["OW_PID"])
ADMIN_EMAIL = os.environ["ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
PUSH_CONCURRENCY = int(os.environ.get("PUSH_CONCURRENCY", "8"))
ORG = "00000000-0000-0000-0000-000000000001"
PATH = "/api/order-workflow/ws/notifications"

ctx = ssl.create_default_context(cafile=CERTS[0])
if len(CERTS) > 1:
    # Each replica made its own development certificate with the same subject, which a trust store
    # cannot tell apart: with more than one, the certificates are not verified.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def call(method, path, token=None, body=None):
    req = urllib.request.Request(f"https://127.0.0.1:{GW}{path}", method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, data=data, context=ctx, timeout=60) as r:
        return json.load(r)["data"]


def seed_users(n):
    """Copies the administrator's rows (user, membership, role link) for each new user, so every
    column has a value the service itself wrote; ids are SQLite's 16-byte UUIDs."""
    db = sqlite3.connect(FOUNDATION_DB, timeout=30)
    db.row_factory = sqlite3.Row

    def copy(table, row, **changes):
        row = dict(row)
        row.update(changes)
        db.execute(f"INSERT INTO {table} ({','.join(row)}) VALUES ({','.join('?' * len(row))})", list(row.values()))

    admin = db.execute("SELECT * FROM users WHERE email = ?", (ADMIN_EMAIL,)).fetchone()
    member = db.execute("SELECT * FROM organization_employees WHERE user_id = ?", (admin["id"],)).fetchone()
    link = db.execute("SELECT * FROM user_roles WHERE user_id = ?", (admin["id"],)).fetchone()
    role = db.execute("SELECT id FROM roles WHERE code = 'OPERATION'").fetchone()["id"]
    users = []
    for i in range(n):
        uid = uuid.uuid4()
        email = f"ws{i}@bench.local"
        copy("users", admin, id=uid.bytes, email=email, username=f"ws{i}")
        if member is not None:
            copy("organization_employees", member, id=uuid.uuid4().bytes, user_id=uid.bytes)
        changes = {"user_id": uid.bytes, "role_id": role}
        if "id" in link.keys():
            changes["id"] = uuid.uuid4().bytes
        copy("user_roles", link, **changes)
        users.append((str(uid), email))
    db.commit()
    return users


class Socket:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.inbox = asyncio.Queue()

    async def run(self):
        try:
            while True:
                head = await self.reader.readexactly(2)
                op, n = head[0] & 0x0F, head[1] & 0x7F
                if n == 126:
                    n = int.from_bytes(await self.reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await self.reader.readexactly(8), "big")
                payload = await self.reader.readexactly(n)
                if op == 9:  # ping -> pong (masked, as a client must)
                    mask = os.urandom(4)
                    self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask
                                      + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                elif op == 1:
                    self.inbox.put_nowait((time.perf_counter(), payload))
                elif op == 8:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return


def gateways_rss_kb():
    return sum(rss_kb(p) for p in GW_PIDS)


async def open_socket(token, port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
    writer.write((f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Protocol: bearer, {token}\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace").splitlines()[0])
    s = Socket(reader, writer)
    asyncio.ensure_future(s.run())
    return s


async def main():
    admin = call("POST", "/api/foundation/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    print(f"seeding {USERS} users", flush=True)
    users = seed_users(USERS)
    sem = asyncio.Semaphore(4)

    async def login(email):
        async with sem:
            return (await asyncio.to_thread(call, "POST", "/api/foundation/auth/login", None,
                                            {"email": email, "password": ADMIN_PASSWORD}))["token"]
    tokens = await asyncio.gather(*(login(e) for _, e in users))
    await asyncio.sleep(1)
    gw0, ow0 = gateways_rss_kb(), rss_kb(OW_PID)
    print(f"opening {CONNS} sockets over {USERS} users", flush=True)
    sockets = {i: [] for i in range(USERS)}
    open_sem = asyncio.Semaphore(64)
    t0 = time.perf_counter()

    async def one(k):
        async with open_sem:
            u = k % USERS
            sockets[u].append(await open_socket(tokens[u], GWS[k % len(GWS)]))
    await asyncio.gather(*(one(k) for k in range(CONNS)))
    opened = time.perf_counter() - t0
    await asyncio.sleep(3)
    gw1, ow1 = gateways_rss_kb(), rss_kb(OW_PID)
    print(f"sockets open: {CONNS} in {opened:.1f} s")
    print(f"gateway RSS ({len(GWS)} replica(s), summed): {gw0} kB -> {gw1} kB = {(gw1 - gw0) * 1024 / CONNS:.0f} bytes per connection")
    print(f"order-workflow RSS: {ow0} kB -> {ow1} kB = {(ow1 - ow0) * 1024 / CONNS:.0f} bytes per connection")

    latencies, fanout_missing = [], 0
    push_sem = asyncio.Semaphore(PUSH_CONCURRENCY)

    async def push(u):
        nonlocal fanout_missing
        async with push_sem:
            lead = await asyncio.to_thread(call, "POST", "/api/order-workflow/leads", admin, {"name": f"Bench {u}"})
            start = time.perf_counter()
            await asyncio.to_thread(call, "POST", f"/api/order-workflow/leads/{lead['id']}/assign", admin,
                                    {"owner_user_id": users[u][0]})
        for j, s in enumerate(sockets[u]):
            try:
                at, _ = await asyncio.wait_for(s.inbox.get(), 30)
                if j == 0:
                    latencies.append((at - start) * 1000)
            except asyncio.TimeoutError:
                fanout_missing += 1
    await asyncio.gather(*(push(u) for u in range(USERS)))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    print(f"push latency over {len(latencies)} users (assign request sent -> frame read): "
          f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {latencies[-1]:.1f} ms; sockets that missed it: {fanout_missing}")
    gw2, ow2 = gateways_rss_kb(), rss_kb(OW_PID)
    print(f"RSS after the pushes: gateway {gw2} kB, order-workflow {ow2} kB")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
