// A minimal W3C WebDriver client over fetch (Node 20, no dependencies): just what the end-to-end
// tests use against tauri-driver. Every call is bounded by a timeout.

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const CALL_TIMEOUT_MS = 30_000;

/** W3C key codes. */
export const Keys = { ENTER: "\uE007", SHIFT: "\uE008", ALT: "\uE00A", CONTROL: "\uE009", ESCAPE: "\uE00C", UP: "\uE013", DOWN: "\uE015" };

/** @param {string} url @param {string} method @param {unknown} [body] */
const call = async (url, method, body) => {
  const t0 = Date.now();
  try {
    return await request(url, method, body);
  } finally {
    if (process.env.NATTER_E2E_TRACE && Date.now() - t0 > 1000) console.log(`slow webdriver call ${method} ${url} ${JSON.stringify(body)?.slice(0, 100)}: ${Date.now() - t0} ms`);
  }
};

/** @param {string} url @param {string} method @param {unknown} [body] */
const request = async (url, method, body) => {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`webdriver ${method} ${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok || json?.value?.error) {
    const e = json?.value ?? {};
    throw new Error(`webdriver ${method} ${url}: ${e.error ?? res.status}: ${e.message ?? text.slice(0, 200)}`);
  }
  return json.value;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a truthy value (which is returned), or throws after `timeoutMs`
 * with `what` and the last value or error seen.
 * @template T @param {() => Promise<T>} probe @param {string} what @param {number} [timeoutMs]
 * @returns {Promise<NonNullable<T>>}
 */
export const waitFor = async (probe, what, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return /** @type {NonNullable<T>} */ (last);
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(100);
  }
};

export class Session {
  /** @param {string} base e.g. http://127.0.0.1:4444 @param {string} id */
  constructor(base, id) {
    this.base = base;
    this.id = id;
    this.url = `${base}/session/${id}`;
  }

  /**
   * Starts the app through tauri-driver. The first request is retried until the native driver
   * listens (tauri-driver answers before WebKitWebDriver is up).
   * @param {number} port tauri-driver's port @param {string} application @param {string[]} args
   */
  static async start(port, application, args = [], timeoutMs = 60_000) {
    const base = `http://127.0.0.1:${port}`;
    const caps = { capabilities: { alwaysMatch: { "tauri:options": { application, args } } } };
    const value = await waitFor(() => call(`${base}/session`, "POST", caps), `a WebDriver session on port ${port}`, timeoutMs);
    return new Session(base, value.sessionId);
  }

  /** @param {string} css @returns {Promise<string[]>} element ids */
  async findAll(css) {
    const found = await call(`${this.url}/elements`, "POST", { using: "css selector", value: css });
    return found.map((/** @type {Record<string, string>} */ e) => e[ELEMENT]);
  }

  /** The one element matching `css`, waiting for it to exist. @param {string} css */
  async find(css, timeoutMs = 20_000) {
    return waitFor(async () => (await this.findAll(css))[0], `element ${css}`, timeoutMs);
  }

  /** @param {string} id */
  async click(id) {
    await call(`${this.url}/element/${id}/click`, "POST", {});
  }

  /**
   * Clicks the element matching `css`, found again if the page replaced it between the find and
   * the click (a list drawn again as more answers come, e.g. search results from the cache and
   * then the relay). @param {string} css
   */
  async clickFound(css, timeoutMs = 20_000) {
    // `waitFor` tries again on a throw, here "stale element reference".
    await waitFor(
      async () => {
        await this.click(await this.find(css, timeoutMs));
        return true;
      },
      `a click on ${css}`,
      timeoutMs,
    );
  }

  /** Types into an element (W3C keys allowed, e.g. Keys.ENTER). @param {string} id @param {string} text */
  async type(id, text) {
    await call(`${this.url}/element/${id}/value`, "POST", { text });
  }

  /** @param {string} id */
  async clear(id) {
    await call(`${this.url}/element/${id}/clear`, "POST", {});
  }

  /**
   * Runs a script in the page (synchronously) and returns its value.
   * @param {string} script a function body @param {unknown[]} [args]
   */
  async exec(script, args = []) {
    return call(`${this.url}/execute/sync`, "POST", { script, args });
  }

  /**
   * Runs an async script: it gets a `done` callback as its last argument.
   * @param {string} script @param {unknown[]} [args]
   */
  async execAsync(script, args = []) {
    return call(`${this.url}/execute/async`, "POST", { script, args });
  }

  /** Sends a key chord to the focused element (e.g. [Keys.CONTROL, "k"]). @param {string[]} keys */
  async chord(keys) {
    const down = keys.map((value) => ({ type: "keyDown", value }));
    const up = [...keys].reverse().map((value) => ({ type: "keyUp", value }));
    await call(`${this.url}/actions`, "POST", { actions: [{ type: "key", id: "keyboard", actions: [...down, ...up] }] });
    await call(`${this.url}/actions`, "DELETE");
  }

  /** @param {{x?: number, y?: number, width?: number, height?: number}} rect */
  async setRect(rect) {
    return call(`${this.url}/window/rect`, "POST", rect);
  }

  /** A PNG of the window. @returns {Promise<Buffer>} */
  async screenshot() {
    return Buffer.from(await call(`${this.url}/screenshot`, "GET"), "base64");
  }

  async end() {
    await call(this.url, "DELETE").catch(() => {});
  }
}
