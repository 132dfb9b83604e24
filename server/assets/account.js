// The account page (/account): who you are, your sessions, API keys, password, and recent
// security activity, all through the same JSON endpoints a program calls, with the cookie session
// of TESSERA_ACCOUNT_CLIENT.

import {
  $, bindForm, confirmStep, del, el, eventCell, fillTable, get, invalid, loadAll, onClick, post, say,
  show, startSession, td, time,
} from './api.js';

const EVENTS_PAGE = '/api/auth/events?limit=20';
let eventsNext = null;

const session = startSession({ onEnter: enter, onLeave: wipe });

async function enter(user) {
  say($('#identity-username'), user.username);
  // For password managers: the account whose password the form changes.
  $('#password-username').value = user.username;
  say($('#identity-id'), String(user.id));
  say($('#identity-role'), user.is_admin ? 'Administrator' : 'User');
  show($('#admin-link'), user.is_admin);
  await loadAll([
    [loadSessions, $('#sessions-table')],
    [loadKeys, $('#apikeys-table')],
    [loadEvents, $('#events-table')],
  ]);
}

/** Everything a signed-out page must not keep showing, the one-time token first. */
function wipe() {
  hideToken();
  for (const id of ['identity-username', 'identity-id', 'identity-role', 'identity-session',
    'sessions-status', 'apikeys-status', 'password-status', 'whoami']) {
    say($(`#${id}`), '');
  }
  for (const table of ['#sessions-table', '#apikeys-table', '#events-table']) {
    $(table).tBodies[0].replaceChildren();
  }
  for (const form of ['#apikey-form', '#password-form']) $(form).reset();
  $('#password-username').value = '';
}

// ----- sessions ------------------------------------------------------------------------------

async function loadSessions() {
  const { data } = await get('/api/auth/sessions');
  const current = data.find((s) => s.is_current);
  if (current) {
    say($('#identity-session'), `${current.device_name} on client ${current.client}`);
  }
  fillTable($('#sessions-table'), data.map(sessionRow), 'No sessions.');
}

function sessionRow(s) {
  const device = [s.device_name];
  if (s.is_current) device.push(el('span', { class: 'badge' }, 'This device'));
  let action;
  if (s.is_current) {
    action = el('span', { class: 'detail' }, 'Use "Sign out" above');
  } else {
    action = el('button', {
      type: 'button', class: 'session-signout small', 'aria-label': `Sign out ${s.device_name}`,
    }, 'Sign out');
    onClick(action, async () => {
      await del(`/api/auth/sessions/${encodeURIComponent(s.id)}`);
      say($('#sessions-status'), `Signed out "${s.device_name}".`);
      await Promise.all([loadSessions(), loadEvents()]);
    });
  }
  return el('tr', { class: s.is_current ? 'current' : null, data: { sessionId: s.id } },
    td('Device', ...device),
    td('Client', s.client),
    td('IP address', s.ip || '—'),
    td('Signed in', time(s.created)),
    td('Last used', time(s.last_used)),
    td('Action', action));
}

onClick($('#signout-others'), async () => {
  const { data } = await del('/api/auth/sessions');
  const n = data.revoked;
  say($('#sessions-status'), n === 0
    ? 'You were signed in nowhere else.'
    : `Signed out ${n} other device${n === 1 ? '' : 's'}.`);
  await Promise.all([loadSessions(), loadEvents()]);
});

onClick($('#sessions-refresh'), async () => {
  say($('#sessions-status'), '');
  await loadSessions();
});

onClick($('#signout'), () => session.signOut('/api/auth/logout', 'You have signed out.'));

confirmStep($('#signout-everywhere'),
  'End every session and delete every API key of yours?', 'Yes, sign out everywhere',
  () => session.signOut('/api/auth/logoutall',
    'You have signed out everywhere, and your API keys were deleted.'));

// ----- API keys ------------------------------------------------------------------------------

async function loadKeys() {
  const { data } = await get('/api/auth/apikeys');
  fillTable($('#apikeys-table'), data.map(keyRow), 'You have no API keys.');
  const shown = $('#apikey-new').dataset.keyId;
  if (shown && !data.some((k) => k.id === shown)) hideToken();
}

function keyRow(k) {
  const roll = el('button', { type: 'button', class: 'apikey-roll small', 'aria-label': `Roll ${k.name}` }, 'Roll');
  onClick(roll, async () => {
    const grace = Number($('#roll-grace').value);
    const { data } = await post(`/api/auth/apikeys/${encodeURIComponent(k.id)}/roll`, { grace });
    const old = grace === 0 ? 'The old token has stopped working.'
      : `The old token keeps working for ${grace >= 3600 ? `${grace / 3600} hour` : `${grace / 60} minutes`}.`;
    showToken(data, `New token for "${data.name}". Copy it now: it is shown only once. ${old}`);
    await Promise.all([loadKeys(), loadEvents()]);
  });
  const remove = el('button', { type: 'button', class: 'apikey-delete small danger', 'aria-label': `Delete ${k.name}` }, 'Delete');
  confirmStep(remove, `Delete "${k.name}"? Scripts using it stop working.`, 'Yes, delete', async () => {
    await del(`/api/auth/apikeys/${encodeURIComponent(k.id)}`);
    say($('#apikeys-status'), `Deleted the key "${k.name}".`);
    await Promise.all([loadKeys(), loadEvents()]);
  });
  const scopes = k.scopes === null
    ? el('span', {}, 'Unrestricted')
    : k.scopes.length === 0 ? el('span', {}, 'None (identity only)')
      : k.scopes.map((s) => [el('code', {}, s), ' ']);
  return el('tr', { data: { keyId: k.id } },
    td('Name', k.name),
    td('Scopes', scopes),
    td('Token starts with', el('code', {}, k.token_hint)),
    td('Created', time(k.created)),
    td('Last used', time(k.last_used)),
    td('Expires', time(k.expiry, 'Never')),
    td('Actions', el('div', { class: 'row-actions' }, roll, remove)));
}

function showToken(key, title) {
  const box = $('#apikey-new');
  say($('#apikey-new-title'), title);
  $('#apikey-token').value = key.token;
  say($('#apikey-copy-status'), '');
  box.dataset.keyId = key.id;
  show(box, true);
  $('#apikey-token').focus();
  $('#apikey-token').select();
}

function hideToken() {
  const box = $('#apikey-new');
  $('#apikey-token').value = '';
  delete box.dataset.keyId;
  say($('#apikey-copy-status'), '');
  show(box, false);
}

bindForm($('#apikey-form'), async (form) => {
  const name = $('#apikey-name').value;
  if (!name.trim()) throw invalid('name', 'Give the key a name.');
  const body = { name };
  const scopes = $('#apikey-scopes').value.split(/[\s,]+/).filter(Boolean);
  if (scopes.length) body.scopes = scopes;
  const expiry = $('#apikey-expiry').value;
  if (expiry) body.expires_in = Number(expiry);
  const { data } = await post('/api/auth/apikeys', body);
  form.reset();
  say($('#apikeys-status'), '');
  showToken(data, `Your new key "${data.name}". Copy the token now: it is shown only once.`);
  await Promise.all([loadKeys(), loadEvents()]);
});

onClick($('#apikey-copy'), async () => {
  const field = $('#apikey-token');
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    // No clipboard permission (or no secure context): the old way, from the selected field.
    field.focus();
    field.select();
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
  }
  say($('#apikey-copy-status'), copied
    ? 'Copied to the clipboard.'
    : 'This browser did not allow copying: the token is selected, copy it with your keyboard.');
});

onClick($('#apikey-done'), async () => {
  hideToken();
  $('#apikey-name').focus();
});

// ----- password ------------------------------------------------------------------------------

bindForm($('#password-form'), async (form) => {
  const current = $('#password-current').value;
  const next = $('#password-new').value;
  if (next !== $('#password-confirm').value) {
    throw invalid('new_password_confirm', 'The two new passwords differ.');
  }
  await post('/api/auth/password', { current_password: current, new_password: next });
  form.reset();
  $('#password-username').value = $('#identity-username').textContent;
  say($('#password-status'),
    'Password changed. Your other sessions were signed out; your API keys keep working.');
  await Promise.all([loadSessions(), loadEvents()]);
}, {
  codeFields: { invalid_credentials: 'current_password' },
  codeMessages: { invalid_credentials: 'The current password is wrong.' },
});

// ----- activity ------------------------------------------------------------------------------

function eventRow(e) {
  return el('tr', { data: { eventId: String(e.id), type: e.type } },
    td('Time', time(e.time)),
    td('Event', eventCell(e)),
    td('Client', e.client || '—'),
    td('IP address', e.ip || '—'));
}

async function loadEvents() {
  const { data, next } = await get(EVENTS_PAGE);
  eventsNext = next;
  fillTable($('#events-table'), data.map(eventRow), 'Nothing yet.');
  show($('#events-more'), Boolean(next));
}

onClick($('#events-refresh'), loadEvents);

onClick($('#events-more'), async () => {
  if (!eventsNext) return;
  const { data, next } = await get(eventsNext);
  eventsNext = next;
  $('#events-table').tBodies[0].append(...data.map(eventRow));
  show($('#events-more'), Boolean(next));
});
