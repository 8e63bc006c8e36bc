// The Models page's downloads: pulls running on the server (`models:pull:list` when the page opens, then
// the `models:pull:progress` / `:done` / `:error` broadcasts, whoever started them), each with a progress
// bar, percentage, speed and time left, Cancel (`models:pull:cancel`); after an error or a cancel, Resume
// (`models:pull` again with the same repo and file: the server resumes the partial blob); when done, the
// model id it is listed under (the list itself follows through `models:updated`).
//
// Contract: new Downloads({state}).mount(parent); track(reply) adds a pull this page started. Each pull is an
// <li data-testid="download" data-file data-pull-id data-state="running|done|error"> holding a <progress>
// (data-testid "download-progress", data-bytes, data-total), its text ("download-text") and its buttons
// (data-action "cancel" | "resume" | "dismiss"). The card is hidden while there is nothing to show.
import { Component, h } from "../core/component.js";
import { formatBytes, formatDuration } from "../core/format.js";

export class Downloads extends Component {
  getEventMap() {
    return { "click button[data-action]": "handleAction" };
  }

  render() {
    return h("section", { class: "card downloads", "aria-labelledby": "downloads-title", "data-testid": "downloads", hidden: true },
      h("h2", { id: "downloads-title" }, "Downloads"),
      h("ul", { class: "downloads__list", "data-ref": "list" }));
  }

  onMount() {
    this.pulls = new Map(); // pullId -> {pullId, repo, file, sidecars, bytes, totalBytes, bytesPerSec, etaSec, state, …}
    this.items = new Map(); // pullId -> <li>
    const { state } = this.props;
    this.own(state.on("models:pull:progress", (d) => this._progress(d)));
    this.own(state.on("models:pull:done", (d) => this._end(d, { state: "done", modelId: d.modelId, path: d.path })));
    this.own(state.on("models:pull:error", (d) => this._end(d, { state: "error", code: d.code, message: d.message, bytes: d.bytes })));
    this.own(state.subscribe("connection", (c) => { if (c === "connected") this._list(); }));
  }

  /** Pulls running now (also those of other clients, or of an earlier visit to the page). */
  async _list() {
    try {
      const { pulls = [] } = await this.props.state.request("models:pull:list", {});
      if (this.el) for (const p of pulls) this._upsert({ ...p, state: "running" });
    } catch {
      // A server without pulls from the dashboard: the broadcasts are all there is to show.
    }
  }

  track(reply) {
    const known = this.pulls.get(reply.pullId);
    if (known) return this._upsert({ pullId: reply.pullId, sidecars: reply.sidecars, note: null }); // its broadcasts came first
    this._upsert({ bytes: 0, ...reply, state: "running", note: null });
  }

  _progress(d) {
    const known = this.pulls.get(d.pullId);
    if (known && known.state !== "running") return; // a late tick after the end
    this._upsert({ ...d, state: "running" });
  }

  _end(d, patch) {
    this._upsert({ ...d, ...patch, bytesPerSec: null, etaSec: null, note: null });
  }

  _upsert(data) {
    const pull = { ...this.pulls.get(data.pullId), ...data };
    this.pulls.set(pull.pullId, pull);
    // A resumed pull replaces the one that failed or was cancelled for the same file.
    for (const [id, other] of this.pulls) {
      if (id !== pull.pullId && other.repo === pull.repo && other.file === pull.file && other.state !== "running" && pull.state === "running") this._drop(id);
    }
    let item = this.items.get(pull.pullId);
    if (!item) {
      item = buildItem(pull.pullId);
      this.items.set(pull.pullId, item);
      this.refs().list.append(item);
    }
    patchItem(item, pull);
    this.el.hidden = this.items.size === 0;
  }

  _drop(pullId) {
    this.items.get(pullId)?.remove();
    this.items.delete(pullId);
    this.pulls.delete(pullId);
    if (this.el) this.el.hidden = this.items.size === 0;
  }

  async handleAction(event, button) {
    const pullId = button.closest("li")?.dataset.pullId;
    const pull = this.pulls.get(pullId);
    if (!pull) return;
    const action = button.dataset.action;
    if (action === "dismiss") return this._drop(pullId);
    button.disabled = true;
    try {
      if (action === "cancel") {
        await this.props.state.request("models:pull:cancel", { pullId });
      } else if (action === "resume") {
        const reply = await this.props.state.request("models:pull", { repo: pull.repo, file: pull.file, sidecars: pull.sidecars || [] }, { timeoutMs: 60000 });
        if (this.el) this.track({ repo: pull.repo, file: pull.file, sidecars: pull.sidecars, bytes: pull.bytes, ...reply });
      }
    } catch (err) {
      // The error broadcast may have beaten the cancel (the pull just ended): the item shows it already.
      if (this.el && this.pulls.has(pullId)) this._upsert({ pullId, note: `${action === "cancel" ? "Cancel" : "Resume"} failed: ${err.message}` });
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  }
}

function buildItem(pullId) {
  const button = (action, label) => h("button", { type: "button", class: "btn", "data-action": action, "data-ref": action,
    "data-testid": `download-${action}`, hidden: true }, label);
  const item = h("li", { class: "download", "data-testid": "download", "data-pull-id": pullId },
    h("div", { class: "download__head" },
      h("span", { class: "download__name" }, h("strong", { "data-ref": "file" }), h("span", { class: "muted", "data-ref": "repo" })),
      h("div", { class: "btn-row" }, button("cancel", "Cancel"), button("resume", "Resume"), button("dismiss", "Dismiss"))),
    h("progress", { "data-ref": "bar", "data-testid": "download-progress" }),
    h("p", { class: "download__text", "data-ref": "text", "data-testid": "download-text" }),
    h("p", { class: "download__text download__text--error", role: "alert", "data-ref": "note", hidden: true }));
  item.refs = {};
  for (const node of item.querySelectorAll("[data-ref]")) item.refs[node.dataset.ref] = node;
  return item;
}

/** Rewrites an item in place (a tick every quarter second must not take the focus off Cancel). */
function patchItem(item, p) {
  const r = item.refs;
  item.dataset.file = p.file || "";
  item.dataset.state = p.state;
  r.file.textContent = p.file || "";
  r.repo.textContent = p.repo ? ` from ${p.repo}` : "";
  const total = Number.isFinite(p.totalBytes) && p.totalBytes > 0 ? p.totalBytes : null;
  const bytes = Number.isFinite(p.bytes) ? p.bytes : 0;
  const percent = total ? Math.min(100, Math.floor((bytes / total) * 100)) : null;
  r.bar.hidden = p.state === "done";
  r.bar.max = total ?? 1;
  if (total) r.bar.value = bytes;
  else r.bar.removeAttribute("value");
  r.bar.dataset.bytes = String(bytes);
  r.bar.dataset.total = total === null ? "" : String(total);
  r.bar.setAttribute("aria-label", `Download of ${p.file}`);
  r.cancel.hidden = p.state !== "running";
  r.resume.hidden = p.state !== "error";
  r.dismiss.hidden = p.state === "running";
  for (const b of [r.cancel, r.resume, r.dismiss]) b.setAttribute("aria-label", `${b.textContent} ${p.file}`);
  const text = describe(p, bytes, total, percent);
  if (r.text.textContent !== text) r.text.textContent = text;
  r.text.classList.toggle("download__text--error", p.state === "error" && p.code !== "CANCELLED");
  if (p.state === "running") r.text.removeAttribute("role");
  else r.text.setAttribute("role", "status");
  r.note.hidden = !p.note;
  r.note.textContent = p.note || "";
}

function describe(p, bytes, total, percent) {
  const amount = total ? `${formatBytes(bytes)} of ${formatBytes(total)}` : formatBytes(bytes);
  if (p.state === "done") return `Downloaded: listed as model ${p.modelId || p.file}${p.path ? ` (${p.path})` : ""}.`;
  if (p.state === "error") {
    const at = total ? ` at ${percent} % (${amount})` : "";
    return p.code === "CANCELLED" ? `Cancelled${at}. Resume continues where it stopped.` : `Failed${at}: ${p.message || p.code}`;
  }
  const parts = [percent === null ? "starting…" : `${percent} %`, amount];
  if (Number.isFinite(p.bytesPerSec) && p.bytesPerSec > 0) parts.push(`${formatBytes(p.bytesPerSec)}/s`);
  if (Number.isFinite(p.etaSec)) parts.push(`${formatDuration(p.etaSec)} left`);
  if (p.resumedFrom > 0) parts.push(`resumed at ${formatBytes(p.resumedFrom)}`);
  return parts.join(" · ");
}
