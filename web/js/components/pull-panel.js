// Download a model from Hugging Face (or $HF_ENDPOINT): search the hub (`models:pull:search`), list a
// repository's GGUF files with their header facts and whether they fit (`models:pull:files`), pick one
// (and its mmproj sidecars) and start the download (`models:pull`). The download runs on the server; the
// Downloads card follows it. HF_TOKEN is the server's business: this panel only says so, never asks for it.
//
// Contract: new PullPanel({state, onStarted}).mount(parent); onStarted(reply) gets `models:pull`'s reply
// ({pullId, repo, file, sidecars, totalBytes}) once a download started. Test ids: pull-query,
// pull-search-submit, pull-search-status, pull-results (buttons data-repo), pull-repo, pull-list-files,
// pull-repo-error, pull-files-status, pull-download, pull-status.
import { Component, h, replaceChildren } from "../core/component.js";
import { formatCount } from "../core/format.js";
import { filesTable, readSelection } from "./pull-files.js";

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** "" when `repo` reads as user/repo, else why not. */
export function repoProblem(repo) {
  if (!repo) return "Type a repository as user/repo, or pick one from the search.";
  if (!REPO.test(repo) || repo.includes("..")) return "A repository is user/repo: two plain names and one '/'.";
  return "";
}

export class PullPanel extends Component {
  getEventMap() {
    return {
      "submit form[data-pull-search]": "handleSearch",
      "click button[data-repo]": "handlePick",
      "submit form[data-pull-repo]": "handleFiles",
      "input input[name=repo]": "handleRepoInput",
      "click button[data-action=pull]": "handlePull",
    };
  }

  render() {
    const status = (testid, ref) => h("p", { class: "muted pull-status", role: "status", "data-ref": ref, "data-testid": testid });
    return h("section", { class: "card pull-panel", "aria-labelledby": "pull-title", "data-testid": "pull-panel" },
      h("h2", { id: "pull-title" }, "Download from Hugging Face"),
      h("form", { class: "inline-form", "data-pull-search": "", role: "search" },
        h("label", { for: "pull-query", class: "visually-hidden" }, "Search GGUF repositories"),
        h("input", { id: "pull-query", name: "query", type: "search", placeholder: "Search GGUF repositories, e.g. qwen 0.5b", "data-testid": "pull-query" }),
        h("button", { type: "submit", class: "btn", "data-testid": "pull-search-submit" }, "Search")),
      status("pull-search-status", "searchStatus"),
      h("ul", { class: "pull-results", "data-ref": "results", "data-testid": "pull-results", hidden: true }),
      h("form", { class: "pull-repo", "data-pull-repo": "", novalidate: true },
        h("label", { for: "pull-repo" }, "Repository"),
        h("div", { class: "inline-form" },
          h("input", { id: "pull-repo", name: "repo", type: "text", placeholder: "user/repo", autocomplete: "off", spellcheck: "false",
            "aria-describedby": "pull-repo-error pull-token-note", "data-testid": "pull-repo" }),
          h("button", { type: "submit", class: "btn", "data-ref": "listButton", "data-testid": "pull-list-files" }, "List files")),
        h("p", { id: "pull-repo-error", class: "field-error", "data-ref": "repoError", "data-testid": "pull-repo-error", hidden: true })),
      status("pull-files-status", "filesStatus"),
      h("div", { "data-ref": "files" }),
      h("div", { class: "btn-row", "data-ref": "actions", hidden: true },
        h("button", { type: "button", class: "btn btn--primary", "data-action": "pull", "data-ref": "pullButton", "data-testid": "pull-download" }, "Download"),
        h("p", { class: "pull-status", role: "status", "data-ref": "pullStatus", "data-testid": "pull-status" })),
      h("p", { id: "pull-token-note", class: "muted pull-note", "data-testid": "pull-token-note" },
        "Gated and private repositories need HF_TOKEN in the environment llama-dashboard was started with; "
        + "the dashboard never asks for the token."));
  }

  onMount() {
    this.r = this.refs();
    this.seq = 0;
  }

  async handleSearch(event, form) {
    event.preventDefault();
    const query = form.elements.query.value.trim();
    const { searchStatus, results } = this.r;
    if (!query) return;
    searchStatus.textContent = "Searching…";
    try {
      const { models = [] } = await this.props.state.request("models:pull:search", { query }, { timeoutMs: 30000 });
      if (!this.el) return;
      results.hidden = models.length === 0;
      searchStatus.textContent = models.length
        ? `${models.length} ${models.length === 1 ? "repository" : "repositories"} with GGUF files`
        : `No GGUF repositories match "${query}".`;
      replaceChildren(results, models.map((m) => h("li", {},
        h("button", { type: "button", class: "link-btn", "data-repo": m.id, "data-testid": `pull-result-${m.id}` }, m.id),
        h("span", { class: "muted" }, ` ${formatCount(m.downloads)} downloads · ${formatCount(m.likes)} likes`))));
    } catch (err) {
      if (!this.el) return;
      results.hidden = true;
      searchStatus.textContent = err.code === "HUB_ERROR"
        ? `Search is not available from this hub (${err.message}). Type the repository as user/repo below.`
        : `Search failed: ${err.message}`;
    }
  }

  handlePick(event, button) {
    const input = this.el.querySelector("input[name=repo]");
    input.value = button.dataset.repo;
    this.handleRepoInput();
    this.el.querySelector("form[data-pull-repo]").requestSubmit();
  }

  handleRepoInput() {
    const { repoError } = this.r;
    const input = this.el.querySelector("input[name=repo]");
    const problem = input.value.trim() ? repoProblem(input.value.trim()) : "";
    repoError.hidden = !problem;
    repoError.textContent = problem;
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  async handleFiles(event, form) {
    event.preventDefault();
    const repo = form.elements.repo.value.trim();
    const { filesStatus, files, actions, repoError, listButton } = this.r;
    const problem = repoProblem(repo);
    repoError.hidden = !problem;
    repoError.textContent = problem;
    if (problem) return form.elements.repo.setAttribute("aria-invalid", "true");
    const seq = ++this.seq;
    listButton.disabled = true;
    filesStatus.textContent = `Reading ${repo}…`;
    actions.hidden = true;
    replaceChildren(files);
    try {
      const data = await this.props.state.request("models:pull:files", { repo }, { timeoutMs: 60000 });
      if (!this.el || seq !== this.seq) return;
      this.repo = data.repo || repo;
      filesStatus.textContent = `${this.repo}${data.commit ? ` at ${String(data.commit).slice(0, 10)}` : ""}`;
      replaceChildren(files, filesTable({ ...data, repo: this.repo }));
      actions.hidden = !(data.files || []).length;
      this.r.pullStatus.textContent = "";
    } catch (err) {
      if (!this.el || seq !== this.seq) return;
      filesStatus.textContent = "";
      repoError.hidden = false;
      repoError.textContent = `Cannot list ${repo}: ${err.message}`;
      form.elements.repo.setAttribute("aria-invalid", "true");
    } finally {
      if (this.el && seq === this.seq) listButton.disabled = false;
    }
  }

  async handlePull(event, button) {
    const { file, sidecars } = readSelection(this.r.files);
    const { pullStatus } = this.r;
    if (!file) {
      pullStatus.textContent = "Pick a file first.";
      return;
    }
    button.disabled = true;
    pullStatus.textContent = `Starting ${file}…`;
    try {
      const reply = await this.props.state.request("models:pull", { repo: this.repo, file, sidecars }, { timeoutMs: 60000 });
      if (!this.el) return;
      pullStatus.textContent = `Downloading ${reply.file || file}: see Downloads.`;
      this.props.onStarted?.({ repo: this.repo, file, sidecars, ...reply });
    } catch (err) {
      if (this.el) pullStatus.textContent = `Not started: ${err.message}`;
    } finally {
      if (this.el) button.disabled = false;
    }
  }
}
