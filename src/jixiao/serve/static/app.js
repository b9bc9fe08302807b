// The page of `jixiao serve`: file list, editor, live preview with findings, save, downloads, import.
// User text is only ever set with textContent (never as HTML); the preview is the server's HTML of
// the form, shown in a sandboxed iframe that runs no script.
"use strict";

(function () {
  const token = document.querySelector('meta[name="jixiao-token"]').content;
  const $ = (id) => document.getElementById(id);
  const PREVIEW_DELAY = 500;      // ms after typing stops
  const PAGE_WIDTH = 794;         // A4 at 96 px/in: the preview is zoomed to fit its pane
  const state = { name: null, version: null, dirty: false, forms: [], lastHtml: null, seq: 0, timer: null,
                  previewHtml: null, shownForm: null, cursorTimer: null };
  let editor = null;

  // ---- talking to the server -------------------------------------------------------------------

  async function api(method, url, body, raw) {
    const headers = { "X-Jixiao-Token": token };
    if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
    if (raw) headers["Content-Type"] = "application/octet-stream";
    let response;
    try {
      response = await fetch(url, { method, headers, body: raw ? body : body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { ok: false, status: 0, error: "无法连接 jixiao serve：服务是否已停止？" };
    }
    const type = response.headers.get("content-type") || "";
    if (type.startsWith("application/json")) {
      const data = await response.json();
      return { ok: response.ok, status: response.status, data, error: data.error };
    }
    return { ok: response.ok, status: response.status, response, error: response.ok ? null : `请求失败（${response.status}）` };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  let toastTimer = null;
  function toast(message, kind, sticky) {
    const box = $("toast");
    box.textContent = message;
    box.className = "toast " + (kind || "");
    box.hidden = false;
    clearTimeout(toastTimer);
    if (!sticky) toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
  }
  $("toast").addEventListener("click", () => { $("toast").hidden = true; });

  // ---- file list -------------------------------------------------------------------------------

  async function refreshFiles() {
    const result = await api("GET", "/api/files");
    if (!result.ok) { toast(result.error, "error", true); return null; }
    $("folder").textContent = "文件夹：" + result.data.folder;
    const list = $("files");
    list.replaceChildren();
    for (const file of result.data.files) {
      const item = el("li", file.name === state.name ? "current" : "");
      const button = el("button", "file", "");
      button.type = "button";
      button.dataset.name = file.name;
      button.append(el("span", "name", file.name));
      const layouts = [...new Set(file.forms.map((f) => f.layout))].join("、");
      const detail = el("span", "detail", `${file.forms.length} 张表` + (layouts ? ` · ${layouts}` : ""));
      button.append(detail);
      const counts = el("span", "counts");
      if (file.errors) counts.append(el("span", "badge error", `${file.errors} 错误`));
      if (file.warnings) counts.append(el("span", "badge warning", `${file.warnings} 警告`));
      if (!file.errors && !file.warnings) counts.append(el("span", "badge ok", "无问题"));
      button.append(counts);
      button.title = file.forms.map((f) => `${f.index}. ${f.name}`).join("\n");
      button.addEventListener("click", () => openFile(file.name));
      item.append(button);
      list.append(item);
    }
    if (!result.data.files.length) list.append(el("li", "empty", "文件夹中还没有输入文件：新建一个或导入去年的表"));
    return result.data;
  }

  async function openFile(name) {
    if (state.dirty && name !== state.name && !confirm(`「${state.name}」有未保存的修改，放弃这些修改吗？`)) return;
    const result = await api("GET", "/api/file?name=" + encodeURIComponent(name));
    if (!result.ok) { toast(result.error, "error", true); return; }
    state.name = name;
    state.version = result.data.version;
    state.lastHtml = null;
    state.previewHtml = null;
    state.shownForm = null;
    editor.setText(result.data.text, name.toLowerCase().endsWith(".json") ? "json" : "yaml");
    setDirty(false);
    $("file-title").textContent = name;
    document.title = `${name} — jixiao`;
    history.replaceState(null, "", "#" + encodeURIComponent(name));
    for (const b of document.querySelectorAll("#files li")) {
      b.classList.toggle("current", b.querySelector("button")?.dataset.name === name);
    }
    for (const id of ["save", "download-form", "download-docx", "download-xlsx", "download-pdf"]) $(id).disabled = false;
    runPreview();
  }

  function setDirty(dirty) {
    state.dirty = dirty;
    $("save-state").textContent = dirty ? "未保存" : "已保存";
    $("save-state").className = "save-state " + (dirty ? "dirty" : "clean");
  }

  // ---- preview ---------------------------------------------------------------------------------

  function schedulePreview() {
    clearTimeout(state.timer);
    state.timer = setTimeout(runPreview, PREVIEW_DELAY);
  }

  async function runPreview() {
    if (!state.name) return;
    const seq = ++state.seq;
    $("preview-box").classList.add("busy");
    const result = await api("POST", "/api/preview", { name: state.name, text: editor.getText() });
    if (seq !== state.seq) return;  // a newer edit already asked again
    $("preview-box").classList.remove("busy");
    if (!result.ok) { toast(result.error, "error"); return; }
    showPreview(result.data);
  }

  function showPreview(data) {
    if (data.html) state.lastHtml = data.html;
    const box = $("preview-box");
    const stale = !data.loaded;
    box.classList.toggle("stale", stale);
    const banner = $("preview-error");
    banner.replaceChildren();
    if (stale) {
      const errors = data.problems.filter((p) => p.severity === "error" && !p.rule);
      banner.append(el("strong", "", state.lastHtml ? "表格无法读取，下面是上一次正确时的预览：" : "表格无法读取："));
      for (const p of errors.slice(0, 3)) banner.append(el("div", "", describe(p)));
    }
    banner.hidden = !stale;
    setFrame(state.lastHtml);
    showProblems(data);
    if (data.loaded) setForms(data.forms);
    editor.setProblems(data.problems.map((p) => ({ line: p.line, severity: p.severity, message: describe(p) })));
  }

  // The field is named unless the message already names it (the loader's "未知字段「…」" does).
  const fieldOf = (p) => (p.field && !p.message.includes(p.field) ? `「${p.field}」` : "");

  function describe(p) {
    const where = [p.line ? `第 ${p.line} 行` : "", fieldOf(p)].filter(Boolean).join(" ");
    return where ? `${where}：${p.message}` : p.message;
  }

  function showProblems(data) {
    const list = $("problems");
    list.replaceChildren();
    for (const p of data.problems) {
      const item = el("li", "problem " + p.severity);
      const button = el("button", "", "");
      button.type = "button";
      button.append(el("span", "kind", p.severity === "error" ? "错误" : "警告"));
      if (p.line) button.append(el("span", "line", `第 ${p.line} 行`));
      if (p.form) button.append(el("span", "form", p.form));
      button.append(el("span", "message", fieldOf(p) + p.message));
      if (p.line) button.addEventListener("click", () => editor.goToLine(p.line));
      item.append(button);
      list.append(item);
    }
    const count = $("problem-count");
    count.className = data.errors ? "has-errors" : data.warnings ? "has-warnings" : "clean";
    count.textContent = data.errors || data.warnings
      ? `检查：${data.errors} 个错误，${data.warnings} 个警告` + (data.forms.length ? `（${data.forms.length} 张表）` : "")
      : `检查：没有发现问题（${data.forms.length} 张表）`;
  }

  function setForms(forms) {
    const names = (list) => JSON.stringify(list.map((f) => [f.index, f.name, f.layout]));
    const same = names(forms) === names(state.forms);
    state.forms = forms;      // lines move as the officer types; the list only changes with the forms
    if (same) return;
    state.shownForm = null;   // the list is rebuilt: mark the cursor's form again on its next move
    const select = $("download-form");
    const chosen = select.value;
    select.replaceChildren();
    const whole = el("option", "", forms.length > 1 ? `整个文件（${forms.length} 张表合并）` : "整个文件");
    whole.value = "";
    select.append(whole);
    for (const f of forms) {
      const option = el("option", "", `第 ${f.index} 张：${f.name}`);
      option.value = String(f.index);
      select.append(option);
    }
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    const list = $("forms");
    list.replaceChildren();
    $("forms-title").textContent = `表（${forms.length} 张）`;
    for (const f of forms) {
      const button = el("button", "form-link", `${f.index}. ${f.name}`);
      button.type = "button";
      button.title = `${f.layout}，第 ${f.line || 1} 行起`;
      button.addEventListener("click", () => {
        const now = state.forms.find((g) => g.index === f.index) || f;  // its line today, after edits above it
        editor.goToLine(now.line || 1);
      });
      const item = el("li");
      item.append(button);
      list.append(item);
    }
  }

  // The form's own HTML, zoomed to the pane's width and shown as pages on a grey desk.
  function setFrame(html) {
    const frame = $("preview");
    if (!html) { frame.srcdoc = ""; state.previewHtml = null; return; }
    const width = $("preview-box").clientWidth - 24;
    const zoom = Math.max(0.4, Math.min(1.25, width / (PAGE_WIDTH + 32))).toFixed(3);
    const screen = `<style>@media screen{html{background:#e4e6eb}body{zoom:${zoom};width:178mm;margin:12px auto;`
      + "padding:18mm 16mm 20mm;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.25)}"
      + "section.form+section.form{border-top:2px dashed #99a;margin-top:20mm;padding-top:18mm}}</style>";
    const doc = html.replace("</head>", screen + "</head>");
    if (doc === state.previewHtml) return;
    state.previewHtml = doc;
    const scrolled = frame.contentWindow ? frame.contentWindow.scrollY : 0;
    frame.addEventListener("load", () => frame.contentWindow.scrollTo(0, scrolled), { once: true });
    frame.srcdoc = doc;
  }

  // Show the form the cursor is in: the last form starting at or above the cursor's line.
  function followCursor(line) {
    const form = [...state.forms].reverse().find((f) => (f.line || 1) <= line) || state.forms[0];
    if (!form || form.index === state.shownForm) return;
    state.shownForm = form.index;
    document.querySelectorAll("#forms li").forEach((item, i) => item.classList.toggle("current", state.forms[i] === form));
    const sections = $("preview").contentDocument?.querySelectorAll("section.form") || [];
    const position = state.forms.indexOf(form);
    if (sections[position]) sections[position].scrollIntoView({ block: "start" });
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { state.previewHtml = null; setFrame(state.lastHtml); }, 200);
  });

  // ---- save, new, download, import -------------------------------------------------------------

  async function save() {
    if (!state.name) return false;
    const result = await api("PUT", "/api/file", { name: state.name, text: editor.getText(), version: state.version });
    if (!result.ok) { toast(result.error, "error", true); return false; }
    state.version = result.data.version;
    setDirty(false);
    toast(`已保存 ${state.name}`, "ok");
    refreshFiles();
    return true;
  }

  async function newFile() {
    const result = await api("POST", "/api/new", { starter: $("starter").value, name: $("new-name").value });
    if (!result.ok) { toast(result.error, "error", true); return; }
    $("new-name").value = "";
    await refreshFiles();
    await openFile(result.data.name);
    toast(`已新建 ${result.data.name}`, "ok");
  }

  async function download(format) {
    if (!state.name) return;
    if (state.dirty && !(await save())) return;
    const form = $("download-form").value;
    const buttons = document.querySelectorAll("button.download");
    buttons.forEach((b) => { b.disabled = true; });
    toast(`正在生成 ${format.toUpperCase()}……`, "", true);
    const result = await api("POST", "/api/download", { name: state.name, format, form: form ? Number(form) : null });
    buttons.forEach((b) => { b.disabled = false; });
    if (!result.ok) { toast(result.error, "error", true); return; }
    const filename = decodeURIComponent(result.response.headers.get("X-Jixiao-Filename") || `jixiao.${format}`);
    const url = URL.createObjectURL(await result.response.blob());
    const link = el("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    toast(`已下载 ${filename}（也保存在文件夹的 output/ 中）`, "ok");
  }

  async function importFile(file) {
    const list = $("import-result");
    list.replaceChildren(el("li", "", `正在导入 ${file.name}……`));
    const result = await api("POST", "/api/import?filename=" + encodeURIComponent(file.name), file, true);
    list.replaceChildren();
    if (!result.ok) { list.append(el("li", "error", result.error)); return; }
    list.append(el("li", "ok", `已导入 ${result.data.forms} 张表到 ${result.data.name}`));
    for (const warning of result.data.warnings) list.append(el("li", "warning", warning));
    await refreshFiles();
    await openFile(result.data.name);
  }

  // ---- start -----------------------------------------------------------------------------------

  async function start() {
    editor = JixiaoEditor.create($("editor"), {
      onChange() { if (!state.dirty) setDirty(true); schedulePreview(); },
      onCursor(line) { clearTimeout(state.cursorTimer); state.cursorTimer = setTimeout(() => followCursor(line), 150); },
    });
    $("save").addEventListener("click", save);
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); save(); }
    });
    for (const b of document.querySelectorAll("button.download")) b.addEventListener("click", () => download(b.dataset.format));
    $("new").addEventListener("click", newFile);
    $("pick").addEventListener("click", () => $("upload").click());
    $("upload").addEventListener("change", () => { if ($("upload").files[0]) importFile($("upload").files[0]); $("upload").value = ""; });
    // A file dropped anywhere on the page is imported (the browser would otherwise open it, leaving the page).
    const drop = $("drop");
    const carriesFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
    window.addEventListener("dragover", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      drop.classList.add("over");
    });
    window.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
    window.addEventListener("drop", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      drop.classList.remove("over");
      if (e.dataTransfer.files[0]) importFile(e.dataTransfer.files[0]);
    }, true);
    window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });

    const [starters, schema] = await Promise.all([api("GET", "/api/starters"), api("GET", "/api/schema")]);
    if (schema.ok) editor.setSchema(schema.data);
    for (const name of starters.ok ? starters.data.starters : []) {
      const option = el("option", "", name);
      option.value = name;
      $("starter").append(option);
    }
    $("starter").value = "项目绩效目标表";
    const listing = await refreshFiles();
    if (!listing) return;
    const wanted = decodeURIComponent(location.hash.slice(1)) || listing.initial;
    const names = listing.files.map((f) => f.name);
    const first = names.includes(wanted) ? wanted : names[0];
    if (first) await openFile(first);
  }

  start();
})();
