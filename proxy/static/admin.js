// The MCP Servers page. Plain JS, no framework, no build step: it calls the admin API
// with `Authorization: Bearer <admin token>`; the token lives in this tab's
// sessionStorage only (never in a URL, never in a cookie). Text from the API is put
// into the page with textContent only.

const TOKEN_KEY = "yamcp.adminToken";
const $ = (id) => document.getElementById(id);

const state = {
  account: null,
  accounts: [],
  previewSeq: 0,
  previewTimer: 0,
  created: null,
  busy: false,
  connecting: false,
};

// Form fields the API can name in a 422 `errors: [{field, reason}]`, and where to show them.
const FIELDS = [
  { field: "name", id: "name", label: "Name" },
  { field: "config.methods", id: "methods", label: "Methods" },
  { field: "config.tags", id: "tags", label: "Tags" },
  { field: "expires_at", id: "expires", label: "Expiry" },
  { field: "require_api_token_auth", id: "api-token", label: "API token" },
];

// The same for the "Connect an account" form (`POST /integrated-account`).
const ACCOUNT_FIELDS = [
  { field: "id", id: "account-id", label: "Account id" },
  { field: "integration", id: "integration", label: "Integration" },
  { field: "base_url", id: "base-url", label: "Base URL" },
  // `credentials.<name>`: the reason is shown after the credential's name.
  { field: "credentials", id: "credentials", label: "Credentials", named: true },
  { field: "verify", id: "verify", label: "Check" },
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
  closeConnect();
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
  state.accounts = accounts;
  const list = $("accounts");
  list.replaceChildren();
  if (accounts.length === 0) {
    list.append(
      el("li", { class: "hint", text: "No integrated accounts: connect one, or add one to accounts.yaml." }),
    );
  }
  for (const account of accounts) {
    const source = account.source || "file";
    const button = el(
      "button",
      { type: "button", class: "account", "data-account": account.id },
      el("span", { class: "account-id", text: account.id }),
      el(
        "span",
        { class: "account-integration" },
        account.integration,
        " ",
        el("span", { class: `badge source ${source}`, "data-source": source, text: source }),
      ),
    );
    if (account.id === state.account) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => selectAccount(account.id, { focus: true }));
    const item = el("li", { "data-account": account.id }, button);
    // Only accounts connected here can be disconnected here; the accounts file is the
    // source of truth for its own.
    if (source === "api") {
      const disconnect = el("button", {
        type: "button",
        class: "danger small disconnect",
        "aria-label": `Disconnect ${account.id}`,
        text: "Disconnect",
      });
      disconnect.addEventListener("click", () => confirmDisconnect(account, disconnect));
      item.append(disconnect);
    }
    list.append(item);
  }
}

async function reloadAccounts() {
  renderAccounts(await api("GET", "/integrated-account"));
}

async function selectAccount(id, { focus = false } = {}) {
  state.account = id;
  for (const button of document.querySelectorAll("#accounts button")) {
    if (button.dataset.account === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  $("account-name").textContent = id;
  closeConnect();
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
  const config = { methods: checked("method"), tags: checked("tag") };
  // Every call that changes something waits for a person (approval by method: write).
  if ($("approval").checked) config.approval = { methods: ["write"] };
  // Three tools in tools/list that search, describe and call the rest.
  if ($("discovery").checked) config.tool_exposure = "discovery";
  return config;
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
        ...(tool.approval
          ? [el("span", { class: "constraint approval", text: "each call needs a person's approval" })]
          : []),
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

function clearErrors(fields = FIELDS, general = "create") {
  for (const { id } of fields) setFieldError(id, "");
  setFieldError(general, "");
}

// A 422's `errors`, each next to its field (or in the form's general error), and focus
// on the first field named; `general` is the id of that general error, `submit` the
// button focused when no field is named.
function showFieldErrors(errors, fields = FIELDS, general = "create", submit = "create-submit") {
  const messages = new Map();
  for (const { field, reason } of errors) {
    const known = fields.find((f) => field === f.field || field.startsWith(`${f.field}.`));
    const id = known ? known.id : general;
    const label = known && known.named && field !== known.field
      ? field.slice(known.field.length + 1)
      : null;
    const text = !known
      ? `${field}: ${reason}`
      : label // a credential's name: "server_token: is empty"
        ? `${label}: ${reason}`
        : `${known.label}${/^[a-z]/.test(reason) ? " " : ": "}${reason}`;
    messages.set(id, [...(messages.get(id) || []), text]);
  }
  for (const [id, texts] of messages) setFieldError(id, texts.join(" "));
  const first = fields.find((f) => messages.has(f.id));
  const target = first ? $(first.id) : $(submit);
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

// --- revoking and disconnecting, after a confirmation ---

let pendingConfirm = null;

// The one confirmation dialog: Cancel (or Escape) has focus first and returns focus to
// the button that opened it; the danger button runs `run`.
function confirmAction({ title, text, ok, opener, run }) {
  pendingConfirm = { opener, run };
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  const dialog = $("confirm");
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
}

async function onConfirmClosed() {
  const pending = pendingConfirm;
  pendingConfirm = null;
  if (!pending) return;
  if ($("confirm").returnValue !== "ok") {
    if (pending.opener.isConnected) pending.opener.focus();
    return;
  }
  await pending.run();
}

function confirmRevoke(server, opener) {
  confirmAction({
    title: `Revoke ${server.name}?`,
    text: `Its URL stops working at once and answers 404 (server ${server.id}). This cannot be undone.`,
    ok: "Revoke",
    opener,
    run: () => revoke(server),
  });
}

async function revoke(server) {
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

function confirmDisconnect(account, opener) {
  confirmAction({
    title: `Disconnect ${account.id}?`,
    text:
      `yamcp forgets its credentials, and every MCP server of ${account.id} stops working ` +
      "at once. This cannot be undone.",
    ok: "Disconnect",
    opener,
    run: () => disconnect(account),
  });
}

async function disconnect(account) {
  try {
    await api("DELETE", `/integrated-account/${encodeURIComponent(account.id)}`);
    announce(`Disconnected ${account.id}: its credentials and MCP servers are gone.`, "success");
  } catch (error) {
    if (error.status === 401) return;
    announce(
      error.status === 404 ? `${account.id} was already disconnected.` : error.message,
      error.status === 404 ? "info" : "error",
    );
  }
  if (state.account === account.id) {
    state.account = null;
    hideCreated();
    $("account-view").hidden = true;
  }
  await reloadAccounts().catch(() => {});
  $("accounts-title").focus();
}

// --- connecting an account (credentials go out once and are never shown again) ---

function credentialRow() {
  const n = ++credentialRow.count;
  const name = el("input", {
    id: `credential-name-${n}`,
    type: "text",
    class: "credential-name",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "credentials-hint credentials-error",
  });
  const value = el("input", {
    id: `credential-value-${n}`,
    type: "password",
    class: "credential-value",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "credentials-hint credentials-error",
  });
  const row = el(
    "div",
    { class: "credential-row" },
    el("div", {}, el("label", { for: name.id, text: "Credential name" }), name),
    el("div", {}, el("label", { for: value.id, text: "Credential value" }), value),
  );
  const remove = el("button", {
    type: "button",
    class: "secondary small",
    "aria-label": "Remove this credential",
    text: "Remove",
  });
  remove.addEventListener("click", () => {
    const rows = $("credential-rows");
    row.remove();
    if (!rows.children.length) rows.append(credentialRow());
    rows.querySelector("input").focus();
  });
  row.append(remove);
  return row;
}
credentialRow.count = 0;

// Drop every credential input (and with it each value typed) and start with one empty row.
function clearCredentials() {
  $("credential-rows").replaceChildren(credentialRow());
}

async function loadIntegrations() {
  // /readyz lists the loaded integrations; the account list is the fallback.
  let names = [];
  try {
    const response = await fetch("/readyz", { cache: "no-store", credentials: "omit" });
    names = (await response.json()).integrations || [];
  } catch {
    names = [];
  }
  if (!names.length) names = [...new Set(state.accounts.map((a) => a.integration))].sort();
  const select = $("integration");
  const current = select.value;
  select.replaceChildren(...names.map((name) => el("option", { value: name, text: name })));
  if (names.includes(current)) select.value = current;
}

async function openConnect() {
  $("connect").hidden = false;
  $("connect-open").setAttribute("aria-expanded", "true");
  $("connect-form").reset();
  clearErrors(ACCOUNT_FIELDS, "connect");
  clearCredentials();
  $("connect-title").focus();
  await loadIntegrations();
}

function closeConnect() {
  $("connect-form").reset();
  clearCredentials();
  clearErrors(ACCOUNT_FIELDS, "connect");
  $("connect").hidden = true;
  $("connect-open").setAttribute("aria-expanded", "false");
}

function onConnectCancel() {
  closeConnect();
  $("connect-open").focus();
}

function connectRequest() {
  const credentials = {};
  for (const row of document.querySelectorAll("#credential-rows .credential-row")) {
    const name = row.querySelector(".credential-name").value.trim();
    const value = row.querySelector(".credential-value").value;
    if (name || value) credentials[name] = value;
  }
  const request = {
    id: $("account-id").value.trim(),
    integration: $("integration").value,
    credentials,
    verify: $("verify").checked,
  };
  const baseUrl = $("base-url").value.trim();
  if (baseUrl) request.base_url = baseUrl;
  return request;
}

async function onConnect(event) {
  event.preventDefault();
  if (state.connecting) return;
  clearErrors(ACCOUNT_FIELDS, "connect");
  const request = connectRequest();
  state.connecting = true;
  $("connect-form").setAttribute("aria-busy", "true");
  try {
    const connected = await api("POST", "/integrated-account", { body: request });
    closeConnect(); // the password inputs go, and the values typed with them
    await reloadAccounts();
    announce(
      `Connected ${connected.id} (${connected.integration}, source ${connected.source}). ` +
        "Its credentials will not be shown again.",
      "success",
    );
    await selectAccount(connected.id, { focus: true });
  } catch (error) {
    if (error.status === 422 && Array.isArray(error.body.errors)) {
      showFieldErrors(error.body.errors, ACCOUNT_FIELDS, "connect", "connect-submit");
      announce("The account was not connected: see the highlighted fields.", "error");
    } else if (error.status === 409) {
      setFieldError("account-id", error.message);
      $("account-id").focus();
      announce(`The account was not connected: ${error.message}`, "error");
    } else if (error.status !== 401) {
      setFieldError("connect", error.message);
      announce(`The account was not connected: ${error.message}`, "error");
    }
  } finally {
    state.connecting = false;
    $("connect-form").removeAttribute("aria-busy");
  }
}

// --- wiring ---

function init() {
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("create-form").addEventListener("submit", onCreate);
  $("create-form").addEventListener("change", (event) => {
    const target = event.target;
    if (["api-token", "approval"].includes(target.id) || ["method", "tag"].includes(target.name)) {
      schedulePreview();
    }
  });
  $("copy-url").addEventListener("click", () => copy($("created-url"), "URL"));
  $("copy-token").addEventListener("click", () => copy($("created-token"), "API token"));
  $("make-token").addEventListener("click", onMakeToken);
  $("created-done").addEventListener("click", onCreatedDone);
  $("confirm-ok").addEventListener("click", () => $("confirm").close("ok"));
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
  $("confirm").addEventListener("close", onConfirmClosed);
  $("connect-open").addEventListener("click", openConnect);
  $("connect-cancel").addEventListener("click", onConnectCancel);
  $("connect-form").addEventListener("submit", onConnect);
  $("add-credential").addEventListener("click", () => {
    const row = credentialRow();
    $("credential-rows").append(row);
    row.querySelector("input").focus();
  });
  clearCredentials();

  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    $("signin").hidden = true;
    signIn(token, { quiet: true }).catch(() => signOut("Your session ended: sign in again."));
  } else {
    $("signin").hidden = false;
  }
}

init();
