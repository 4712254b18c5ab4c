// The MCP Servers page. Plain JS, no framework, no build step: it calls the admin API
// with `Authorization: Bearer <admin token>`; the token lives in this tab's
// sessionStorage only (never in a URL, never in a cookie). Text from the API is put
// into the page with textContent only.

const TOKEN_KEY = "yamcp.adminToken";
const $ = (id) => document.getElementById(id);

const state = { account: null, previewSeq: 0, previewTimer: 0, created: null, busy: false };

// Form fields the API can name in a 422 `errors: [{field, reason}]`, and where to show them.
const FIELDS = [
  { field: "name", id: "name", label: "Name" },
  { field: "config.methods", id: "methods", label: "Methods" },
  { field: "config.tags", id: "tags", label: "Tags" },
  { field: "expires_at", id: "expires", label: "Expiry" },
  { field: "require_api_token_auth", id: "api-token", label: "API token" },
];

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered HTTP ${status}.`);
    this.status = status;
    this.body = body || {};
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const accountPath = (suffix = "") =>
  `/integrated-account/${encodeURIComponent(state.account)}${suffix}`;

function announce(message, kind = "info") {
  const status = $("status");
  status.className = `status ${kind}`;
  status.textContent = message;
}

async function api(method, path, { body, token } = {}) {
  const headers = { authorization: `Bearer ${token || sessionStorage.getItem(TOKEN_KEY)}` };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { message: "yamcp could not be reached." });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !token) signOut("Your admin token was refused: sign in again.");
    throw error;
  }
  return data;
}

// --- signing in and out ---

async function signIn(token, { quiet = false } = {}) {
  const accounts = await api("GET", "/integrated-account", { token });
  sessionStorage.setItem(TOKEN_KEY, token);
  $("signin").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  renderAccounts(accounts);
  if (!quiet) announce(`Signed in. ${plural(accounts.length, "integrated account")}.`);
  if (accounts.length === 1) await selectAccount(accounts[0].id, { focus: !quiet });
  else if (!quiet) $("accounts-title").focus();
}

function signOut(message = "Signed out.") {
  sessionStorage.removeItem(TOKEN_KEY);
  state.account = null;
  hideCreated();
  $("app").hidden = true;
  $("account-view").hidden = true;
  $("sign-out").hidden = true;
  $("signin").hidden = false;
  $("accounts").replaceChildren();
  $("server-rows").replaceChildren();
  announce(message);
  $("admin-token").focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $("admin-token");
  const token = input.value.trim();
  setFieldError("admin-token", "");
  if (!token) {
    setFieldError("admin-token", "Enter an admin token.");
    input.focus();
    return;
  }
  try {
    await signIn(token);
    input.value = "";
  } catch (error) {
    setFieldError(
      "admin-token",
      error.status === 401 ? "This admin token was refused." : error.message,
    );
    input.focus();
  }
}

// --- accounts and their servers ---

function renderAccounts(accounts) {
  const list = $("accounts");
  list.replaceChildren();
  if (accounts.length === 0) {
    list.append(el("li", { class: "hint", text: "No integrated accounts: add one to accounts.yaml." }));
  }
  for (const account of accounts) {
    const button = el(
      "button",
      { type: "button", class: "account", "data-account": account.id },
      el("span", { class: "account-id", text: account.id }),
      el("span", { class: "account-integration", text: account.integration }),
    );
    button.addEventListener("click", () => selectAccount(account.id, { focus: true }));
    list.append(el("li", {}, button));
  }
}

async function selectAccount(id, { focus = false } = {}) {
  state.account = id;
  for (const button of document.querySelectorAll("#accounts button")) {
    if (button.dataset.account === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  $("account-name").textContent = id;
  $("account-view").hidden = false;
  hideCreated();
  resetForm();
  try {
    await Promise.all([loadServers(), loadTags()]);
  } catch (error) {
    if (error.status === 401) return;
    announce(`Could not load account ${id}: ${error.message}`, "error");
  }
  schedulePreview(0);
  if (focus) $("servers-title").focus();
}

function when(iso, fallback) {
  if (!iso) return document.createTextNode(fallback);
  const text = new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return el("time", { datetime: iso, title: iso, text });
}

function cell(label, ...children) {
  return el("td", { role: "cell", "data-label": label }, ...children);
}

function describeMethods(config) {
  if (config.policy) return `policy: ${config.policy}`;
  return config.methods.length ? config.methods.join(", ") : "all";
}

async function loadServers() {
  const servers = await api("GET", accountPath("/mcp"));
  servers.sort((a, b) => b.created_at.localeCompare(a.created_at));
  const rows = servers.map((server) => {
    const revoke = el("button", {
      type: "button",
      class: "danger small",
      "aria-label": `Revoke ${server.name}`,
      text: "Revoke",
    });
    revoke.addEventListener("click", () => confirmRevoke(server, revoke));
    return el(
      "tr",
      { role: "row", "data-server": server.id },
      cell(
        "Name",
        el(
          "div",
          {},
          el("span", { class: "server-name", text: server.name }),
          el("span", { class: "server-id", text: server.id }),
        ),
      ),
      cell("Methods", describeMethods(server.config)),
      cell("Tags", server.config.tags.length ? server.config.tags.join(", ") : "any"),
      cell("Expires", when(server.expires_at, "never")),
      cell("API token", server.require_api_token_auth ? "required" : "not required"),
      cell("Created", when(server.created_at, "")),
      cell("Last used", when(server.last_used_at, "never")),
      cell("Actions", revoke),
    );
  });
  $("server-rows").replaceChildren(...rows);
  $("servers").hidden = servers.length === 0;
  $("no-servers").hidden = servers.length !== 0;
}

async function loadTags() {
  // Every tag the account's tools carry: the preview of "everything" lists them.
  const plan = await api("POST", accountPath("/mcp-preview"), {
    body: { config: {}, require_api_token_auth: true },
  });
  const tags = [...new Set(plan.tools.flatMap((tool) => tool.tags))].sort();
  $("tag-choices").replaceChildren(
    ...tags.map((tag) =>
      el("label", {}, el("input", { type: "checkbox", name: "tag", value: tag }), ` ${tag}`),
    ),
  );
}

// --- the creation form and its live preview ---

function checked(name) {
  return [...document.querySelectorAll(`#create-form input[name="${name}"]:checked`)].map(
    (input) => input.value,
  );
}

function formConfig() {
  return { methods: checked("method"), tags: checked("tag") };
}

function formRequest() {
  const expires = $("expires").value;
  const date = expires ? new Date(expires) : null;
  return {
    name: $("name").value.trim(),
    config: formConfig(),
    expires_at: date && !Number.isNaN(date.getTime()) ? date.toISOString() : expires || null,
    require_api_token_auth: $("api-token").checked,
  };
}

function resetForm() {
  $("create-form").reset();
  clearErrors();
}

function schedulePreview(delay = 150) {
  clearTimeout(state.previewTimer);
  state.previewTimer = setTimeout(runPreview, delay);
}

async function runPreview() {
  const seq = ++state.previewSeq;
  const preview = $("preview");
  preview.setAttribute("aria-busy", "true");
  try {
    const plan = await api("POST", accountPath("/mcp-preview"), {
      body: { config: formConfig(), require_api_token_auth: $("api-token").checked },
    });
    if (seq === state.previewSeq) renderPreview(plan);
  } catch (error) {
    if (seq === state.previewSeq) $("preview-summary").textContent = `No preview: ${error.message}`;
  } finally {
    if (seq === state.previewSeq) preview.removeAttribute("aria-busy");
  }
}

function renderPreview(plan) {
  const { tools, excluded } = plan;
  $("preview-summary").textContent = tools.length
    ? `${plural(tools.length, "tool")} exposed, ${excluded.length} left out.`
    : `No tools: this configuration exposes nothing (${excluded.length} left out).`;
  $("preview-tools").replaceChildren(
    ...tools.map((tool) =>
      el(
        "li",
        { "data-tool": tool.name },
        el("code", { text: tool.name }),
        el("span", { class: `badge ${tool.access}`, text: tool.access }),
        el("span", { class: "tags", text: tool.tags.join(", ") }),
        ...tool.constraints.map((rule) => el("span", { class: "constraint", text: rule })),
      ),
    ),
  );
  $("preview-excluded-title").textContent = `Left out, and why (${excluded.length})`;
  $("preview-excluded").replaceChildren(
    ...excluded.map((tool) =>
      el(
        "li",
        { "data-tool": tool.name },
        el("code", { text: tool.name }),
        tool.guardrail ? el("span", { class: "badge guardrail", text: "guardrail" }) : null,
        el("span", { class: "reason", text: tool.reason }),
      ),
    ),
  );
}

function setFieldError(id, message) {
  const box = $(`${id}-error`);
  box.textContent = message;
  box.hidden = !message;
  const control = $(id);
  if (control && control.tagName !== "FIELDSET") {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
  if (control && control.tagName === "FIELDSET") control.classList.toggle("invalid", !!message);
}

function clearErrors() {
  for (const { id } of FIELDS) setFieldError(id, "");
  setFieldError("create", "");
}

function showFieldErrors(errors) {
  const messages = new Map();
  for (const { field, reason } of errors) {
    const known = FIELDS.find((f) => field === f.field || field.startsWith(`${f.field}.`));
    const id = known ? known.id : "create";
    const text = known
      ? `${known.label}${/^[a-z]/.test(reason) ? " " : ": "}${reason}`
      : `${field}: ${reason}`;
    messages.set(id, [...(messages.get(id) || []), text]);
  }
  for (const [id, texts] of messages) setFieldError(id, texts.join(" "));
  const first = FIELDS.find((f) => messages.has(f.id));
  const target = first ? $(first.id) : $("create-submit");
  (target.tagName === "FIELDSET" ? target.querySelector("input") || target : target).focus();
}

async function onCreate(event) {
  event.preventDefault();
  if (state.busy) return;
  clearErrors();
  const request = formRequest();
  state.busy = true;
  $("create-form").setAttribute("aria-busy", "true");
  try {
    const created = await api("POST", accountPath("/mcp"), { body: request });
    resetForm();
    schedulePreview(0);
    await loadServers();
    showCreated(created);
  } catch (error) {
    if (error.status === 422 && Array.isArray(error.body.errors)) {
      showFieldErrors(error.body.errors);
      announce("The MCP server was not created: see the highlighted fields.", "error");
    } else if (error.status !== 401) {
      setFieldError("create", error.message);
      announce(`The MCP server was not created: ${error.message}`, "error");
    }
  } finally {
    state.busy = false;
    $("create-form").removeAttribute("aria-busy");
  }
}

// --- the one-time URL ---

function showCreated(created) {
  state.created = created.id;
  $("created-name").textContent = created.name;
  $("created-url").value = created.url;
  $("created-token-box").hidden = !created.require_api_token_auth;
  $("make-token").hidden = false;
  $("token-row").hidden = true;
  $("created-token").value = "";
  $("created").hidden = false;
  announce(`Created ${created.name}. Copy its URL now: it will not be shown again.`, "success");
  $("created-title").focus();
}

function hideCreated() {
  state.created = null;
  $("created-url").value = "";
  $("created-token").value = "";
  $("created").hidden = true;
}

async function copy(input, what) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    if (!document.execCommand("copy")) {
      announce(`Copying failed: select the ${what} and copy it by hand.`, "error");
      return;
    }
  }
  announce(`The ${what} is copied to the clipboard.`, "success");
}

async function onMakeToken() {
  try {
    const made = await api("POST", accountPath(`/mcp/${encodeURIComponent(state.created)}/api-tokens`));
    $("created-token").value = made.token;
    $("token-row").hidden = false;
    $("make-token").hidden = true;
    announce("API token created. Copy it now: it will not be shown again.", "success");
    $("created-token").focus();
  } catch (error) {
    if (error.status !== 401) announce(`No API token: ${error.message}`, "error");
  }
}

function onCreatedDone() {
  hideCreated();
  $("servers-title").focus();
}

// --- revoking, after a confirmation ---

let pendingRevoke = null;

function confirmRevoke(server, opener) {
  pendingRevoke = { server, opener };
  $("confirm-title").textContent = `Revoke ${server.name}?`;
  $("confirm-text").textContent =
    `Its URL stops working at once and answers 404 (server ${server.id}). This cannot be undone.`;
  const dialog = $("confirm");
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
}

async function onConfirmClosed() {
  const pending = pendingRevoke;
  pendingRevoke = null;
  if (!pending) return;
  if ($("confirm").returnValue !== "revoke") {
    if (pending.opener.isConnected) pending.opener.focus();
    return;
  }
  const { server } = pending;
  try {
    await api("DELETE", accountPath(`/mcp/${encodeURIComponent(server.id)}`));
    announce(`Revoked ${server.name}: its URL no longer works.`, "success");
  } catch (error) {
    if (error.status === 401) return;
    announce(
      error.status === 404 ? `${server.name} was already revoked or expired.` : error.message,
      error.status === 404 ? "info" : "error",
    );
  }
  if (state.created === server.id) hideCreated();
  await loadServers().catch(() => {});
  $("servers-title").focus();
}

// --- wiring ---

function init() {
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("create-form").addEventListener("submit", onCreate);
  $("create-form").addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "method" || target.name === "tag" || target.id === "api-token") {
      schedulePreview();
    }
  });
  $("copy-url").addEventListener("click", () => copy($("created-url"), "URL"));
  $("copy-token").addEventListener("click", () => copy($("created-token"), "API token"));
  $("make-token").addEventListener("click", onMakeToken);
  $("created-done").addEventListener("click", onCreatedDone);
  $("confirm-ok").addEventListener("click", () => $("confirm").close("revoke"));
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
  $("confirm").addEventListener("close", onConfirmClosed);

  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    $("signin").hidden = true;
    signIn(token, { quiet: true }).catch(() => signOut("Your session ended: sign in again."));
  } else {
    $("signin").hidden = false;
  }
}

init();
