// Live Preview (served at /demo-app/app.js). Signs in with the built-in `demo-app` client —
// authorization code with PKCE, tokens kept in sessionStorage of this origin only — and
// shows the developer panel. Every value reaches the page through textContent.
'use strict';

const CLIENT_ID = 'demo-app';
const REDIRECT_URI = location.origin + '/demo-app';
const SCOPE = 'openid profile email phone offline_access urn:logto:scope:organizations urn:logto:scope:organization_roles';
const PENDING = 'kido.demo-app.pending';
const TOKENS = 'kido.demo-app.tokens';
// Sign-in parameters the developer chose (API resources and their scopes): kept across tabs.
const CONFIG = 'kido.demo-app.config';
const $ = (id) => document.getElementById(id);

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function codeChallenge(verifier) {
  if (!crypto.subtle) throw new Error('Live Preview needs a secure context: serve Kido over https or on localhost.');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function jwtClaims(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function show(id, value) {
  const el = $(id);
  el.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  el.hidden = false;
}

function fail(error) {
  $('status').hidden = true;
  show('error', error instanceof Error ? error.message : String(error));
}

async function tokenRequest(params) {
  const response = await fetch('/oidc/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...params }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error}: ${body.error_description || ''}`);
  return body;
}

function config() {
  const saved = JSON.parse(localStorage.getItem(CONFIG) || '{}');
  return { resources: String(saved.resources || ''), scopes: String(saved.scopes || '') };
}

const words = (text) => text.split(/\s+/).filter(Boolean);

async function signIn() {
  const { resources, scopes } = config();
  const verifier = randomString();
  const state = randomString();
  const challenge = await codeChallenge(verifier);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: [SCOPE, ...words(scopes)].join(' '),
    prompt: 'consent',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  for (const resource of words(resources)) query.append('resource', resource);
  location.assign('/oidc/auth?' + query);
}

async function finishSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', REDIRECT_URI);
  if (params.has('error')) throw new Error(`${params.get('error')}: ${params.get('error_description') || ''}`);
  if (!pending || pending.state !== params.get('state')) throw new Error('The sign-in answer does not match the request (state); reload to start again.');
  const tokens = await tokenRequest({
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: REDIRECT_URI,
    code_verifier: pending.verifier,
  });
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return tokens;
}

/** A refresh-token grant; keeps the rotated refresh token for the next one. */
async function refreshed(tokens, params) {
  const answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...params });
  if (answer.refresh_token) {
    tokens.refresh_token = answer.refresh_token;
    sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  }
  return answer;
}

function tokenView(answer) {
  return { claims: answer.access_token.split('.').length === 3 ? jwtClaims(answer.access_token) : null, ...answer };
}

async function showPanel(tokens) {
  $('status').textContent = 'Signed in.';
  show('claims', jwtClaims(tokens.id_token));
  $('panel').hidden = false;
  const info = await fetch('/oidc/me', { headers: { authorization: 'Bearer ' + tokens.access_token } });
  show('userinfo', info.ok ? await info.json() : `userinfo answered ${info.status}`);

  const current = config();
  $('config-resources').value = current.resources;
  $('config-scopes').value = current.scopes;
  $('config-form').addEventListener('submit', (event) => {
    event.preventDefault();
    localStorage.setItem(CONFIG, JSON.stringify({ resources: $('config-resources').value.trim(), scopes: $('config-scopes').value.trim() }));
    sessionStorage.removeItem(TOKENS);
    signIn().catch(fail);
  });
  $('resource-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const params = { resource: $('resource').value.trim() };
    const scope = $('resource-scope').value.trim();
    if (scope) params.scope = scope;
    refreshed(tokens, params).then((a) => show('resource-token', tokenView(a)), (e) => show('resource-token', e.message));
  });
  $('organization-form').addEventListener('submit', (event) => {
    event.preventDefault();
    refreshed(tokens, { organization_id: $('organization').value.trim() })
      .then((a) => show('organization-token', tokenView(a)), (e) => show('organization-token', e.message));
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKENS);
    const query = new URLSearchParams({ client_id: CLIENT_ID, id_token_hint: tokens.id_token, post_logout_redirect_uri: REDIRECT_URI });
    location.assign('/oidc/session/end?' + query);
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  let tokens = JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
  if (params.has('code') || params.has('error')) tokens = await finishSignIn(params);
  if (!tokens) return signIn();
  await showPanel(tokens);
}

main().catch(fail);
