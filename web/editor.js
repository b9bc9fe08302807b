// The code editor of `jixiao serve`: CodeMirror 6 with YAML and JSON, lint marks set from the server's
// findings, and completion of the input's keys from `jixiao schema`. Built by `npm run build` into
// one file, src/jixiao/serve/static/editor.js, exposed as the global `JixiaoEditor`.
import { EditorState, RangeSetBuilder } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  Decoration, ViewPlugin,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching } from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { lintGutter, setDiagnostics, lintKeymap } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";
import { json } from "@codemirror/lang-json";

const phrases = {
  "Find": "查找", "Replace": "替换", "next": "下一个", "previous": "上一个", "all": "全部",
  "match case": "区分大小写", "regexp": "正则", "by word": "整词", "replace": "替换",
  "replace all": "全部替换", "close": "关闭", "Go to line": "跳到行", "go": "跳转",
  "Diagnostics": "问题", "No diagnostics": "没有问题",
};

// ---- schema keys -------------------------------------------------------------------------------

function deref(schema, root) {
  while (schema && schema.$ref) schema = root.$defs[schema.$ref.split("/").pop()];
  return schema || {};
}

// Every alternative an object at this schema may be (anyOf/oneOf/allOf flattened).
function alternatives(schema, root, seen = new Set()) {
  schema = deref(schema, root);
  if (seen.has(schema)) return [];
  seen.add(schema);
  const subs = [...(schema.anyOf || []), ...(schema.oneOf || []), ...(schema.allOf || [])];
  const own = schema.properties || schema.additionalProperties || schema.items ? [schema] : [];
  return own.concat(...subs.map((s) => alternatives(s, root, seen)));
}

// The schemas reached by a path of keys (numbers stand for list items).
function schemasAt(path, root) {
  let current = alternatives(root, root);
  for (const key of path) {
    const next = [];
    for (const s of current) {
      if (key === "#") {
        if (s.items) next.push(...alternatives(s.items, root));
      } else if (s.properties && s.properties[key]) {
        next.push(...alternatives(s.properties[key], root));
      } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
        next.push(...alternatives(s.additionalProperties, root));
      }
    }
    current = next;
  }
  return current;
}

function keyOptions(path, root) {
  const options = new Map();
  for (const s of schemasAt(path, root)) {
    for (const [name, prop] of Object.entries(s.properties || {})) {
      if (!options.has(name)) {
        options.set(name, { label: name, type: "property", info: deref(prop, root).description || undefined });
      }
    }
  }
  return [...options.values()];
}

// ---- where the cursor is: the path of keys above it --------------------------------------------

const yamlKey = /^(\s*)(-\s+)?(?:"([^"]+)"|'([^']+)'|([^\s#:{}\[\],"'][^:#{}\[\]]*?))\s*:(\s|$)/;

function yamlPath(doc, pos) {
  const line = doc.lineAt(pos);
  const before = line.text.slice(0, pos - line.from);
  let indent = before.match(/^\s*/)[0].length;
  const item = /^\s*-\s+/.test(before);   // a key of a list item: its path ends in the item
  if (item) indent = before.match(/^\s*/)[0].length;
  const path = item ? ["#"] : [];
  for (let n = line.number - 1; n >= 1 && indent > 0; n--) {
    const text = doc.line(n).text;
    if (!text.trim() || text.trim().startsWith("#")) continue;
    const lead = text.match(/^\s*/)[0].length;
    const dash = text.match(/^\s*-\s+/);
    const keyIndent = dash ? dash[0].length : lead;
    if (dash && lead < indent && keyIndent >= indent) { path.unshift("#"); indent = lead; continue; }
    if (keyIndent >= indent) continue;
    const m = text.match(yamlKey);
    if (!m) { indent = lead; continue; }
    path.unshift(m[3] || m[4] || m[5].trim());
    if (m[2]) path.unshift("#");
    indent = lead;
  }
  return path;
}

function jsonPath(doc, pos) {
  // Walk back over the text, keeping the stack of open objects/arrays and the key of each.
  const text = doc.sliceString(0, pos);
  const stack = [];
  let key = null, inString = false, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') { inString = false; key = text.slice(start, i); }
      continue;
    }
    if (c === '"') { inString = true; start = i + 1; }
    else if (c === ":") stack.length && (stack[stack.length - 1].key = key);
    else if (c === "{" || c === "[") stack.push({ kind: c, key: null, parentKey: stack.length ? stack[stack.length - 1].key : null });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") stack.length && (stack[stack.length - 1].key = null);
  }
  const path = [];
  for (let i = 1; i < stack.length; i++) path.push(stack[i - 1].kind === "[" ? "#" : stack[i].parentKey);
  return path;
}

function completeKeys(getSchema, isJson) {
  return (context) => {
    const schema = getSchema();
    if (!schema) return null;
    const word = context.matchBefore(isJson ? /"?[^\s":,{}\[\]]*/ : /[^\s:#,{}\[\]-][^\s:#,{}\[\]]*/);
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    if (!isJson && before.includes(":")) return null; // after the colon: a value, not a key
    if (!word && !context.explicit) return null;
    const path = isJson ? jsonPath(context.state.doc, context.pos) : yamlPath(context.state.doc, context.pos);
    let options = keyOptions(path, schema);
    if (!options.length) return null;
    let from = word ? word.from : context.pos;
    if (!isJson) {
      options = options.map((o) => ({ ...o, apply: `${o.label}: ` }));
      return { from, options, validFor: /^[^\s:]*$/ };
    }
    // JSON: complete the name inside its quotes; replace through the closing quote closeBrackets typed.
    const quoted = word && word.text.startsWith('"');
    if (quoted) from += 1;
    const apply = (view, completion, start, end) => {
      const through = view.state.sliceDoc(end, end + 1) === '"' ? end + 1 : end;
      const text = `${quoted ? "" : '"'}${completion.label}": `;
      view.dispatch({ changes: { from: start, to: through, insert: text }, selection: { anchor: start + text.length } });
    };
    return { from, options: options.map((o) => ({ ...o, apply })), validFor: /^[^\s:"]*$/ };
  };
}

// ---- wrapped lines keep their indentation (long Chinese texts wrap under their key, not at column 0) ---

function hangingIndent() {
  const build = (view) => {
    const builder = new RangeSetBuilder();
    for (const { from, to } of view.visibleRanges) {
      for (let pos = from; pos <= to;) {
        const line = view.state.doc.lineAt(pos);
        const lead = line.text.match(/^\s*(-\s+)?/)[0].length;
        if (lead > 0) {
          builder.add(line.from, line.from, Decoration.line({
            attributes: { style: `padding-left: calc(${lead}ch + 6px); text-indent: -${lead}ch` },
          }));
        }
        pos = line.to + 1;
      }
    }
    return builder.finish();
  };
  return ViewPlugin.fromClass(class {
    constructor(view) { this.decorations = build(view); }
    update(update) { if (update.docChanged || update.viewportChanged) this.decorations = build(update.view); }
  }, { decorations: (plugin) => plugin.decorations });
}

// ---- the editor ---------------------------------------------------------------------------------

export function create(parent, { doc = "", language = "yaml", schema = null, onChange = () => {},
  onCursor = () => {} } = {}) {
  let currentSchema = schema;
  const extensions = (name) => {
    const isJson = name === "json";
    const support = isJson ? json() : yaml();
    return [
      lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(), closeBrackets(),
      autocompletion({ activateOnTyping: true }), highlightActiveLine(), highlightSelectionMatches(),
      lintGutter(), EditorView.lineWrapping, hangingIndent(), EditorState.phrases.of(phrases), EditorState.tabSize.of(2),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
        ...completionKeymap, ...lintKeymap, indentWithTab]),
      support, support.language.data.of({ autocomplete: completeKeys(() => currentSchema, isJson) }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange();
        if (update.selectionSet || update.docChanged) onCursor(update.state.doc.lineAt(update.state.selection.main.head).number);
      }),
      EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { overflow: "auto" } }),
    ];
  };
  const view = new EditorView({ parent, state: EditorState.create({ doc, extensions: extensions(language) }) });

  return {
    view,
    getText: () => view.state.doc.toString(),
    // A file opened: a new state, so undo never goes back past what was loaded.
    setText(text, name) {
      view.setState(EditorState.create({ doc: text, extensions: extensions(name) }));
    },
    setSchema(value) { currentSchema = value; },
    // problems: [{line, severity: "error"|"warning", message}] — a line of 0/null marks line 1.
    setProblems(problems) {
      const doc = view.state.doc;
      const diagnostics = problems.map((p) => {
        const line = doc.line(Math.min(Math.max(p.line || 1, 1), doc.lines));
        const text = line.text;
        const from = line.from + (text.length - text.trimStart().length);
        return { from: Math.min(from, line.to), to: line.to, severity: p.severity, message: p.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    goToLine(number) {
      const line = view.state.doc.line(Math.min(Math.max(number, 1), view.state.doc.lines));
      view.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "start", yMargin: 40 }) });
      view.focus();
    },
    focus: () => view.focus(),
  };
}
