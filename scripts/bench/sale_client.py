#!/usr/bin/env python3
"""Load for the whole sale across the services, through the gateway over HTTPS.

CLIENTS threads, each with its own keep-alive connection, repeat the README's sale for DURATION
seconds: log in; a lead; its call (qualified); the lead converted into a customer
(service-management) and an opportunity; the catalogue's product put on the opportunity; the deal
moved to negotiation; converted into an order; the order approved; a payment stage; its payment
recorded (the stage paid); an analytics read (orders summary). Each step is timed; a sale counts as
completed only if every step answered 2xx and the payment left the stage `paid`. Any other answer
or a broken connection is an error of that step, and that client starts its next sale.

Standard library only; the gateway's certificate is not verified (a development certificate).
Settings from the environment (see sale.sh). Prints the report and writes it to REPORT when set.
"""
import http.client
import json
import os
import ssl
import statistics
import threading
import time
import uuid

HOST = os.environ.get("GW_HOST", "127.0.0.1")
PORT = int(os.environ["GW_TLS_PORT"])
CLIENTS = int(os.environ.get("CLIENTS", "16"))
DURATION = float(os.environ.get("DURATION", "60"))
EMAIL = os.environ["ADMIN_EMAIL"]
PASSWORD = os.environ["ADMIN_PASSWORD"]
REPORT = os.environ.get("REPORT")

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE

STEPS = ["login", "lead", "follow-up", "convert lead", "opportunity products", "opportunity stage",
         "convert to order", "approve order", "payment stage", "payment", "analytics read"]


class StepError(Exception):
    def __init__(self, step, what):
        super().__init__(f"{step}: {what}")
        self.step, self.what = step, what


class Client:
    def __init__(self):
        self.conn = None

    def call(self, step, method, path, body=None, token=None):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(HOST, PORT, context=CTX, timeout=60)
        headers = {"content-type": "application/json"} if body is not None else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = None
            raise StepError(step, type(e).__name__) from e
        if r.status // 100 != 2:
            raise StepError(step, f"{r.status} {raw[:200].decode(errors='replace')}")
        return json.loads(raw)["data"] if raw else None


def sale(c, timed, product, n):
    def step(name, method, path, body=None, token=None):
        t = time.perf_counter()
        data = c.call(name, method, path, body, token)
        timed.append((name, time.perf_counter() - t))
        return data

    ow = "/api/order-workflow"
    token = step("login", "POST", "/api/foundation/auth/login", {"email": EMAIL, "password": PASSWORD})["token"]
    lead = step("lead", "POST", f"{ow}/leads",
                {"name": f"Siti {n}", "company_name": f"PT Maju Jaya {n}", "phone": f"0812{n % 100000000:08d}"},
                token)["id"]
    step("follow-up", "POST", f"{ow}/leads/{lead}/follow-ups",
         {"follow_up_type": "call", "content": "wants two KITAS", "follow_up_date": "2026-12-07T03:00:00Z",
          "status_after": "qualified"}, token)
    deal = step("convert lead", "POST", f"{ow}/leads/{lead}/convert-to-opportunity",
                {"opportunity_name": f"KITAS for PT Maju Jaya {n}", "amount": 4000000}, token)["opportunity_id"]
    step("opportunity products", "PUT", f"{ow}/opportunities/{deal}",
         {"products": [{"product_id": product, "quantity": 2, "unit_price": 2000000}]}, token)
    step("opportunity stage", "POST", f"{ow}/opportunities/{deal}/update-stage", {"stage": "negotiation"}, token)
    order = step("convert to order", "POST", f"{ow}/opportunities/{deal}/convert",
                 {"order_title": "KITAS for two directors"}, token)["id"]
    step("approve order", "PUT", f"{ow}/orders/{order}", {"status_code": "approved"}, token)
    stage = step("payment stage", "POST", f"{ow}/orders/{order}/payment-stages",
                 {"stage_name": "Down payment", "amount": 2000000, "due_date": "2026-12-31"}, token)["id"]
    paid = step("payment", "POST", f"{ow}/orders/{order}/payment-stages/{stage}/payments",
                {"amount": 2000000, "payment_method": "transfer"}, token)
    if paid["payment_stage"]["status"] != "paid":
        raise StepError("payment", f"stage {paid['payment_stage']['status']}, not paid")
    step("analytics read", "GET", "/api/analytics-monitoring/analytics/orders/summary", token=token)


def setup():
    """The product every sale puts on its opportunity, made once as the README makes it."""
    c = Client()
    token = c.call("setup", "POST", "/api/foundation/auth/login", {"email": EMAIL, "password": PASSWORD})["token"]
    sm = "/api/service-management"
    tag = uuid.uuid4().hex[:6].upper()
    visa = c.call("setup", "POST", f"{sm}/categories", {"code": f"VISA{tag}", "name": "Visa services"}, token)["id"]
    return c.call("setup", "POST", f"{sm}/products",
                  {"name": "KITAS work visa", "code": f"KITAS{tag}", "category_id": visa, "price_cost_idr": 1000000,
                   "price_channel_idr": 1500000, "price_direct_idr": 2000000}, token)["id"]


def main():
    product = setup()
    lock = threading.Lock()
    timings = {s: [] for s in STEPS}
    sales, errors, error_samples = [], {}, {}
    counter = iter(range(1, 10**9))
    start = time.perf_counter()
    deadline = start + DURATION

    def worker():
        c = Client()
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            timed = []
            t = time.perf_counter()
            try:
                sale(c, timed, product, n)
                ok, elapsed = True, time.perf_counter() - t
            except StepError as e:
                ok = False
                with lock:
                    errors[e.step] = errors.get(e.step, 0) + 1
                    error_samples.setdefault(e.step, e.what)
            # Sales and steps that finished after the deadline are not counted: the rate is over
            # the window.
            if time.perf_counter() > deadline:
                break
            with lock:
                for name, d in timed:
                    timings[name].append(d)
                if ok:
                    sales.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    window = DURATION

    def pct(v, q):
        v = sorted(v)
        return v[min(len(v) - 1, int(q * len(v)))] * 1000

    lines = [f"whole sale through the gateway (HTTPS), {CLIENTS} clients, {window:.0f} s",
             f"completed sales: {len(sales)} = {len(sales) / window:.2f} sales/s",
             f"errors: {sum(errors.values())}" + "".join(f"; {k}: {v} (e.g. {error_samples[k]})" for k, v in errors.items())]
    if sales:
        lines.append(f"whole sale: p50 {pct(sales, 0.5):.1f} ms, p99 {pct(sales, 0.99):.1f} ms")
    lines.append(f"{'step':22} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for s in STEPS:
        v = timings[s]
        if v:
            lines.append(f"{s:22} {len(v):7} {pct(v, 0.5):8.1f} {pct(v, 0.99):8.1f} {statistics.mean(v) * 1000:8.1f}")
    text = "\n".join(lines)
    print(text, flush=True)
    if REPORT:
        with open(REPORT, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
