// The only module that touches window.__TAURI__: Natter's commands and its one event stream.

/** Name of the one UI event stream; mirrors `ui_event::EVENT` in src-tauri. */
export const EVENT = "natter://event";

/**
 * @typedef {{state: "connecting", attempt: number, retry_in_ms: number | null}
 *   | {state: "connected"}
 *   | {state: "offline", reason: string}} ConnectionView
 * @typedef {{type: string} & Record<string, unknown>} AppEvent
 */

const tauri = () => {
  const api = window.__TAURI__;
  if (!api) throw new Error("not running inside the Natter app");
  return api;
};

/**
 * At start: reconnects a saved sign-in; on a first run starts hosting on this computer.
 * @returns {Promise<{server_url: string, username: string} | null>}
 */
export const resume = () => tauri().core.invoke("resume");

/**
 * Where this computer's relay listens (starts it if needed).
 * @returns {Promise<{address: string, url: string}>}
 */
export const hostLocally = () => tauri().core.invoke("host_locally");

/** @returns {Promise<ConnectionView>} */
export const connectionState = () => tauri().core.invoke("connection_state");

/**
 * Calls `onBatch` with each batch of events (always an array), in order.
 * @param {(events: AppEvent[]) => void} onBatch
 */
export const onEvents = (onBatch) => tauri().event.listen(EVENT, (event) => onBatch(event.payload));
