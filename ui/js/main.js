// Placeholder entry point: shows the connection state from the event stream (text only).
import { connectionState, hostLocally, onEvents, resume } from "./bridge.js";

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

const where = document.querySelector('[data-testid="hosting"]');
resume()
  .then((signedIn) => {
    if (signedIn) {
      where.textContent = `Signed in as ${signedIn.username} at ${signedIn.server_url}`;
      return;
    }
    // First run: the relay is hosted here; the sign-up screen (issue 4) will use this address.
    return hostLocally().then((hosted) => {
      where.textContent = `Hosting on this computer at ${hosted.url}`;
    });
  })
  .catch((error) => {
    where.textContent = `Could not start: ${error?.message ?? error}`;
  });
