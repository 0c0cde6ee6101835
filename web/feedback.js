// Transient messages (toasts) and the confirmation dialog.

import { $, h } from "./dom.js";

export function toast(text, kind = "info", ms = 4000) {
  const el = h("div", { class: `toast toast-${kind}` }, text);
  $("#toasts").append(el);
  setTimeout(() => el.remove(), ms);
}

/** Resolves true if the user confirms. Uses the native modal <dialog>. */
export function confirmAction({ title, text, confirm = "Delete" }) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-ok").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}
