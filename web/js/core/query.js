// Page state in the URL query, and the model <select> that several pages share.
//
// Contract: writeQuery(query, defaults) replaces the current history entry's query with the entries of
// `query` that are set and differ from `defaults` (so a default view has a clean URL).
// fillModelSelect(select, names, selected) lists "All models" then `names` sorted, rebuilding the options
// only when the list changed, and selects `selected`.
import { h, replaceChildren } from "./component.js";

export function writeQuery(query, defaults) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value && value !== defaults[key]) params.set(key, value);
  const search = params.toString();
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
}

export function fillModelSelect(select, names, selected) {
  const sorted = [...new Set(names)].sort();
  if (sorted.join("\n") !== [...select.options].slice(1).map((o) => o.value).join("\n")) {
    replaceChildren(select, h("option", { value: "" }, "All models"), sorted.map((id) => h("option", { value: id }, id)));
  }
  select.value = selected;
}
