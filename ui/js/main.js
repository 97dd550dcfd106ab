// Placeholder entry point: shows the connection state from the event stream (text only).
import { connectionState, onEvents } from "./bridge.js";

const status = document.querySelector('[data-testid="connection-status"]');

/** @param {import("./bridge.js").ConnectionView} view */
const show = (view) => {
  const state = view.state === "connected" ? "connected" : view.state === "connecting" ? "connecting" : "offline";
  status.dataset.state = state;
  status.textContent = view.state === "offline" && view.reason ? `${state} (${view.reason})` : state;
};

onEvents((events) => {
  for (const event of events) {
    if (event.type === "connection") show(/** @type {any} */ (event).state);
  }
});
connectionState().then(show, (error) => {
  status.textContent = `offline (${error?.message ?? error})`;
});
