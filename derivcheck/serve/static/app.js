// derivcheck's page: the form <-> the address (query parameters named like the CLI
// flags), the live preview, the check, and the result. No framework, no network access
// beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const SINGLE = ["weights", "widths", "act", "biases", "input", "target", "loss", "batch",
                "style", "reduce", "wrt", "kink-convention", "candidate"];
const REPEATED = ["forward", "shape", "define", "assume"];
const FLAGS = ["bias", "labels", "latex"];  // checkboxes: name=1 in the address
// What each kind of network does not read (the address and the request leave it out).
const SKIP = {
  chain: ["widths", "bias", "batch", "style", "reduce", "labels", "shape", "forward"],
  mlp: ["weights", "biases", "shape", "forward"],
  equations: ["weights", "act", "biases", "widths", "bias"],
};
const VERDICTS = {
  equivalent: ["Correct", "Your formula equals the gradient at every point, kinks included."],
  equivalent_almost_everywhere: ["Correct except at the kinks",
    "Your formula equals the gradient everywhere except where an activation has a kink, " +
    "where it takes another value for some choice of Step(0)."],
  not_equivalent: ["Not the gradient",
    "Your formula and the gradient differ on a set of positive measure: see the counterexample below."],
  unknown: ["Undecided", "derivcheck could not decide within its limits, and does not guess."],
  error: ["Your input could not be read", ""],
};

function kind() {
  return document.querySelector('input[name="kind"]:checked').value;
}

function setKind(value) {
  document.querySelector(`input[name="kind"][value="${value}"]`).checked = true;
  showKind();
}

// What "with respect to" may name, per kind of network.
const WRT_EXAMPLE = { chain: "w1", mlp: "W0_11 or dW1", equations: "w2" };

function showKind() {
  const k = kind();
  for (const el of document.querySelectorAll(".for-chain, .for-mlp, .for-equations")) {
    el.hidden = !el.classList.contains(`for-${k}`);
  }
  $("wrt").placeholder = WRT_EXAMPLE[k];
}

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

// -- the address -------------------------------------------------------------------------

function skipped() {
  const skip = SKIP[kind()].slice();
  if ($("upstream-on").checked) skip.push("loss");  // the upstream gradient replaces the loss
  return skip;
}

// The address: query parameters named like the CLI's flags (--upstream [NAME] is
// upstream= or upstream=NAME).
function formToParams() {
  const p = new URLSearchParams();
  const skip = skipped();
  for (const name of SINGLE) {
    const value = $(name).value.trim();
    if (value && !skip.includes(name)) p.set(name, name === "candidate" ? $(name).value : value);
  }
  for (const name of REPEATED) {
    if (!skip.includes(name)) for (const line of lines($(name).value)) p.append(name, line);
  }
  for (const name of FLAGS) if ($(name).checked && !skip.includes(name)) p.set(name, "1");
  if ($("upstream-on").checked) p.set("upstream", $("upstream").value.trim());
  return p;
}

function paramsToForm(p) {
  for (const name of SINGLE) $(name).value = p.get(name) || "";
  for (const name of REPEATED) {
    $(name).value = p.getAll(name).join("\n");
    $(name).rows = Math.max($(name).rows, Math.min(p.getAll(name).length, 12));  // all in view
  }
  for (const name of FLAGS) $(name).checked = ["1", "true", "on"].includes(p.get(name));
  $("upstream-on").checked = p.has("upstream");
  $("upstream").value = p.get("upstream") || "";
  showUpstream();
  $("advanced").open = p.has("upstream") || p.has("define");
  setKind(p.has("forward") ? "equations" : p.has("widths") ? "mlp" : "chain");
}

function showUpstream() {
  const on = $("upstream-on").checked;
  $("upstream").disabled = !on;
  $("loss").disabled = on;
}

// -- requests ------------------------------------------------------------------------------

// The network's fields, as a batch item's "network" (CONTRACT section 2).
function network() {
  const net = {};
  const skip = skipped();
  const fields = [["weights", "weights"], ["widths", "widths"], ["activations", "act"],
                  ["biases", "biases"], ["input", "input"], ["target", "target"],
                  ["loss", "loss"], ["batch", "batch"], ["style", "style"], ["reduce", "reduce"]];
  for (const [field, id] of fields) {
    if (!skip.includes(id) && $(id).value.trim()) net[field] = $(id).value.trim();
  }
  for (const name of ["forward", "shape", "define"]) {
    if (!skip.includes(name) && lines($(name).value).length) net[name] = lines($(name).value);
  }
  for (const name of ["bias", "labels"]) if (!skip.includes(name) && $(name).checked) net[name] = true;
  if ($("upstream-on").checked) net.upstream = $("upstream").value.trim() || true;
  return net;
}

function item() {
  const body = { network: network(), candidate: $("candidate").value.trim() };
  if ($("wrt").value.trim()) body.wrt = $("wrt").value.trim();
  const assume = lines($("assume").value);
  if (assume.length) body.assume = assume;
  if ($("kink-convention").value) body.kink_convention = $("kink-convention").value;
  if ($("latex").checked) body.latex = true;
  return body;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return response;
}

// -- maths ---------------------------------------------------------------------------------

function math(el, tex, display = true) {
  el.textContent = "";
  if (tex == null) { el.textContent = "(too deeply nested to typeset)"; return; }
  try {
    katex.render(tex, el, { displayMode: display, throwOnError: false });
  } catch (err) {
    el.textContent = tex;
  }
}

function looksLatex(text) {
  return $("latex").checked || /\\[A-Za-z]|[_^]\{/.test(text);
}

// -- the live preview ------------------------------------------------------------------------

let previewTimer = null;
let previewSerial = 0;

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 250);
}

async function preview() {
  const text = $("candidate").value.trim();
  const serial = ++previewSerial;
  const status = $("preview-status");
  status.className = "status";
  if (!text) { $("preview-math").textContent = ""; status.textContent = ""; return; }
  if (looksLatex(text)) math($("preview-math"), text);  // at once; the server's reading follows
  let response;
  try {
    response = await post("/api/parse?render=1", item());
  } catch (err) {
    return;
  }
  if (serial !== previewSerial) return;  // a newer keystroke has its own preview
  const data = await response.json();
  if (response.ok) {
    if (data.tex != null) {
      math($("preview-math"), (data.lhs ? `${data.lhs} = ` : "") + data.tex);
    } else if (!looksLatex(text)) {
      $("preview-math").textContent = "";  // nothing older stays on show
    }
    const notes = (data.readings || []).concat((data.warnings || []).map((w) => "warning: " + w));
    status.textContent = `read as ${data.latex ? "LaTeX" : "plain text"}` +
      (data.wrt ? `, the gradient with respect to ${data.wrt}` : "") +
      (notes.length ? "; " + notes.join("; ") : "");
  } else {
    status.className = "status bad";
    status.textContent = data.rendered || (data.error && data.error.message) || "cannot read this";
  }
}

// -- the check -------------------------------------------------------------------------------

async function runCheck(push) {
  const params = formToParams();
  const url = "/?" + params.toString();
  if (push && url !== location.pathname + location.search) history.pushState(null, "", url);
  $("permalink").href = url;
  $("permalink").hidden = false;
  const result = $("result");
  result.hidden = false;
  result.setAttribute("aria-busy", "true");
  $("verdict").textContent = "Checking…";
  $("verdict").className = "";
  $("verdict-words").textContent = "";
  $("details").hidden = true;
  $("error").hidden = true;
  let response, data;
  try {
    response = await post("/api/check?render=1", item());
    data = await response.json();
  } catch (err) {
    showError({ error: { message: "the server did not answer: " + err } });
    return;
  } finally {
    result.removeAttribute("aria-busy");
  }
  if (!response.ok || data.verdict === "error") showError(data);
  else showResult(data);
}

function showError(data) {
  $("verdict").textContent = VERDICTS.error[0];
  $("verdict").className = "verdict-error";
  const err = data.error || {};
  $("verdict-words").textContent = err.kind ? `(${err.kind.replace(/_/g, " ")})` : "";
  $("error-text").textContent = data.rendered || ("error: " + (err.message || "unknown"));
  $("error").hidden = false;
  if (err.kind === "parse_error" || err.kind === "unknown_name") {
    const box = $("candidate");
    box.focus();
    const text = box.value;
    const at = Math.min(err.position ?? 0, text.length) + (text.length - text.trimStart().length);
    box.setSelectionRange(at, Math.min(at + 1, text.length));
  } else {
    $("result").focus();
  }
}

function showResult(data) {
  const [title, words] = VERDICTS[data.verdict];
  $("verdict").textContent = title;
  $("verdict").className = "verdict-" + data.verdict;
  $("verdict-words").textContent = words + (data.reason ? " " + data.reason : "");
  $("details").hidden = false;
  const tex = data.tex || {};
  const lhs = tex.lhs != null ? (tex.lhs ? `${tex.lhs} = ` : "")
    : tex.wrt ? `\\frac{\\partial C}{\\partial ${tex.wrt}} = ` : "";
  math($("tex-candidate"), tex.candidate == null ? null : lhs + tex.candidate);
  const gradient = $("tex-gradient");
  if (data.gradient) math(gradient, tex.gradient == null ? null : lhs + tex.gradient);
  else gradient.textContent = "(not computed)";
  const defs = Object.entries(tex.definitions || {});
  $("definitions-box").hidden = !defs.length;
  if (defs.length) {
    math($("tex-definitions"), "\\begin{aligned}" +
      defs.map(([k, v]) => `${k} &= ${v ?? "\\ldots"}`).join("\\\\") + "\\end{aligned}");
  }
  fillList($("warnings"), data.warnings || []);
  $("warnings-box").hidden = !(data.warnings || []).length;
  fillList($("readings"), data.readings || []);
  $("readings-box").hidden = !(data.readings || []).length;
  const witness = data.counterexample || data.kink_point;
  $("counterexample-box").hidden = !witness;
  if (witness) {
    $("counterexample-title").textContent = data.counterexample ? "counterexample" : "a kink where they differ";
    const witnessTex = data.counterexample ? tex.counterexample : tex.kink_point;
    if (witness.matrices && witnessTex) fillMatrixWitness(witness, witnessTex);
    else {
      for (const id of ["witness-where", "witness-values", "witness-matrices"]) $(id).hidden = true;
      fillWitness($("counterexample"), witness);
    }
  }
  fillList($("diagnosis"), (data.diagnosis || []).map((d) => `${d.kind.replace(/_/g, " ")}: ${d.message}`));
  $("diagnosis-box").hidden = !(data.diagnosis || []).length;
  $("method").textContent = data.method && data.method !== "none"
    ? `decided by: ${data.method.replace(/_/g, " ")}` + (data.method_detail ? ` (${data.method_detail})` : "") +
      `; kink convention: ${data.kink_convention}` : "";
  $("result").focus();
}

function fillList(ul, items) {
  ul.textContent = "";
  for (const text of items) {
    const li = document.createElement("li");
    li.textContent = text;
    ul.appendChild(li);
  }
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

// A matrix counterexample: the sizes and the entry that differs, both values there (a
// sentence when the shapes do not fit), and every matrix as an exact bmatrix; a wide one
// scrolls in its own box.
function fillMatrixWitness(witness, wt) {
  const where = $("witness-where");
  where.textContent = "";
  const sizes = wt.sizes.map(([name, value]) => `${name} = ${value}`);
  if (sizes.length) {
    where.appendChild(element("span", "label", "at the sizes "));
    const span = element("span", "math-inline");
    math(span, sizes.join(",\\ "), false);
    where.appendChild(span);
  }
  const shape = / \(shape\)$/.test(witness.entry || "");
  if (witness.entry) {
    where.appendChild(element("span", "label", shape ? "; the shapes differ: " : "; the entry that differs: "));
    where.appendChild(element("code", "", shape ? witness.entry.replace(/ \(shape\)$/, "") : witness.entry));
  }
  where.hidden = !where.childNodes.length;
  const values = $("witness-values");
  values.textContent = "";
  const rows = [["your formula", wt.candidate, witness.candidate], ["the gradient", wt.expected, witness.expected]];
  if (witness.step0 != null) rows.push(["Step(0)", wt.step0, witness.step0]);
  for (const [label, valueTex, text] of rows) {
    values.appendChild(element("dt", "", label));
    const dd = element("dd", valueTex == null ? "sentence" : "math");
    if (valueTex == null) dd.textContent = text;
    else math(dd, valueTex);
    values.appendChild(dd);
  }
  values.hidden = false;
  const box = $("witness-matrices");
  box.textContent = "";
  for (const [, nameTex, matrixTex] of wt.matrices) {
    const figure = element("figure", "matrix");
    const div = element("div", "math");
    math(div, `${nameTex} = ${matrixTex}`);
    figure.appendChild(div);
    box.appendChild(figure);
  }
  box.hidden = !wt.matrices.length;
  // the point's other values (entries of the matrices are shown above)
  const names = Object.keys(witness.matrices);
  const rest = Object.entries(witness.point).filter(([k]) => !names.some((n) =>
    k.startsWith(n + "_") && /^\d+(_\d+)*$/.test(k.slice(n.length + 1))));
  const table = $("counterexample");
  table.textContent = "";
  if (rest.length) fillWitness(table, { point: Object.fromEntries(rest) }, false);
}

function fillWitness(table, witness, values = true) {
  table.textContent = "";
  const head = table.createTHead().insertRow();
  for (const label of ["", "value"]) {
    const th = document.createElement("th");
    th.textContent = label;
    head.appendChild(th);
  }
  const body = table.createTBody();
  const rows = Object.entries(witness.point).map(([k, v]) => [k, v]);
  if (values) rows.push(["your formula", witness.candidate], ["the gradient", witness.expected]);
  if (values && witness.step0 != null) rows.push(["Step(0)", witness.step0]);
  rows.forEach(([name, value], i) => {
    const tr = body.insertRow();
    if (i >= Object.keys(witness.point).length) tr.className = "value-row";
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    tr.appendChild(th);
    tr.insertCell().textContent = value;
  });
}

// -- downloads -------------------------------------------------------------------------------

async function download(path, body, name) {
  const status = $("download-status");
  status.textContent = "making the PDF…";
  try {
    const response = await post(path, body);
    if (!response.ok) {
      const data = await response.json();
      status.textContent = (data.error && data.error.message) || "no PDF";
      return;
    }
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    status.textContent = `${name} downloaded`;
  } catch (err) {
    status.textContent = "the server did not answer";
  }
}

// -- wiring ----------------------------------------------------------------------------------

function start() {
  for (const radio of document.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener("change", () => { showKind(); schedulePreview(); });
  }
  $("form").addEventListener("submit", (event) => { event.preventDefault(); runCheck(true); });
  $("candidate").addEventListener("input", schedulePreview);
  $("latex").addEventListener("change", schedulePreview);
  $("upstream-on").addEventListener("change", () => { showUpstream(); schedulePreview(); });
  for (const id of ["weights", "act", "widths", "forward", "input", "target", "wrt", "style",
                    "loss", "bias", "batch", "reduce", "labels", "shape", "define", "upstream"]) {
    $(id).addEventListener("change", schedulePreview);
  }
  for (const id of ["candidate", "forward", "shape", "define", "assume"]) {
    $(id).addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        $("form").requestSubmit();
      }
    });
  }
  $("download-report").addEventListener("click", () => download("/api/report", item(), "report.pdf"));
  $("download-sheet").addEventListener("click", () => download("/api/sheet", item(), "sheet.pdf"));
  window.addEventListener("popstate", () => fromAddress());
  fromAddress();
}

function fromAddress() {
  const p = new URLSearchParams(location.search);
  paramsToForm(p);
  if (!p.has("weights") && !p.has("widths") && !p.has("forward")) {
    $("weights").value = "w1";
    $("act").value = "relu";
  }
  if ($("candidate").value.trim()) {
    preview();
    runCheck(false);
  }
}

document.addEventListener("DOMContentLoaded", start);
