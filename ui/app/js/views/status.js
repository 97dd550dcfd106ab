// The connection banner (data-testid connection-status): text only.
import { connectionText } from "../format.js";

/**
 * @param {HTMLElement} el
 * @param {import("../bridge.js").ConnectionView} view
 * @param {number} elapsedMs since the event arrived (for the retry countdown)
 */
export const renderConnection = (el, view, elapsedMs) => {
  const { state, text } = connectionText(view, elapsedMs);
  if (el.dataset.state !== state) el.dataset.state = state;
  if (el.textContent !== text) el.textContent = text;
};
