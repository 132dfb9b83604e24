// Shared by the account page and the admin console: calls to Tessera's JSON API with the session
// cookie and the CSRF token, errors shown in words beside the control that caused them, the
// sign-in form, and a few DOM helpers. No framework and no build step: the browser loads this
// module as it is, from the server binary.

/** Shown when a request answers 401 while the person was signed in. */
export const SESSION_ENDED =
  'Your session has ended (signed out elsewhere or expired). Please sign in again.';

const REASONS = {
  token_expired:
    'Your session has expired (unused for too long, or at the end of its lifetime). Please sign in again.',
  user_inactive: 'Your account has been deactivated. Ask an administrator if this is a mistake.',
};

/** An error answer of the API: `{code, detail, fields?}`, or a failure to reach it. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const b = body && typeof body === 'object' ? body : {};
    super(b.detail || fallback || `Tessera answered with status ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = b.code || (status === 0 ? 'network_error' : `http_${status}`);
    this.fields = b.fields && typeof b.fields === 'object' ? b.fields : null;
  }
}

/** A `validation_error` made in the page, before anything is sent. */
export function invalid(field, message) {
  return new ApiError(400, {
    code: 'validation_error',
    detail: 'Invalid input.',
    fields: { [field]: [message] },
  });
}

let csrfToken = null;
let sessionEnded = null;
let forbidden = null;

/** Tells the page when the API answers 403 `permission_denied` (the admin console: demoted). */
export function onForbidden(handler) {
  forbidden = handler;
}
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Keeps the CSRF token of the cookie session (from login or `GET /api/auth/csrf`). */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** The `Link: <…>; rel="next"` URL of a paginated answer, or null. */
export function nextLink(header) {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/i);
    if (m) return m[1];
  }
  return null;
}

async function readBody(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * `method path` with an optional JSON body. Resolves to `{status, data, next}`; rejects with an
 * ApiError. A 401 (unless `options.quiet401`) first tells the page the session is over.
 */
export async function request(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, null, 'Tessera could not be reached. Check the connection and try again.');
  }
  const data = await readBody(res);
  if (res.ok) return { status: res.status, data, next: nextLink(res.headers.get('Link')) };
  const err = new ApiError(res.status, data);
  if (err.code === 'csrf_failed' && !SAFE.has(method) && !options.retried && csrfToken) {
    // The token may be stale (another tab signed in again): fetch it once more and retry.
    const fresh = await request('GET', '/api/auth/csrf');
    setCsrfToken(fresh.data && fresh.data.csrf_token);
    return request(method, path, body, { ...options, retried: true });
  }
  if (err.status === 401 && !options.quiet401 && sessionEnded) sessionEnded(err);
  if (err.code === 'permission_denied' && forbidden) forbidden(err);
  throw err;
}

export const get = (path, options) => request('GET', path, undefined, options);
export const post = (path, body, options) => request('POST', path, body, options);
export const patch = (path, body, options) => request('PATCH', path, body, options);
export const put = (path, body, options) => request('PUT', path, body, options);
export const del = (path, options) => request('DELETE', path, undefined, options);

/** The sentence to show for an error, in words. */
export function messageFor(err) {
  if (!(err instanceof ApiError)) return `Something went wrong in this page: ${err}`;
  switch (err.code) {
    case 'csrf_failed':
      return 'Tessera refused this request as cross-site. If this page is served under another address than TESSERA_PUBLIC_URL, the operator must set TESSERA_PUBLIC_URL (or TESSERA_ALLOWED_ORIGINS) to it.';
    case 'permission_denied':
      return 'You are not allowed to do this.';
    case 'not_found':
      return 'It no longer exists (it may have been removed meanwhile).';
    default:
      if (err.status >= 500) return `Tessera could not do this right now (status ${err.status}). Try again in a moment.`;
      return err.message;
  }
}

// ----- DOM helpers -------------------------------------------------------------------------

/** `el('td', {class: 'x', data: {label: 'Client'}}, 'text', child)`: never parses HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'data') for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    else if (key === 'on') for (const [k, v] of Object.entries(value)) node.addEventListener(k, v);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Shows or hides an element. */
export function show(node, visible = true) {
  node.hidden = !visible;
}

/** Sets a status line (role=status elements are read out by screen readers). */
export function say(node, text) {
  node.textContent = text || '';
}

/** A `<time>` for an RFC 3339 timestamp, readable in the person's locale. */
export function time(iso, empty = '—') {
  if (!iso) return document.createTextNode(empty);
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return el('time', { datetime: iso, title: iso }, text);
}

/** A table cell labelled for the phone-width layout. */
export function td(label, ...children) {
  return el('td', { data: { label } }, ...children);
}

/** Replaces a table body's rows; an empty list shows `emptyText`. */
export function fillTable(table, rows, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  const after = table.nextElementSibling;
  if (after && after.classList.contains('inline-error')) after.textContent = '';
  if (rows.length === 0) {
    const columns = table.tHead ? table.tHead.rows[0].cells.length : 1;
    body.append(el('tr', {}, el('td', { class: 'empty', colspan: columns }, emptyText)));
  }
}

/** Seconds as the largest exact unit: 86400 → "1d", 90 → "90s"; null → "". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Seconds in words for tables: 86400 → "1 day", null → `none`. */
export function describeDuration(seconds, none) {
  if (seconds === null || seconds === undefined) return none;
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]]) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

/**
 * A duration field: empty or "never" → null; "3600" → 3600; "30d", "12h", "15m", "30s" → seconds.
 * Anything else is a validation error on `field`.
 */
export function parseDuration(text, field) {
  const value = text.trim().toLowerCase();
  if (value === '' || value === 'never') return null;
  if (/^\d+$/.test(value)) return Number(value);
  const m = value.match(/^(\d+)\s*([smhd])$/);
  if (!m) {
    throw invalid(field, 'Enter seconds, or a number followed by s, m, h or d (such as 30d); leave it empty for none.');
  }
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

/** A whole-number field: empty → null. */
export function parseWhole(text, field) {
  const value = text.trim();
  if (value === '') return null;
  if (!/^\d+$/.test(value)) throw invalid(field, 'Enter a whole number, or leave it empty.');
  return Number(value);
}

/** A `datetime-local` value (the person's local time) as RFC 3339 UTC; empty → null. */
export function localToIso(value, field) {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw invalid(field, 'Enter a date and time.');
  return d.toISOString();
}

// ----- errors beside their controls --------------------------------------------------------

function errorSlot(control) {
  const id = `${control.id}-error`;
  let slot = document.getElementById(id);
  if (!slot) {
    slot = el('p', { class: 'field-error', id });
    const anchor = control.closest('.field') || control;
    if (anchor === control) control.after(slot);
    else anchor.append(slot);
  }
  return slot;
}

function describedBy(control, id, add) {
  const ids = new Set((control.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  if (add) ids.add(id);
  else ids.delete(id);
  if (ids.size) control.setAttribute('aria-describedby', [...ids].join(' '));
  else control.removeAttribute('aria-describedby');
}

/** Removes every error shown in `container` (a form or a section). */
export function clearErrors(container) {
  for (const control of container.querySelectorAll('[aria-invalid="true"]')) {
    control.removeAttribute('aria-invalid');
    describedBy(control, `${control.id}-error`, false);
  }
  for (const slot of container.querySelectorAll('.field-error, .form-error, .inline-error')) {
    slot.textContent = '';
  }
}

/**
 * Shows `err` inside `container`: each `fields` message beside the control whose `data-field`
 * names it, the rest in the container's `.form-error`. `options.codeFields` places an error
 * code on a field (`{invalid_credentials: 'current_password'}`); `options.codeMessages` words it.
 */
export function showError(err, container, options = {}) {
  clearErrors(container);
  const { codeFields = {}, codeMessages = {} } = options;
  const fields = { ...(err.fields || {}) };
  const message = codeMessages[err.code] || messageFor(err);
  if (!err.fields && codeFields[err.code]) fields[codeFields[err.code]] = [message];
  const unplaced = [];
  let first = null;
  for (const [name, messages] of Object.entries(fields)) {
    const control = container.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const text = [].concat(messages).join(' ');
    if (!control || !control.id) {
      unplaced.push(name === 'non_field_errors' ? text : `${name}: ${text}`);
      continue;
    }
    const slot = errorSlot(control);
    slot.textContent = text;
    control.setAttribute('aria-invalid', 'true');
    describedBy(control, slot.id, true);
    first = first || control;
  }
  const box = container.querySelector('.form-error');
  let summary = '';
  if (unplaced.length) summary = unplaced.join(' ');
  else if (!first) summary = message;
  if (box) box.textContent = summary;
  else if (summary) errorBeside(container, summary);
  if (first) first.focus();
}

/** Shows a message right after `node` (a button), replacing an earlier one there. */
export function errorBeside(node, message) {
  let slot = node.nextElementSibling;
  if (!slot || !slot.classList.contains('inline-error')) {
    slot = el('span', { class: 'inline-error', role: 'alert' });
    node.after(slot);
  }
  slot.textContent = message;
}

function isSessionEnd(err) {
  return err instanceof ApiError && err.status === 401 && sessionEnded;
}

/** Runs `handler(form)` on submit, with the submit button disabled and errors shown in the form. */
export function bindForm(form, handler, options) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') return;
    clearErrors(form);
    const buttons = [...form.querySelectorAll('button[type="submit"]')];
    form.setAttribute('aria-busy', 'true');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await handler(form);
    } catch (err) {
      if (!isSessionEnd(err)) showError(err, form, options);
    } finally {
      form.removeAttribute('aria-busy');
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

/** Runs `action()` when `button` is clicked, with the button disabled and errors beside it. */
export async function runAction(button, action) {
  const old = button.nextElementSibling;
  if (old && old.classList.contains('inline-error')) old.textContent = '';
  button.disabled = true;
  try {
    await action();
  } catch (err) {
    if (isSessionEnd(err)) return;
    if (button.isConnected) errorBeside(button, messageFor(err));
    else console.error(err);
  } finally {
    button.disabled = false;
  }
}

/** Runs each `[load, node]`; a failure (other than the end of the session) shows beside `node`. */
export async function loadAll(pairs) {
  await Promise.all(pairs.map(async ([load, node]) => {
    try {
      await load();
    } catch (err) {
      if (!isSessionEnd(err)) errorBeside(node, messageFor(err));
    }
  }));
}

export function onClick(button, action) {
  button.addEventListener('click', () => runAction(button, action));
}

/**
 * A two-step button: the first click asks `question` (a string, or a function giving one) beside it, with "Yes, …" (class
 * `confirm-yes`) and "Cancel" (class `confirm-no`, or Escape); only "Yes" runs `action()`.
 */
export function confirmStep(button, question, yesLabel, action) {
  button.addEventListener('click', () => {
    if (button.nextElementSibling && button.nextElementSibling.classList.contains('confirm')) return;
    const old = button.nextElementSibling;
    if (old && old.classList.contains('inline-error')) old.remove();
    const text = typeof question === 'function' ? question() : question;
    const yes = el('button', { type: 'button', class: 'confirm-yes small' }, yesLabel);
    const no = el('button', { type: 'button', class: 'confirm-no small' }, 'Cancel');
    const box = el('span', { class: 'confirm', role: 'group', 'aria-label': text },
      el('span', { class: 'confirm-text' }, text), yes, no);
    const close = () => {
      box.remove();
      button.hidden = false;
      if (button.isConnected) button.focus();
    };
    no.addEventListener('click', close);
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') close();
    });
    yes.addEventListener('click', () => runAction(yes, async () => {
      await action();
      if (box.isConnected) close();
    }));
    button.hidden = true;
    button.after(box);
    yes.focus();
  });
}

// ----- the sign-in form and the session ------------------------------------------------------

/** The client the pages sign in on: `data-client` of `<body>`, filled in by the server. */
export function accountClient() {
  const client = document.body.dataset.client;
  return client && !client.includes('{{') ? client : 'browser';
}

/**
 * Wires the sign-in form of a page. `onEnter(user)` shows the signed-in view; `onLeave()` wipes
 * it. Returns `leave(reason)`, which shows the sign-in form with a sentence saying why.
 * On load the page asks `GET /api/auth/me` (the HttpOnly cookie may already be there), then
 * `GET /api/auth/csrf` for the token unsafe requests need.
 */
export function startSession({ onEnter, onLeave }) {
  const section = $('#signin');
  const form = $('#signin-form');
  const reason = $('#signin-reason');
  const loading = $('#loading');
  let signedIn = false;

  function leave(text) {
    signedIn = false;
    setCsrfToken(null);
    onLeave();
    say(reason, text || '');
    show(reason, Boolean(text));
    show(section, true);
    if (loading) show(loading, false);
    for (const node of document.querySelectorAll('[data-signed-in]')) show(node, false);
    $('#signin-username').focus();
  }

  async function enter(user) {
    signedIn = true;
    show(section, false);
    show(reason, false);
    if (loading) show(loading, false);
    for (const node of document.querySelectorAll('[data-signed-in]')) show(node, true);
    const who = $('#whoami');
    if (who) say(who, `Signed in as ${user.username}`);
    await onEnter(user);
  }

  sessionEnded = (err) => {
    if (signedIn) leave(REASONS[err.code] || SESSION_ENDED);
  };

  bindForm(form, async () => {
    const client = accountClient();
    const res = await post('/api/auth/login', {
      username: $('#signin-username').value,
      password: $('#signin-password').value,
      client,
    });
    if (!res.data.csrf_token) {
      // A bearer client: its token came back in the body, which this page will not keep.
      if (res.data.token) {
        fetch('/api/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${res.data.token}` } })
          .catch(() => {});
      }
      throw new ApiError(400, {
        code: 'not_a_cookie_client',
        detail: `The client "${client}" does not keep sessions in a cookie, so this page cannot use it. An administrator must set TESSERA_ACCOUNT_CLIENT to a client whose transport is cookie.`,
      });
    }
    setCsrfToken(res.data.csrf_token);
    form.reset();
    await enter(res.data.user);
  }, {
    codeFields: { invalid_credentials: 'password' },
    codeMessages: { invalid_credentials: 'The username or password is wrong (or the account is deactivated).' },
  });

  (async () => {
    try {
      const me = await get('/api/auth/me', { quiet401: true });
      const csrf = await get('/api/auth/csrf', { quiet401: true });
      setCsrfToken(csrf.data.csrf_token);
      await enter(me.data.user);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        leave(err.code === 'not_authenticated' ? '' : REASONS[err.code] || SESSION_ENDED);
      } else {
        leave(messageFor(err));
      }
    }
  })();

  return {
    leave,
    /** `POST path` (logout or logoutall), then the sign-in form with `text`. */
    async signOut(path, text) {
      await post(path);
      leave(text);
    },
  };
}

// ----- event types in words -------------------------------------------------------------------

export const EVENT_TYPES = {
  'login.succeeded': 'Signed in',
  'login.failed': 'Failed sign-in',
  'login.throttled': 'Sign-in attempts throttled',
  logout: 'Signed out',
  logout_all: 'Signed out everywhere',
  'session.revoked': 'Session ended',
  'token.rotated': 'Token replaced at renewal',
  'token.reuse_detected': 'Old token reused: session ended',
  'reauth.succeeded': 'Password confirmed',
  'reauth.failed': 'Wrong password given',
  'password.changed': 'Password changed',
  signup: 'Account created',
  'apikey.created': 'API key created',
  'apikey.rolled': 'API key rolled',
  'apikey.deleted': 'API key deleted',
  'user.created': 'User created',
  'user.updated': 'User changed',
  'user.deleted': 'User deleted',
  'client.created': 'Client created',
  'client.updated': 'Client changed',
  'client.deleted': 'Client deleted',
  'throttle.set': 'Throttle override set',
  'throttle.removed': 'Throttle override removed',
  'revocation.bulk': 'Sessions ended in bulk',
  'keys.rotated': 'Signing keys rotated',
};

/** An event's type in words, its code, and its detail object as `key: value` pairs. */
export function eventCell(event) {
  const words = EVENT_TYPES[event.type] || event.type;
  const detail = event.detail && typeof event.detail === 'object'
    ? Object.entries(event.detail)
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(', ')
    : '';
  return [
    el('span', {}, words), ' ', el('code', {}, event.type),
    detail ? el('div', { class: 'detail' }, detail) : null,
  ];
}
