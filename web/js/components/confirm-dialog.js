// An in-page confirmation: a modal <dialog> (never window.confirm), so it can name what is at stake in
// full sentences and lists, and be styled and tested like the rest of the page.
//
// Contract: confirmDialog({title, body, confirmLabel, cancelLabel, danger, testid}) shows the dialog and
// resolves true when the confirm button is pressed, false on Cancel, Escape or a click on the backdrop.
// The dialog (data-testid=testid, default "confirm-dialog") is removed from the document once closed, and
// focus goes back to the element that had it. Its buttons: data-testid "confirm-ok" and "confirm-cancel".
// Only one at a time: opening another cancels the one shown.
import { h } from "../core/component.js";

let open = null;

export function confirmDialog({ title, body, confirmLabel = "Confirm", cancelLabel = "Cancel", danger = false, testid = "confirm-dialog" }) {
  open?.close("cancel");
  const previous = document.activeElement;
  const titleId = `dialog-title-${Date.now()}`;
  const ok = h("button", { type: "button", class: `btn ${danger ? "btn--danger" : "btn--primary"}`, "data-testid": "confirm-ok" }, confirmLabel);
  const cancel = h("button", { type: "button", class: "btn", "data-testid": "confirm-cancel" }, cancelLabel);
  const dialog = h("dialog", { class: "confirm-dialog", "aria-labelledby": titleId, "data-testid": testid },
    h("h2", { id: titleId }, title),
    h("div", { class: "confirm-dialog__body" }, body),
    h("div", { class: "btn-row confirm-dialog__actions" }, cancel, ok));
  document.body.append(dialog);
  open = dialog;
  return new Promise((resolve) => {
    ok.addEventListener("click", () => dialog.close("ok"));
    cancel.addEventListener("click", () => dialog.close("cancel"));
    // A click on the backdrop lands on the dialog element itself.
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close("cancel"); });
    dialog.addEventListener("close", () => {
      if (open === dialog) open = null;
      dialog.remove();
      resolve(dialog.returnValue === "ok");
      // After the caller's reaction to the answer (which may enable the button that opened it again).
      setTimeout(() => { if (previous?.isConnected && !previous.disabled) previous.focus(); }, 0);
    });
    dialog.showModal();
    cancel.focus(); // the safe choice has focus: Enter does not evict or delete by accident
  });
}
