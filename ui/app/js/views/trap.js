// Keeps Tab inside an open dialog (focus trap): past its last control Tab comes back to the
// first, and Shift+Tab from the first goes to the last, never to the page behind the overlay.

const FOCUSABLE = new Set(["INPUT", "BUTTON", "TEXTAREA", "SELECT"]);

/** The dialog's enabled, shown controls, in document order. @param {Element} el @returns {HTMLElement[]} */
const controls = (el) =>
  [...el.children].flatMap((child) => {
    const c = /** @type {HTMLElement & {disabled?: boolean}} */ (child);
    if (c.hidden) return [];
    const own = FOCUSABLE.has(c.tagName) && !c.disabled ? [c] : [];
    return c.children ? [...own, ...controls(c)] : own;
  });

/** Call from the dialog's keydown listener. @param {HTMLElement} dialog @param {KeyboardEvent} e */
export const trapTab = (dialog, e) => {
  if (e.key !== "Tab") return;
  const all = controls(dialog);
  if (all.length === 0) return;
  const at = document.activeElement;
  const first = all[0];
  const last = all[all.length - 1];
  const inside = all.includes(/** @type {HTMLElement} */ (at));
  if (e.shiftKey && (at === first || !inside)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (at === last || !inside)) {
    e.preventDefault();
    first.focus();
  }
};
