// The admin console (/admin): users, clients, throttle overrides, every session, bulk revocation,
// security events and signing keys, all through the admin JSON API with the cookie session of
// TESSERA_ACCOUNT_CLIENT. A signed-in person who is not an admin sees the 403 section instead.

import {
  $, EVENT_TYPES, bindForm, confirmStep, del, describeDuration, el, eventCell, fillTable,
  formatDuration, get, invalid, loadAll, localToIso, onClick, onForbidden, parseDuration, parseWhole,
  patch, post, put, say, show, startSession, td, time,
} from './api.js';

const PAGE = 50;
let me = null;
let clients = [];
let selected = null;
let editing = null;

const session = startSession({ onEnter: enter, onLeave: wipe });
onForbidden(() => {
  if (me) forbid(me);
});

async function enter(user) {
  me = user;
  if (!user.is_admin) {
    forbid(user);
    return;
  }
  show($('#forbidden'), false);
  show($('#console'), true);
  show($('#console-nav'), true);
  await loadAll([
    [() => users.start(usersUrl()), $('#users-table')],
    [loadClients, $('#clients-table')],
    [() => sessions.start(sessionsUrl()), $('#all-sessions-table')],
    [() => events.start(eventsUrl()), $('#admin-events-table')],
    [loadKeys, $('#keys-table')],
  ]);
}

/** The 403 section, for a signed-in person who is not (or no longer) an admin. */
function forbid(user) {
  say($('#forbidden-username'), user.username);
  show($('#console'), false);
  show($('#console-nav'), false);
  show($('#forbidden'), true);
  $('#forbidden-heading').setAttribute('tabindex', '-1');
  $('#forbidden-heading').focus();
}

function wipe() {
  me = null;
  selected = null;
  show($('#console'), false);
  show($('#console-nav'), false);
  show($('#forbidden'), false);
  show($('#user-detail'), false);
  for (const table of document.querySelectorAll('table.data')) table.tBodies[0].replaceChildren();
  for (const status of document.querySelectorAll('.status')) say(status, '');
  for (const form of document.querySelectorAll('#console form')) form.reset();
  resetClientForm();
}

onClick($('#signout'), () => session.signOut('/api/auth/logout', 'You have signed out.'));

// ----- paginated lists -----------------------------------------------------------------------

/** A table filled from a paginated endpoint, with "First page" and "Next page" buttons. */
function pagedList({ table, first, next, row, empty }) {
  const state = { firstUrl: null, url: null, nextUrl: null };
  async function load(url) {
    const res = await get(url);
    state.url = url;
    state.nextUrl = res.next;
    fillTable(table, res.data.map(row), empty);
    show(next, Boolean(res.next));
    show(first, url !== state.firstUrl);
  }
  onClick(next, () => load(state.nextUrl));
  onClick(first, () => load(state.firstUrl));
  return {
    start(url) {
      state.firstUrl = url;
      return load(url);
    },
    async reload() {
      try {
        await load(state.url || state.firstUrl);
      } catch (err) {
        // The page's cursor may have gone (a session that ended): start again.
        if (err.code !== 'validation_error') throw err;
        await load(state.firstUrl);
      }
    },
  };
}

function query(path, params) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== '') q.set(k, String(v));
  return `${path}?${q}`;
}

/** A badge: `yes` when `value`, else `no` (in red when `alarming`). */
const yesNo = (value, yes, no, alarming = true) => el('span', {
  class: value ? 'badge' : `badge ${alarming ? 'off' : 'plain'}`,
}, value ? yes : no);

// ----- users ---------------------------------------------------------------------------------

let usersFilter = '';
const usersUrl = () => query('/api/admin/users', { q: usersFilter });

const users = pagedList({
  table: $('#users-table'), first: $('#users-first'), next: $('#users-next'),
  row: userRow, empty: 'No users match.',
});

function userRow(u) {
  const name = [u.username];
  if (me && u.id === me.id) name.push(el('span', { class: 'badge' }, 'you'));
  const active = el('button', { type: 'button', class: 'user-toggle-active small' + (u.is_active ? ' danger' : '') },
    u.is_active ? 'Deactivate' : 'Activate');
  if (u.is_active) {
    confirmStep(active, `Deactivate ${u.username}? Every session and API key of theirs ends at once.`,
      'Yes, deactivate', () => changeUser(u, { is_active: false },
        `Deactivated ${u.username}: their sessions and API keys have ended.`));
  } else {
    onClick(active, () => changeUser(u, { is_active: true },
      `Activated ${u.username}. They must sign in again.`));
  }
  const admin = el('button', { type: 'button', class: 'user-toggle-admin small' },
    u.is_admin ? 'Remove admin' : 'Make admin');
  onClick(admin, () => changeUser(u, { is_admin: !u.is_admin },
    u.is_admin ? `${u.username} is no longer an admin.` : `${u.username} is now an admin.`));
  const manage = el('button', { type: 'button', class: 'user-manage small', 'aria-label': `Manage ${u.username}` },
    'Sessions, keys, password…');
  onClick(manage, () => openUser(u));
  return el('tr', {
    data: { userId: String(u.id), active: String(u.is_active), admin: String(u.is_admin) },
  },
  td('Id', String(u.id)),
  td('Username', ...name),
  td('Active', yesNo(u.is_active, 'Active', 'Deactivated')),
  td('Admin', yesNo(u.is_admin, 'Admin', 'No', false)),
  td('Created', time(u.created)),
  td('Last sign-in', time(u.last_login, 'Never')),
  td('Actions', el('div', { class: 'row-actions' }, active, admin, manage)));
}

async function changeUser(u, body, message) {
  const { data } = await patch(`/api/admin/users/${u.id}`, body);
  say($('#users-status'), message);
  await users.reload();
  if (selected && selected.id === data.id) await openUser(data, false);
  await events.reload();
}

bindForm($('#users-search-form'), async () => {
  usersFilter = $('#users-q').value.trim();
  say($('#users-caption'), usersFilter ? `Users whose name contains "${usersFilter}"` : 'Users by id');
  await users.start(usersUrl());
});

bindForm($('#user-create-form'), async (form) => {
  const { data } = await post('/api/admin/users', {
    username: $('#new-user-username').value,
    password: $('#new-user-password').value,
    is_admin: $('#new-user-admin').checked,
  });
  form.reset();
  say($('#users-status'), `Created ${data.is_admin ? 'admin' : 'user'} ${data.username} (id ${data.id}).`);
  await users.reload();
  await events.reload();
});

// ----- one user: password, sessions and keys, throttles, delete ------------------------------

async function openUser(u, focus = true) {
  selected = u;
  say($('#user-detail-heading'), `User ${u.username} (id ${u.id})${u.is_active ? '' : ', deactivated'}`);
  if (focus) say($('#user-detail-status'), '');
  show($('#user-detail'), true);
  await loadAll([
    [loadUserSessions, $('#user-sessions-table')],
    [loadThrottles, $('#throttles-table')],
  ]);
  if (focus) {
    const heading = $('#user-detail-heading');
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    heading.scrollIntoView({ block: 'start' });
  }
}

onClick($('#user-detail-close'), async () => {
  selected = null;
  show($('#user-detail'), false);
  const row = $(`#users-table tr[data-user-id] .user-manage`);
  if (row) row.focus();
});

async function loadUserSessions() {
  if (!selected) return;
  const { data } = await get(`/api/admin/users/${selected.id}/sessions`);
  fillTable($('#user-sessions-table'), data.map((s) => el('tr', { data: { sessionId: s.id } },
    td('Kind', s.kind === 'api_key' ? 'API key' : 'Session'),
    td('Device or key', deviceOrKey(s)),
    td('Client', s.client),
    td('IP address', s.ip || '—'),
    td('Created', time(s.created)),
    td('Last used', time(s.last_used)),
    td('Expires', time(s.expiry, 'Never')))), 'No live sessions or API keys.');
}

function deviceOrKey(s) {
  if (s.kind !== 'api_key') return s.device_name;
  const scopes = s.scopes === null ? 'unrestricted' : `scopes: ${s.scopes.join(' ') || 'none'}`;
  return [s.name || 'API key', el('div', { class: 'detail' }, scopes)];
}

confirmStep($('#user-revoke-all'),
  () => `End every session and API key of ${selected ? selected.username : 'this user'}?`,
  'Yes, end them all', async () => {
    const { data } = await del(`/api/admin/users/${selected.id}/sessions`);
    say($('#user-detail-status'), `Ended ${data.revoked} session${data.revoked === 1 ? '' : 's'} and API key${data.revoked === 1 ? '' : 's'}.`);
    await Promise.all([loadUserSessions(), sessions.reload(), events.reload()]);
  });

bindForm($('#user-password-form'), async (form) => {
  await patch(`/api/admin/users/${selected.id}`, { password: $('#user-password').value });
  form.reset();
  say($('#user-detail-status'), `New password set for ${selected.username}. Their sessions have ended; API keys keep working.`);
  await Promise.all([loadUserSessions(), events.reload()]);
});

confirmStep($('#user-delete'),
  () => `Delete ${selected ? selected.username : 'this user'} with all their sessions and API keys?`,
  'Yes, delete', async () => {
    const gone = selected;
    await del(`/api/admin/users/${gone.id}`);
    selected = null;
    show($('#user-detail'), false);
    say($('#users-status'), `Deleted ${gone.username}.`);
    await Promise.all([users.reload(), sessions.reload(), events.reload()]);
  });

async function loadThrottles() {
  if (!selected) return;
  const id = selected.id;
  const { data } = await get(`/api/admin/users/${id}/throttles`);
  fillTable($('#throttles-table'), data.map((t) => {
    const remove = el('button', { type: 'button', class: 'throttle-remove small', 'aria-label': `Remove the override on ${t.client}` }, 'Remove');
    onClick(remove, async () => {
      await del(`/api/admin/users/${id}/throttles/${encodeURIComponent(t.client)}`);
      say($('#user-detail-status'), `Removed the override on ${t.client}: the client's own rate applies again.`);
      await loadThrottles();
    });
    return el('tr', { data: { clientName: t.client } },
      td('Client', t.client), td('Rate', t.rate || 'Unlimited'), td('Action', remove));
  }), 'No overrides: each client\'s own rate applies.');
}

bindForm($('#throttle-form'), async () => {
  const client = $('#throttle-client').value;
  if (!client) throw invalid('client', 'Choose a client.');
  const rate = $('#throttle-rate').value.trim() || null;
  const { data } = await put(`/api/admin/users/${selected.id}/throttles/${encodeURIComponent(client)}`, { rate });
  $('#throttle-rate').value = '';
  say($('#user-detail-status'), `${selected.username} on ${data.client}: ${data.rate || 'unlimited'}.`);
  await loadThrottles();
});

// ----- clients -------------------------------------------------------------------------------

async function loadClients() {
  const { data } = await get('/api/admin/clients');
  clients = data;
  fillTable($('#clients-table'), data.map(clientRow), 'No clients.');
  for (const select of document.querySelectorAll('select.client-options')) {
    const keep = select.value;
    const options = select.dataset.any ? [el('option', { value: '' }, select.dataset.any)] : [];
    options.push(...data.map((c) => el('option', { value: c.name }, c.name)));
    select.replaceChildren(...options);
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }
}

function clientRow(c) {
  const renewal = [c.auto_renew ? 'renews on use' : null, c.rotate_on_refresh ? 'new token at refresh' : null]
    .filter(Boolean).join(', ') || '—';
  const edit = el('button', { type: 'button', class: 'client-edit small', 'aria-label': `Edit ${c.name}` }, 'Edit');
  onClick(edit, async () => editClient(c));
  const remove = el('button', { type: 'button', class: 'client-delete small danger', 'aria-label': `Delete ${c.name}` }, 'Delete');
  confirmStep(remove, `Delete ${c.name}? Every session and API key on it ends.`, 'Yes, delete', async () => {
    await del(`/api/admin/clients/${encodeURIComponent(c.name)}`);
    if (editing === c.name) resetClientForm();
    say($('#clients-status'), `Deleted client ${c.name}.`);
    await Promise.all([loadClients(), sessions.reload(), events.reload()]);
  });
  return el('tr', { data: { clientName: c.name } },
    td('Name', el('code', {}, c.name)),
    td('Transport', c.transport),
    td('Token lifetime', describeDuration(c.token_ttl, 'Never expires')),
    td('Max lifetime', describeDuration(c.max_lifetime, 'No cap')),
    td('Idle timeout', describeDuration(c.idle_timeout, 'None')),
    td('Rate', c.throttle_rate || 'Unlimited'),
    td('Max sessions', c.max_sessions === null ? 'No limit' : String(c.max_sessions)),
    td('Renewal', renewal),
    td('Description', c.description || '—'),
    td('Actions', el('div', { class: 'row-actions' }, edit, remove)));
}

function editClient(c) {
  editing = c.name;
  const name = $('#client-name');
  name.value = c.name;
  name.readOnly = true;
  $('#client-description').value = c.description;
  $('#client-token-ttl').value = formatDuration(c.token_ttl);
  $('#client-max-lifetime').value = formatDuration(c.max_lifetime);
  $('#client-idle-timeout').value = formatDuration(c.idle_timeout);
  $('#client-throttle-rate').value = c.throttle_rate || '';
  $('#client-max-sessions').value = c.max_sessions === null ? '' : String(c.max_sessions);
  $('#client-transport').value = c.transport;
  $('#client-auto-renew').checked = c.auto_renew;
  $('#client-rotate-on-refresh').checked = c.rotate_on_refresh;
  say($('#client-form-heading'), `Edit client ${c.name}`);
  say($('#client-submit'), 'Save changes');
  show($('#client-cancel'), true);
  say($('#clients-status'), '');
  $('#client-form').scrollIntoView({ block: 'start' });
  $('#client-description').focus();
}

function resetClientForm() {
  editing = null;
  const form = $('#client-form');
  form.reset();
  $('#client-name').readOnly = false;
  say($('#client-form-heading'), 'New client');
  say($('#client-submit'), 'Create client');
  show($('#client-cancel'), false);
}

onClick($('#client-cancel'), async () => {
  resetClientForm();
  $('#client-name').focus();
});

bindForm($('#client-form'), async () => {
  const policy = {
    description: $('#client-description').value,
    token_ttl: parseDuration($('#client-token-ttl').value, 'token_ttl'),
    max_lifetime: parseDuration($('#client-max-lifetime').value, 'max_lifetime'),
    idle_timeout: parseDuration($('#client-idle-timeout').value, 'idle_timeout'),
    throttle_rate: $('#client-throttle-rate').value.trim() || null,
    max_sessions: parseWhole($('#client-max-sessions').value, 'max_sessions'),
    transport: $('#client-transport').value,
    auto_renew: $('#client-auto-renew').checked,
    rotate_on_refresh: $('#client-rotate-on-refresh').checked,
  };
  let saved;
  if (editing) {
    saved = (await patch(`/api/admin/clients/${encodeURIComponent(editing)}`, policy)).data;
    say($('#clients-status'), `Saved client ${saved.name}. Changes apply from the next request, sign-in or renewal.`);
  } else {
    saved = (await post('/api/admin/clients', { name: $('#client-name').value, ...policy })).data;
    say($('#clients-status'), `Created client ${saved.name}.`);
  }
  resetClientForm();
  await Promise.all([loadClients(), events.reload()]);
});

// ----- all sessions --------------------------------------------------------------------------

let sessionsFilter = {};
const sessionsUrl = () => query('/api/admin/sessions', sessionsFilter);

const sessions = pagedList({
  table: $('#all-sessions-table'), first: $('#all-sessions-first'), next: $('#all-sessions-next'),
  empty: 'No live sessions match.',
  row: (s) => el('tr', { data: { sessionId: s.id, userId: String(s.user_id) } },
    td('User', `${s.username} (id ${s.user_id})`),
    td('Client', s.client),
    td('Kind', s.kind === 'api_key' ? 'API key' : 'Session'),
    td('Device or key', deviceOrKey(s)),
    td('IP address', s.ip || '—'),
    td('Created', time(s.created)),
    td('Last used', time(s.last_used)),
    td('Expires', time(s.expiry, 'Never'))),
});

bindForm($('#sessions-filter-form'), async () => {
  sessionsFilter = {
    client: $('#sessions-client').value,
    user_id: parseWhole($('#sessions-user-id').value, 'user_id'),
    kind: $('#sessions-kind').value,
  };
  await sessions.start(sessionsUrl());
});

// ----- bulk revocation -----------------------------------------------------------------------

function revocationFilters() {
  const body = {};
  const client = $('#revocation-client').value;
  if (client) body.client = client;
  const user = parseWhole($('#revocation-user-id').value, 'user_id');
  if (user !== null) body.user_id = user;
  const before = localToIso($('#revocation-created-before').value, 'created_before');
  if (before) body.created_before = before;
  return body;
}

function describeRevocation() {
  let body;
  try {
    body = revocationFilters();
  } catch {
    return 'Correct the filters first.';
  }
  const parts = [];
  if (body.client) parts.push(`on client ${body.client}`);
  if (body.user_id !== undefined) parts.push(`of user id ${body.user_id}`);
  if (body.created_before) parts.push(`created before ${new Date(body.created_before).toLocaleString()}`);
  if (!parts.length) return 'Choose at least one filter.';
  return `This ends every live session and API key ${parts.join(', ')}. It cannot be undone.`;
}

for (const id of ['#revocation-client', '#revocation-user-id', '#revocation-created-before']) {
  for (const type of ['input', 'change']) {
    $(id).addEventListener(type, () => say($('#revocation-summary'), describeRevocation()));
  }
}

bindForm($('#revocation-form'), async () => {
  const body = revocationFilters();
  if (!Object.keys(body).length) throw invalid('non_field_errors', 'Choose at least one filter: client, user id or creation time.');
  if (!$('#revocation-confirm').checked) {
    throw invalid('confirm', 'Tick this box to confirm: ending sessions cannot be undone.');
  }
  const { data } = await post('/api/admin/revocations', body);
  $('#revocation-confirm').checked = false;
  say($('#revocation-result'), `Ended ${data.revoked} session${data.revoked === 1 ? '' : 's'} and API key${data.revoked === 1 ? '' : 's'}.`);
  await Promise.all([sessions.reload(), events.reload()]);
  if (selected) await loadUserSessions();
});

// ----- security events -----------------------------------------------------------------------

$('#events-type').replaceChildren(
  el('option', { value: '' }, 'Any type'),
  ...Object.entries(EVENT_TYPES).map(([type, words]) => el('option', { value: type }, `${type} (${words})`)),
);

let eventsFilter = {};
const eventsUrl = () => query('/api/admin/events', eventsFilter);

const events = pagedList({
  table: $('#admin-events-table'), first: $('#admin-events-first'), next: $('#admin-events-next'),
  empty: 'No events match.',
  row: (e) => el('tr', { data: { eventId: String(e.id), type: e.type } },
    td('Time', time(e.time)),
    td('Event', eventCell(e)),
    td('User', e.username ? `${e.username}${e.user_id === null ? '' : ` (id ${e.user_id})`}` : '—'),
    td('Client', e.client || '—'),
    td('IP address', e.ip || '—'),
    td('By admin', e.actor_id === null ? '—' : `id ${e.actor_id}`)),
});

bindForm($('#events-filter-form'), async () => {
  eventsFilter = {
    user_id: parseWhole($('#events-user-id').value, 'user_id'),
    type: $('#events-type').value,
    since: localToIso($('#events-since').value, 'since'),
  };
  await events.start(eventsUrl());
});

// ----- signing keys --------------------------------------------------------------------------

function fillKeys(keys) {
  fillTable($('#keys-table'), keys.map((k) => el('tr', { data: { kid: k.kid, state: k.state } },
    td('Key id', el('code', {}, k.kid)),
    td('State', el('span', { class: k.state === 'retired' ? 'badge off' : 'badge' }, k.state)),
    td('Created', time(k.created)))), 'No signing keys yet.');
}

async function loadKeys() {
  fillKeys((await get('/api/admin/keys')).data);
}

onClick($('#keys-rotate'), async () => {
  const { data } = await post('/api/admin/keys/rotate');
  fillKeys(data);
  say($('#keys-status'), 'Rotated: the next key is now current; the previous one is retired and stays published until its last token has expired.');
  await events.reload();
});
