#!/usr/bin/env python3
"""tests/e2e/browser.py: headless Chromium through the storefront, for
tests/e2e/test_browser.sh. One scenario a run; prints what it saw as
"name value" lines on stdout for the shell test to check, diagnostics as
"# ..." lines. Exit 0 when the scenario ran to its end (whatever it saw), 1
when it could not (a timeout, a browser that did not start), 2 on bad usage.

Usage: browser.py --url URL --chromium PATH --chromedriver PATH
                  --profile DIR --logs DIR SCENARIO ARGS...
Scenarios:
  double-click SKU QTY   a double click on Buy
  burst SKU QTY N        N clicks on Buy in a row
  lost-answer SKU QTY    one click; the proxy below loses the answer to the
                         first POST /api/orders
  outage SKU QTY DIR     one click; the proxy holds the first POST
                         /api/orders, writes DIR/stop-redis and sends it on
                         once DIR/redis-stopped exists (the shell test stops
                         Redis in between and restarts it 2 s later)
  form SKU QTY           JavaScript off: the plain form, Back, the form again,
                         then the used token with another quantity
  form-double SKU QTY    JavaScript off: the plain form's submit button
                         double-clicked
  shop-shot SKU QTY FILE one click, then a screenshot of the page into FILE

Only loopback is reached: the resolver maps every name but 127.0.0.1 to
nothing, and the background services are off.
"""

import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

# Every wait is bounded; each bound is many times what a loaded machine
# needs (a sanitizer build of the app, one shared core).
PAGE_S = 60
ORDER_S = 90


class Failed(Exception):
    pass


def out(name, value):
    print(f"{name} {value}", flush=True)


def note(text):
    for line in str(text).splitlines() or [""]:
        print(f"# {line}", flush=True)


def wait_for(what, seconds, probe):
    """Calls probe every 50 ms until it returns something true, which it
    returns; raises Failed after SECONDS."""
    end = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            raise Failed(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def start_browser(args, javascript=True):
    opts = webdriver.ChromeOptions()
    opts.binary_location = args.chromium
    for flag in (
        "--headless=new",
        "--no-sandbox" if os.geteuid() == 0 else None,
        f"--user-data-dir={args.profile}{'' if javascript else '-nojs'}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        if flag:
            opts.add_argument(flag)
    # The content setting is kept in the profile's Preferences: a profile
    # of its own (PROFILE-nojs), or every later run would have no scripts.
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(
        executable_path=args.chromedriver,
        log_path=os.path.join(args.logs, "chromedriver.log"),
    )
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(PAGE_S)
    driver.set_script_timeout(PAGE_S)
    return driver


def console(driver):
    """The page's console messages since the last call, as diagnostics."""
    try:
        for entry in driver.get_log("browser"):
            note(f"console {entry.get('level')}: {entry.get('message')}")
    except WebDriverException:
        pass


# --- the storefront page -------------------------------------------------


def open_shop(driver, url):
    driver.get(url + "/")
    # Ready once shop.js ran: every stock line was filled in.
    wait_for(
        "the stock of every product",
        PAGE_S,
        lambda: all(
            "…" not in e.text for e in driver.find_elements(By.CSS_SELECTOR, ".stock")
        ),
    )


def card(driver, sku):
    return driver.find_element(By.CSS_SELECTOR, f'.product[data-sku="{sku}"]')


def listed_orders(driver):
    return [
        li.get_attribute("data-order-id")
        for li in driver.find_elements(By.CSS_SELECTOR, "#orders li")
    ]


def buy(driver, url, sku, qty, clicks):
    """Opens the shop, picks QTY of SKU, runs CLICKS(button) and waits until
    every click has settled; prints what the page shows."""
    open_shop(driver, url)
    c = card(driver, sku)
    Select(c.find_element(By.CSS_SELECTOR, "select.qty")).select_by_visible_text(
        str(qty)
    )
    before = listed_orders(driver)
    button = c.find_element(By.CSS_SELECTOR, "button.buy")
    t0 = time.monotonic()
    clicks(button)
    status = c.find_element(By.CSS_SELECTOR, ".status")
    wait_for(
        "the clicks to settle",
        ORDER_S,
        lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-inflight")
        == "0"
        and any(k in status.get_attribute("class") for k in ("done", "error")),
    )
    after = listed_orders(driver)
    new = [i for i in after if i not in before]
    out("seconds", f"{time.monotonic() - t0:.1f}")
    out("new_orders", len(new))
    out("order_id", new[0] if new else "-")
    out("shown", after.count(new[0]) if new else 0)
    out("status", status.get_attribute("class").split()[-1])
    out("retries", c.get_attribute("data-retries") or 0)
    note(f"status text: {status.text}")
    stored = driver.execute_script(
        "return JSON.parse(localStorage.getItem('antireplay-demo-shop.orders') ?? '[]')"
        ".map(o => o.order_id)"
    )
    out("stored", sum(1 for i in stored if new and i == new[0]))


# --- a loopback proxy that loses or holds one answer ---------------------


def read_request(conn):
    """One HTTP/1.1 request from CONN: (head bytes, body bytes), or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body


class Proxy:
    """Between Chromium and nginx on loopback: each request goes upstream on a
    connection of its own and its whole answer comes back, then the browser's
    connection closes (Connection: close both ways, so Chromium never sees a
    reused connection fail, which it would silently retry itself). The first
    POST /api/orders is special: in "drop" mode its answer is read whole from
    nginx (the order is made) and the browser's connection closed without a
    byte of it; in "hold" mode it waits for the shell test to stop Redis."""

    def __init__(self, upstream, mode, sync_dir=None):
        self.upstream = upstream
        self.mode = mode
        self.sync_dir = sync_dir
        self.lock = threading.Lock()
        self.posts = 0
        self.special_status = None
        self.error = None
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def forward(self, head, body):
        lines = [
            line
            for line in head.split(b"\r\n")
            if line.split(b":")[0].strip().lower()
            not in (b"connection", b"keep-alive", b"proxy-connection")
        ]
        lines.append(b"Connection: close")
        with socket.create_connection(self.upstream, timeout=ORDER_S) as up:
            up.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            answer = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    return answer
                answer += chunk

    def hold(self):
        open(os.path.join(self.sync_dir, "stop-redis"), "w").close()
        stopped = os.path.join(self.sync_dir, "redis-stopped")
        wait_for("the shell test to stop Redis", ORDER_S, lambda: os.path.exists(stopped))

    def serve(self, conn):
        try:
            conn.settimeout(ORDER_S)
            request = read_request(conn)
            if request is None:
                return
            head, body = request
            method, target = head.split(b" ")[:2]
            special = False
            if method == b"POST" and target.split(b"?")[0] == b"/api/orders":
                with self.lock:
                    self.posts += 1
                    special = self.posts == 1
            if special and self.mode == "hold":
                self.hold()
            answer = self.forward(head, body)
            if special:
                self.special_status = answer.split(b" ")[1].decode()
                if self.mode == "drop":
                    return
            conn.sendall(answer)
        except Exception as e:  # reported by the scenario
            self.error = e
        finally:
            conn.close()


# --- the scenarios --------------------------------------------------------


def double_click(driver, args, sku, qty):
    buy(driver, args.url, sku, int(qty),
        lambda b: ActionChains(driver).double_click(b).perform())


def burst(driver, args, sku, qty, n):
    # One move onto the button, then N presses where the pointer is: no
    # pointer travel between them (250 ms each), all within a few ms.
    def clicks(button):
        chain = ActionChains(driver).move_to_element(button)
        for _ in range(int(n)):
            chain.click()
        chain.perform()

    buy(driver, args.url, sku, int(qty), clicks)


def through_proxy(driver, args, mode, sku, qty, sync_dir=None):
    u = urlsplit(args.url)
    proxy = Proxy((u.hostname, u.port), mode, sync_dir)
    buy(driver, f"http://127.0.0.1:{proxy.port}", sku, int(qty), lambda b: b.click())
    out("proxy_posts", proxy.posts)
    out("first_post_status", proxy.special_status or "-")
    if proxy.error:
        note(f"proxy: {proxy.error!r}")


def lost_answer(driver, args, sku, qty):
    through_proxy(driver, args, "drop", sku, qty)


def outage(driver, args, sku, qty, sync_dir):
    through_proxy(driver, args, "hold", sku, qty, sync_dir)


def query(driver, name):
    return parse_qs(urlsplit(driver.current_url).query).get(name, ["-"])[0]


def form(driver, args, sku, qty):
    url = args.url
    driver.get(url + "/api/order-form")
    token = driver.find_element(By.NAME, "token").get_attribute("value")
    out("form_token", token)

    def submit(q):
        Select(driver.find_element(By.NAME, "sku")).select_by_value(sku)
        Select(driver.find_element(By.NAME, "qty")).select_by_visible_text(str(q))
        before = driver.current_url
        driver.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        wait_for("the page after the form", PAGE_S,
                 lambda: driver.current_url != before
                 and driver.execute_script("return document.readyState") == "complete")
        return urlsplit(driver.current_url).path

    out("first_path", submit(int(qty)))
    out("first_order", query(driver, "order_id"))
    # The <noscript> text shows only when the page's scripts are off.
    main_text = driver.find_element(By.TAG_NAME, "main").text
    out("noscript_shown", "yes" if "order number" in main_text else "no")
    driver.back()
    wait_for("the form again after Back", PAGE_S,
             lambda: driver.find_elements(By.NAME, "token"))
    out("back_token", driver.find_element(By.NAME, "token").get_attribute("value"))
    out("second_path", submit(int(qty)))
    out("second_order", query(driver, "order_id"))
    driver.back()
    wait_for("the form again after Back", PAGE_S,
             lambda: driver.find_elements(By.NAME, "token"))
    out("third_path", submit(int(qty) + 1))
    out("third_error", query(driver, "error"))


def form_double(driver, args, sku, qty):
    """The plain form's submit button double-clicked: what Chromium sends
    is for nginx's log to tell; the page must end on one order."""
    driver.get(args.url + "/api/order-form")
    out("form_token", driver.find_element(By.NAME, "token").get_attribute("value"))
    Select(driver.find_element(By.NAME, "sku")).select_by_value(sku)
    Select(driver.find_element(By.NAME, "qty")).select_by_visible_text(str(qty))
    before = driver.current_url
    ActionChains(driver).double_click(
        driver.find_element(By.CSS_SELECTOR, "form [type=submit]")).perform()
    wait_for("the page after the double submit", PAGE_S,
             lambda: driver.current_url != before
             and driver.execute_script("return document.readyState") == "complete")
    out("double_path", urlsplit(driver.current_url).path)
    out("double_order", query(driver, "order_id"))


def shop_shot(driver, args, sku, qty, path):
    buy(driver, args.url, sku, int(qty), lambda b: b.click())
    driver.execute_script("window.scrollTo(0, 0)")
    out("screenshot", "yes" if driver.save_screenshot(path) else "no")


SCENARIOS = {
    "double-click": (double_click, 2, True),
    "burst": (burst, 3, True),
    "lost-answer": (lost_answer, 2, True),
    "outage": (outage, 3, True),
    "form": (form, 2, False),
    "form-double": (form_double, 2, False),
    "shop-shot": (shop_shot, 3, True),
}


def parse_args(argv):
    class Args:
        pass

    args = Args()
    names = ("url", "chromium", "chromedriver", "profile", "logs")
    while argv and argv[0].startswith("--"):
        name = argv.pop(0)[2:]
        if name not in names or not argv:
            return None
        setattr(args, name, argv.pop(0))
    if any(not hasattr(args, n) for n in names) or not argv or argv[0] not in SCENARIOS:
        return None
    args.scenario = argv.pop(0)
    args.rest = argv
    if len(args.rest) != SCENARIOS[args.scenario][1]:
        return None
    return args


def stop_on_sigterm(signum, frame):
    """SIGTERM (the test's cleanup, or timeout(1)) unwinds through main's
    finally, so that chromedriver and Chromium are stopped, not orphaned."""
    raise SystemExit(1)


def main(argv):
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    args = parse_args(list(argv))
    if args is None:
        print(__doc__, file=sys.stderr)
        return 2
    run, _, javascript = SCENARIOS[args.scenario]
    try:
        driver = start_browser(args, javascript)
    except WebDriverException as e:
        note(f"the browser did not start: {e.msg}")
        return 1
    try:
        run(driver, args, *args.rest)
        return 0
    except (Failed, WebDriverException) as e:
        note(f"{args.scenario}: {e}")
        return 1
    finally:
        console(driver)
        driver.quit()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
