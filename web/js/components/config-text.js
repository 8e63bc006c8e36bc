// The text of the Configuration page: the llama-server command line as a shell would read it, and
// finding a key in the JSON view (locateKey, selectKey) to show a problem where it is.

/** ["prog", "-c", "2048", "--verbose"] -> ["prog", "-c 2048", "--verbose"]: each flag with its value. */
export function argvGroups(words) {
  const out = [];
  for (const word of words) {
    const last = out.length - 1;
    const isFlag = /^-/.test(word) && !/^-\d/.test(word);
    if (!isFlag && last > 0 && /^-/.test(out[last]) && !out[last].includes(" ")) out[last] += ` ${word}`;
    else out.push(word);
  }
  return out;
}

/** POSIX-shell quoting, only where needed. */
export function shellQuote(arg) {
  const text = String(arg);
  if (/^[A-Za-z0-9_\-.,:/=+@%]+$/.test(text)) return text;
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** Selects the key of `path` ("performance.contextSize", "backends.models[2].spawn.command") in the JSON text. */
export function selectKey(textarea, path) {
  const text = textarea.value;
  const found = locateKey(text, path);
  textarea.focus();
  if (found) {
    textarea.setSelectionRange(found[0], found[1]);
    // Scroll the selection into view: the line's offset within the textarea.
    const line = text.slice(0, found[0]).split("\n").length - 1;
    const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, line * lineHeight - textarea.clientHeight / 2);
  }
}

/**
 * [start, end] in JSON `text` of the key named by `path` (an array index: that element), or of the
 * deepest part of it that exists; null when not even the first part does (or the text is not JSON).
 */
export function locateKey(text, path) {
  const parts = [...String(path).matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]));
  let i = 0;
  let found = null;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i += 1;
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i += 1;
    return [start, i];
  };
  // Reads the value at i; while `depth` follows `path`, the member or element it names is searched.
  const value = (depth) => {
    ws();
    const open = text[i];
    if (open === '"') return void string();
    if (open !== "{" && open !== "[") {
      while (i < text.length && !/[\s,\]}]/.test(text[i])) i += 1;
      return undefined;
    }
    const object = open === "{";
    const want = parts[depth];
    i += 1;
    for (let n = 0; i < text.length; n += 1) {
      ws();
      if (text[i] === "}" || text[i] === "]") {
        i += 1;
        return undefined;
      }
      const at = i;
      let match = false;
      if (object) {
        const key = string();
        match = typeof want === "string" && JSON.parse(text.slice(key[0], key[1])) === want;
        if (match) found = key;
        ws();
        i += 1; // the colon
      } else {
        match = want === n;
      }
      ws();
      const start = i;
      value(match ? depth + 1 : Infinity);
      if (match && !object && (!found || found[0] < start)) found = [start, i]; // nothing deeper: the element
      ws();
      if (text[i] === ",") i += 1;
      if (i === at) return undefined; // not JSON: stop rather than loop
    }
    return undefined;
  };
  try {
    value(0);
  } catch {
    // a key that is not valid JSON text: keep what was found so far
  }
  return found;
}
