"""Browser test of the web UI that `g4 serve` serves at `/` (src/serve/webui/index.html).

    .venv-test/bin/python tests/serve/webui_test.py G4_BINARY TESTS_DATA_DIR

Drives headless Chromium (Debian's chromium + chromium-driver, installed by scripts/setup) with
selenium against a server on the tiny random-weight chat model: its replies are gibberish, but they
stream. Checks the page, a streamed reply, Stop, reload (localStorage), conversations, the Markdown
renderer and its safety, reasoning and tool-call rendering (a scripted stream), and an API-key server.
Set G4_WEBUI_SCREENSHOT=FILE.png to save a screenshot of the page at the end of the main part.
"""
import json
import os
import re
import sys
import time
import urllib.request

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from g4server import G4Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
API_KEY = "webui-test-key"
LONG = 3500   # max_tokens of the generation that is stopped: ~20 s on the tiny model, stopped after ~0.2 s

passed = []


def ok(what):
    passed.append(what)
    print(f"  ok  {what}", flush=True)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


# ---------------------------------------------------------------------------------------------
# Browser helpers
# ---------------------------------------------------------------------------------------------

def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
              "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(a)
    # An explicit driver path: Selenium Manager is never asked to find (or download) anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    return driver


def wait(driver, what, fn, timeout=15):
    """Waits until fn(driver) is truthy and returns it; fails naming what it waited for."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(fn)
    except TimeoutException:
        fail(f"timed out after {timeout} s waiting for {what}")


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def el(driver, elem_id):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, elem_id)


def last_assistant(driver):
    """State of the last assistant message: done flag, deltas, text, error, stats."""
    return js(driver, """
        const v = [...document.querySelectorAll('#messages .msg.assistant')].pop();
        if (!v) return null;
        return {done: v.dataset.done === 'true', deltas: +(v.dataset.deltas || 0),
                text: v.querySelector('.msg-body').textContent, reasoning: v.querySelector('.thinking-body').textContent,
                error: v.querySelector('.msg-error').textContent,
                stats: v.querySelector('.msg-stats').textContent, html: v.querySelector('.msg-body').innerHTML};""")


def ready(driver):
    """The composer is ready for the next message: Send shown and enabled, Stop hidden."""
    return js(driver, "const s = document.getElementById('send'), t = document.getElementById('stop');"
                      "return !s.disabled && !s.hidden && t.hidden;")


def set_setting(driver, elem_id, value):
    el(driver, "settings-btn").click()
    wait(driver, "the settings panel", lambda d: el(d, "settings").is_displayed(), 5)
    e = el(driver, elem_id)
    e.clear()
    if value:
        e.send_keys(value)
    el(driver, "settings-close").click()
    wait(driver, "the settings panel to close", lambda d: not el(d, "settings").is_displayed(), 5)


def send_message(driver, text, with_enter=False):
    from selenium.webdriver.common.keys import Keys
    n = len(js(driver, "return document.querySelectorAll('#messages .msg.assistant')"))
    box = el(driver, "input")
    box.send_keys(text)
    if with_enter:
        box.send_keys(Keys.ENTER)
    else:
        el(driver, "send").click()
    wait(driver, "the user message to show", lambda d: js(
        d, "const u = [...document.querySelectorAll('#messages .msg.user')].pop(); return u && u.querySelector('.msg-body').textContent;") == text, 5)
    wait(driver, "the assistant message to appear",
         lambda d: len(js(d, "return document.querySelectorAll('#messages .msg.assistant')")) == n + 1, 5)


def wait_reply(driver, timeout=30):
    return wait(driver, "the assistant reply to finish (data-done)",
                lambda d: (lambda a: a if a and a["done"] and ready(d) else None)(last_assistant(d)), timeout)


def no_alert(driver):
    from selenium.webdriver.support import expected_conditions as EC
    check(not EC.alert_is_present()(driver), "an alert fired: the page ran injected script")


def get(url, key=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def metric(url, name):
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", get(url + "/metrics"), re.M)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------

MARKDOWN = """# Heading one
## Heading *two*

Some **bold**, _italic_, `inline <b>code</b>` and a [link](https://example.com/a?b=1&c=2).

- one
- two
  - nested
1. first
2. second

> quoted **text**

| name | value |
|:-----|------:|
| a    | 1     |
| b    | `2`   |

```python
def f(x):  # comment
    return "s" + str(42)
```
"""

XSS = """<script>alert(1)</script>

<img src=x onerror=alert(1)>

[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) [z](data:text/html,<script>alert(1)</script>)

<a href="javascript:alert(1)">a</a> <svg onload=alert(1)>
"""


def check_markdown(driver):
    r = js(driver, """
        const d = document.createElement('div');
        d.className = 'md';
        d.id = 'md-probe';
        d.innerHTML = window.g4RenderMarkdown(arguments[0]);
        document.body.append(d);
        const q = (s) => d.querySelectorAll(s).length;
        const out = {h1: q('h1'), h2: q('h2 em'), strong: q(':scope > p strong'), em: q(':scope > p em'), code: q(':scope > p code'),
                     link: d.querySelector('a') && d.querySelector('a').getAttribute('href'),
                     ul: q('ul > li'), nested: q('ul ul > li'), ol: q('ol > li'), quote: q('blockquote strong'),
                     th: q('table th'), td: q('table td'), right: q('td[style*=right]'),
                     pre: q('.code-block pre code.language-python'), kw: q('pre .hl-k'), str: q('pre .hl-s'),
                     cmt: q('pre .hl-c'), num: q('pre .hl-n'), copy: q('.code-block .copy-btn'),
                     inlineCode: d.querySelector('p code').textContent};
        d.remove();
        return out;""", MARKDOWN)
    want = {"h1": 1, "h2": 1, "strong": 1, "em": 1, "code": 1, "link": "https://example.com/a?b=1&c=2",
            "ul": 3, "nested": 1, "ol": 2, "quote": 1, "th": 2, "td": 4, "right": 2, "pre": 1, "copy": 1,
            "inlineCode": "inline <b>code</b>"}
    for k, v in want.items():
        check(r[k] == v, f"markdown: {k} is {r[k]!r}, want {v!r} (all: {r})")
    check(r["kw"] >= 2 and r["str"] >= 1 and r["cmt"] == 1 and r["num"] >= 1, f"markdown: code highlighting {r}")
    ok("Markdown: headings, emphasis, inline code, links, nested lists, quote, table, highlighted code + copy")

    r = js(driver, """
        const d = document.createElement('div');
        d.id = 'xss-probe';
        d.innerHTML = window.g4RenderMarkdown(arguments[0]);
        document.body.append(d);
        const bad = [...d.querySelectorAll('*')].filter((e) =>
            ['SCRIPT', 'IMG', 'SVG', 'IFRAME'].includes(e.tagName.toUpperCase()) ||
            [...e.attributes].some((a) => a.name.startsWith('on')) ||
            (e.tagName === 'A' && !/^(https?:|mailto:)/i.test(e.getAttribute('href') || '')));
        return {bad: bad.map((e) => e.outerHTML), text: d.textContent, links: d.querySelectorAll('a').length};""", XSS)
    check(not r["bad"], f"markdown: unsafe elements rendered: {r['bad']}")
    check(r["links"] == 0, "markdown: a javascript:/data: link became a link")
    for s in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"):
        check(s in r["text"], f"markdown: {s!r} is not shown as text: {r['text']!r}")
    # Give an injected onerror/onload the time to fire (a round trip to the server), then look for an alert.
    driver.execute_async_script("const cb = arguments[arguments.length - 1]; fetch('health').then(() => setTimeout(cb, 200));")
    no_alert(driver)
    js(driver, "document.getElementById('xss-probe').remove()")
    ok("Markdown: <script>, <img onerror>, javascript:/data: links come out as inert text, no alert")


def check_chat(driver, s, model):
    driver.get(s.url + "/")
    wait(driver, f"the model name {model!r} in the header", lambda d: el(d, "model-name").text == model)
    check(ready(driver), "the composer is not ready after load")
    ok("page loads from the server and shows the model name from /v1/models")

    check_markdown(driver)

    from selenium.webdriver.common.keys import Keys
    box = el(driver, "input")
    box.send_keys("line 1", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "line 2")
    check(js(driver, "return document.getElementById('input').value") == "line 1\nline 2" and
          not js(driver, "return document.querySelectorAll('#messages .msg').length"), "Shift+Enter does not start a new line")
    box.clear()
    set_setting(driver, "set-max-tokens", "24")
    send_message(driver, "Hello *there*", with_enter=True)
    a = wait_reply(driver)
    # (Random weights: a stray special token could start a reasoning block, so either counts.)
    check(a["text"].strip() or a["reasoning"].strip(), f"the reply is empty: {a}")
    check(not a["error"], f"the reply shows an error: {a['error']}")
    check(a["deltas"] > 1, f"the reply did not stream (deltas={a['deltas']})")
    check(re.search(r"\b24 tokens\b", a["stats"]) and "tok/s" in a["stats"], f"stats line: {a['stats']!r}")
    check(js(driver, "return document.getElementById('input').value") == "", "the input was not cleared")
    wait(driver, "the server's log line of the reply", lambda d: re.search(r"g4 serve: chat 200 .*completion=24 ", s.log()), 5)
    ok(f"Enter sends; the reply streams ({a['deltas']} deltas), finishes, shows '{a['stats']}'; Send is ready again")

    # Stop: a long generation (3500 tokens, far longer than the test waits), stopped while it streams.
    set_setting(driver, "set-max-tokens", str(LONG))
    tokens_before = metric(s.url, "g4_generation_tokens_total")
    send_message(driver, "Tell me a long story")
    wait(driver, "the long reply to stream", lambda d: (last_assistant(d) or {}).get("deltas", 0) >= 3, 15)
    check(not ready(driver), "Send is usable while a reply streams")
    check(el(driver, "stop").is_displayed(), "Stop is not shown while a reply streams")
    t = time.time()
    el(driver, "stop").click()
    a = wait_reply(driver, 5)
    ui_s = time.time() - t
    check("stopped" in a["stats"], f"the stopped reply does not say so: {a['stats']!r}")
    check(not a["error"], f"the stopped reply shows an error: {a['error']}")
    wait(driver, "the server to end the generation (g4_requests_running 0)",
         lambda d: metric(s.url, "g4_requests_running") == 0, 10)
    made = metric(s.url, "g4_generation_tokens_total") - tokens_before
    check(made < LONG, f"the server generated {made} tokens: it did not stop")
    line = wait(driver, "the server's log line of the stopped request",
                lambda d: (re.findall(r"^g4 serve: chat .*$", s.log(), re.M)[1:] or [None])[0], 5)
    m = re.search(r" completion=(\d+) ", line)
    check(m and int(m.group(1)) < LONG, f"the server's log line of the stopped request: {line}")
    ok(f"Stop: the UI is ready {ui_s:.2f} s after the click; the server ended the generation after {made:.0f} "
       f"of {LONG} tokens and logged '{line[len('g4 serve: '):]}'")

    # Reload: the conversation comes back from localStorage.
    before = js(driver, "return [...document.querySelectorAll('#messages .msg')].map((e) => e.querySelector('.msg-body').textContent)")
    check(len(before) == 4, f"want 4 messages before the reload, have {len(before)}")
    driver.refresh()
    wait(driver, "the model name after the reload", lambda d: el(d, "model-name").text == model)
    after = wait(driver, "the conversation after the reload", lambda d: js(
        d, "return [...document.querySelectorAll('#messages .msg')].map((e) => e.querySelector('.msg-body').textContent)") or None, 5)
    check(after == before, f"the conversation changed over the reload:\n{before}\n{after}")
    check(js(driver, "return document.querySelectorAll('#messages .msg.assistant[data-done=true]').length") == 2,
          "the reloaded replies are not marked finished")
    titles = js(driver, "return [...document.querySelectorAll('#conv-list li')].map((e) => e.textContent)")
    check(len(titles) == 1 and titles[0].startswith("Hello *there*"), f"conversation list: {titles}")
    ok("the conversation (4 messages) and its title in the sidebar survive a page reload")


# A stream as the server would send it, cut into network chunks at awkward places: reasoning,
# then content with hostile HTML, then a tool call, the finish, usage and [DONE].
SCRIPTED = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"reasoning_content": "Let me think about "}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"reasoning_content": "**this**."}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": "The answer <img src=x onerror=alert(1)> is:\n\n```js\nconst x = 1;\n```\n"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": "{\"city\":\"Paris\",\"days\":2}"}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 3}}},
]
FAKE_FETCH = """
    window.__realFetch = window.__realFetch || window.fetch;
    window.__requests = [];
    const events = arguments[0], cut = arguments[1];
    window.fetch = async (url, init) => {
      if (!String(url).includes('chat/completions')) return window.__realFetch(url, init);
      window.__requests.push({body: JSON.parse(init.body), headers: init.headers});
      const text = events.map((e) => 'data: ' + (typeof e === 'string' ? e : JSON.stringify(e)) + '\\n\\n').join('');
      const bytes = new TextEncoder().encode(text);
      let at = 0;
      const stream = new ReadableStream({
        pull(c) {
          if (at >= bytes.length) { c.close(); return; }
          return new Promise((r) => setTimeout(r, 15)).then(() => { c.enqueue(bytes.slice(at, at + cut)); at += cut; });
        }});
      return new Response(stream, {status: 200, headers: {'Content-Type': 'text/event-stream'}});
    };"""


def check_scripted(driver):
    """Reasoning, tool calls and stream errors, from a scripted stream (the tiny model makes none)."""
    set_setting(driver, "set-max-tokens", "7")
    el(driver, "settings-btn").click()
    el(driver, "set-thinking").click()
    el(driver, "settings-close").click()
    js(driver, FAKE_FETCH, SCRIPTED + ["[DONE]"], 37)
    send_message(driver, "Weather in Paris?")
    a = wait_reply(driver, 10)
    body = js(driver, "return window.__requests[0].body")
    for k, v in (("stream", True), ("stream_options", {"include_usage": True}), ("chat_template_kwargs", {"enable_thinking": True}),
                 ("max_tokens", 7), ("top_k", 64)):
        check(body.get(k) == v, f"request body: {k} is {body.get(k)!r}, want {v!r}")
    check(body["messages"][-1] == {"role": "user", "content": "Weather in Paris?"}, f"request messages: {body['messages']}")
    t = js(driver, """
        const v = [...document.querySelectorAll('#messages .msg.assistant')].pop();
        const th = v.querySelector('details.thinking');
        return {thinkShown: !th.hidden, thinkOpen: th.open, summary: th.querySelector('summary').textContent,
                thinking: th.querySelector('.thinking-body').innerHTML,
                tool: v.querySelector('.tool-call-head') && v.querySelector('.tool-call-head').textContent,
                args: v.querySelector('.tool-call pre') && v.querySelector('.tool-call pre').textContent,
                imgs: v.querySelectorAll('img').length, code: v.querySelectorAll('.msg-body pre .hl-k').length};""")
    check(t["thinkShown"] and not t["thinkOpen"] and t["summary"].startswith("Thought"), f"thinking block: {t}")
    check("<strong>this</strong>" in t["thinking"], f"thinking text: {t['thinking']!r}")
    check(t["tool"] and "get_weather" in t["tool"], f"tool-call card: {t}")
    check(json.loads(t["args"]) == {"city": "Paris", "days": 2} and '\n  "city": "Paris"' in t["args"], f"tool-call arguments: {t['args']!r}")
    check(t["imgs"] == 0 and "<img src=x onerror=alert(1)>" in a["text"], f"hostile content in a reply: {a['html']!r}")
    check(t["code"] >= 1, "the reply's code block is not highlighted")
    check(a["stats"].startswith("5 tokens") and "11 (3 cached)" in a["stats"], f"usage in the stats line: {a['stats']!r}")
    no_alert(driver)
    ok("scripted stream: request fields, collapsed 'Thought' block, tool-call card with pretty JSON, usage, inert HTML")

    # An error event in the middle of a stream.
    js(driver, FAKE_FETCH, [SCRIPTED[0], {"error": {"message": "generation failed: scripted failure", "type": "server_error"}}, "[DONE]"], 1000)
    send_message(driver, "again")
    a = wait_reply(driver, 10)
    check("scripted failure" in a["error"], f"the stream's error event is not shown: {a}")
    body = js(driver, "return window.__requests[0].body")
    check([m["role"] for m in body["messages"]] == ["user", "assistant", "user"], f"history sent: {body['messages']}")
    check(body["messages"][1]["tool_calls"][0]["function"]["name"] == "get_weather", "the tool call is not in the history")
    js(driver, "window.fetch = window.__realFetch")
    ok("an error event in the stream is shown in the chat; the history carries the tool call")


def check_conversations(driver):
    el(driver, "new-chat").click()
    wait(driver, "an empty new chat", lambda d: js(d, "return document.querySelectorAll('#messages .msg').length") == 0
         and el(d, "empty").is_displayed(), 5)
    check_scripted(driver)
    titles = js(driver, "return [...document.querySelectorAll('#conv-list li')].map((e) => e.textContent)")
    check(len(titles) == 2 and titles[0].startswith("Weather in Paris?"), f"conversation list: {titles}")
    # Switch to the first conversation and back.
    from selenium.webdriver.common.by import By
    driver.find_elements(By.CSS_SELECTOR, "#conv-list li .conv-title")[1].click()
    wait(driver, "the first conversation", lambda d: js(d, "return document.querySelectorAll('#messages .msg').length") == 4, 5)
    driver.find_elements(By.CSS_SELECTOR, "#conv-list li .conv-title")[0].click()
    wait(driver, "the second conversation", lambda d: js(d, "return document.querySelectorAll('#messages .msg').length") == 4
         and "Weather" in el(d, "messages").text, 5)
    # Delete the open one (it asks first).
    driver.find_element(By.CSS_SELECTOR, "#conv-list li.active .conv-del").click()
    from selenium.webdriver.support import expected_conditions as EC
    wait(driver, "the delete confirmation", EC.alert_is_present(), 5).accept()
    wait(driver, "one conversation left", lambda d: len(js(d, "return document.querySelectorAll('#conv-list li')")) == 1, 5)
    check(js(driver, "return JSON.parse(localStorage.getItem('g4.conversations')).length") == 1, "localStorage still holds the deleted chat")
    check("Hello *there*" in el(driver, "messages").text, "after the delete the first conversation is not shown")
    ok("conversations: new chat, sidebar list, switch, delete (with confirmation), kept in localStorage")


def check_api_key(driver, s, model):
    driver.get(s.url + "/")   # another port: another origin, an empty localStorage
    wait(driver, "the page to say it needs an API key", lambda d: "API key" in el(d, "conn-status").text)
    set_setting(driver, "set-max-tokens", "8")
    send_message(driver, "Without a key")
    a = wait_reply(driver, 10)
    check("401" in a["error"] and "API key" in a["error"], f"the 401 error is not shown: {a}")
    ok(f"API-key server: without the key the error shows: {a['error']!r}")
    set_setting(driver, "set-api-key", API_KEY)
    wait(driver, "the model name once the key is set", lambda d: el(d, "model-name").text == model)
    check(el(driver, "conn-status").text == "", "the API-key warning stays after the key was set")
    send_message(driver, "With the key")
    a = wait_reply(driver, 20)
    check((a["text"].strip() or a["reasoning"].strip()) and not a["error"], f"the reply with the key failed: {a}")
    stored = js(driver, "return JSON.parse(localStorage.getItem('g4.settings')).api_key")
    check(stored == API_KEY, f"the key is not kept in localStorage: {stored!r}")
    driver.refresh()
    wait(driver, "the model name after a reload (key from localStorage)", lambda d: el(d, "model-name").text == model)
    ok("API-key server: with the key from Settings the chat works; the key persists over a reload")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    g4, data_dir = sys.argv[1], sys.argv[2]
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            print(f"FAIL: {path} is missing (Debian package {pkg}): run scripts/setup")
            return 1
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("FAIL: selenium is not installed in this Python: run scripts/setup (it fills .venv-test/)")
        return 1

    t0 = time.time()
    driver = make_driver()
    try:
        with G4Server(g4, data_dir, "-np", "2", "-c", "4096") as s:
            model = json.loads(get(s.url + "/v1/models"))["data"][0]["id"]
            try:
                check_chat(driver, s, model)
                check_conversations(driver)
                shot = os.environ.get("G4_WEBUI_SCREENSHOT")
                if shot:
                    driver.find_element("css selector", "#conv-list li .conv-title").click()
                    driver.save_screenshot(shot)
            except Exception:
                print("server log:\n" + s.log())
                raise
        with G4Server(g4, data_dir, "-np", "1", "-c", "512", "--api-key", API_KEY) as s:
            model = json.loads(get(s.url + "/v1/models", API_KEY))["data"][0]["id"]
            try:
                check_api_key(driver, s, model)
            except Exception:
                print("server log:\n" + s.log())
                raise
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE" and "401" not in e.get("message", "")]
        check(not errors, f"the browser console has errors: {errors}")
    except AssertionError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        driver.quit()
    print(f"webui_test: {len(passed)} checks passed in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
