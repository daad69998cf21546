// compat step: Management API through the official `@logto/api` 1.42.0 client, then a
// client_credentials token for a freshly created M2M app, checked as an RFC 9068 JWT.
//
// Environment (set by compat/run):
//   KIDO_BASE                    base URL of the running server, e.g. http://127.0.0.1:3001
//   KIDO_BOOTSTRAP_CREDENTIALS   path to <data dir>/bootstrap-credentials.json
//
// Every step prints "PASS <step>" or "FAIL <step>: <reason>"; the first failure exits 1.

import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import process from 'node:process';

import { createManagementApi } from '@logto/api/management';

const MANAGEMENT_API_INDICATOR = 'https://default.logto.app/api';
const ITEM_SCOPE = 'read:items';

// ---------------------------------------------------------------------------------------------
// tiny harness

class CheckError extends Error {}

const fail = (message) => {
  throw new CheckError(message);
};

const assert = (condition, message) => {
  if (!condition) fail(message);
};

const show = (value) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
};

const assertEqual = (actual, expected, what) =>
  assert(actual === expected, `${what}: expected ${show(expected)}, got ${show(actual)}`);

let currentStep = '(setup)';
let passed = 0;

const step = async (name, fn) => {
  currentStep = name;
  const started = Date.now();
  const result = await fn();
  passed += 1;
  console.log(`PASS mapi: ${name} (${Date.now() - started} ms)`);
  return result;
};

// Checks the result of an openapi-fetch call ({data, error, response}) for an expected status.
const expectStatus = (result, expected, what) => {
  const { response, error } = result;
  const allowed = Array.isArray(expected) ? expected : [expected];
  assert(
    allowed.includes(response.status),
    `${what}: expected HTTP ${allowed.join(' or ')}, got ${response.status} ${show(error ?? '')}`
  );
  return result.data;
};

// Runs an SDK call and turns thrown errors (token failures, JSON parse errors of bodies) into a
// readable failure.
const sdk = async (what, call) => {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CheckError) throw error;
    const hint =
      error instanceof SyntaxError
        ? ' (openapi-fetch parses every success body as JSON unless the status is 204 or ' +
          'Content-Length is 0: an empty or non-JSON 2xx body breaks @logto/api)'
        : '';
    fail(`${what}: @logto/api threw ${error?.name}: ${error?.message}${hint}`);
  }
};

const readJsonResponse = async (response, what) => {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  assert(
    /^application\/([a-z0-9.+-]+\+)?json\b/.test(type.toLowerCase()),
    `${what}: expected a JSON Content-Type (application/json or application/*+json), got ${show(type)} ` +
      `(HTTP ${response.status}, body ${show(text)})`
  );
  try {
    return JSON.parse(text);
  } catch {
    fail(`${what}: body is not JSON (HTTP ${response.status}): ${show(text)}`);
  }
};

const httpFetch = async (what, url, init) => {
  try {
    return await fetch(url, init);
  } catch (error) {
    fail(`${what}: request to ${url} failed: ${error?.cause?.message ?? error?.message}`);
  }
};

const decodeSegment = (segment, what) => {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    fail(`${what} is not base64url-encoded JSON`);
  }
};

// application/x-www-form-urlencoded encoding, as RFC 6749 §2.3.1 requires inside Basic auth.
const formEncode = (value) => new URLSearchParams({ v: value }).toString().slice(2);

const basicAuth = (id, secret) =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const base = (process.env.KIDO_BASE ?? '').replace(/\/+$/, '');
  assert(base, 'KIDO_BASE is not set (compat/run sets it)');
  const credentialsPath = process.env.KIDO_BOOTSTRAP_CREDENTIALS;
  assert(credentialsPath, 'KIDO_BOOTSTRAP_CREDENTIALS is not set (compat/run sets it)');

  const suffix = crypto.randomBytes(6).toString('hex');
  const indicator = `https://api.compat.test/${suffix}`;

  const bootstrap = await step('bootstrap credentials file', () => {
    let parsed;
    try {
      parsed = JSON.parse(readFileSync(credentialsPath, 'utf8'));
    } catch (error) {
      fail(`cannot read ${credentialsPath}: ${error.message}`);
    }
    assertEqual(parsed.tenantId, 'default', 'bootstrap tenantId');
    assert(typeof parsed.clientId === 'string' && parsed.clientId, 'bootstrap clientId missing');
    assert(
      typeof parsed.clientSecret === 'string' && parsed.clientSecret,
      'bootstrap clientSecret missing'
    );
    assertEqual(parsed.resource, MANAGEMENT_API_INDICATOR, 'bootstrap resource');
    assertEqual(parsed.scope, 'all', 'bootstrap scope');
    assert(typeof parsed.endpoint === 'string' && parsed.endpoint, 'bootstrap endpoint missing');
    return parsed;
  });

  const discovery = await step('OIDC discovery', async () => {
    const url = `${base}/oidc/.well-known/openid-configuration`;
    const response = await httpFetch('discovery', url);
    assertEqual(response.status, 200, `GET ${url} status`);
    const document = await readJsonResponse(response, 'discovery');
    assert(
      typeof document.issuer === 'string' && /^https?:\/\/[^/]+\/oidc$/.test(document.issuer),
      `discovery issuer must be "<origin>/oidc" without trailing slash, got ${show(document.issuer)}`
    );
    assert(typeof document.token_endpoint === 'string', 'discovery token_endpoint missing');
    assert(typeof document.jwks_uri === 'string', 'discovery jwks_uri missing');
    return document;
  });

  const { apiClient, clientCredentials } = createManagementApi('default', {
    clientId: bootstrap.clientId,
    clientSecret: bootstrap.clientSecret,
    baseUrl: base,
    apiIndicator: MANAGEMENT_API_INDICATOR,
  });

  await step('management token via @logto/api (client_secret_post, scope all)', async () => {
    const token = await sdk('ClientCredentials.getAccessToken()', () =>
      clientCredentials.getAccessToken()
    );
    assert(typeof token.value === 'string' && token.value.length > 0, 'empty access_token');
    // The SDK only console.warn()s on this; Logto answers exactly "all".
    assertEqual(token.scope, 'all', 'token response scope (the SDK expects exactly "all")');
    assert(
      Number.isInteger(token.expiresAt) && token.expiresAt > Math.floor(Date.now() / 1000) + 60,
      `token expires too soon or expires_in is odd (expiresAt ${token.expiresAt})`
    );
  });

  const resource = await step('create API resource (POST /api/resources → 201)', async () => {
    const result = await sdk('POST /api/resources', () =>
      apiClient.POST('/api/resources', {
        body: { name: `compat resource ${suffix}`, indicator },
      })
    );
    const data = expectStatus(result, 201, 'POST /api/resources');
    assert(data && typeof data.id === 'string' && data.id, `resource id missing: ${show(data)}`);
    assertEqual(data.indicator, indicator, 'resource indicator');
    assertEqual(data.isDefault, false, 'resource isDefault');
    assert(typeof data.accessTokenTtl === 'number', 'resource accessTokenTtl must be a number');
    return data;
  });

  const scope = await step(
    `create scope ${ITEM_SCOPE} (POST /api/resources/{resourceId}/scopes → 201)`,
    async () => {
      const result = await sdk('POST /api/resources/{resourceId}/scopes', () =>
        apiClient.POST('/api/resources/{resourceId}/scopes', {
          params: { path: { resourceId: resource.id } },
          body: { name: ITEM_SCOPE, description: 'Read items (compat suite)' },
        })
      );
      const data = expectStatus(result, 201, 'POST /api/resources/{resourceId}/scopes');
      assert(data && typeof data.id === 'string' && data.id, `scope id missing: ${show(data)}`);
      assertEqual(data.name, ITEM_SCOPE, 'scope name');
      assertEqual(data.resourceId, resource.id, 'scope resourceId');
      return data;
    }
  );

  const role = await step('create M2M role with the scope (POST /api/roles → 200)', async () => {
    // `description` is required by Logto's guard; CreateRole answers 200 (not 201) in Logto.
    const result = await sdk('POST /api/roles', () =>
      apiClient.POST('/api/roles', {
        body: {
          name: `compat-role-${suffix}`,
          description: 'M2M role created by the compat suite',
          type: 'MachineToMachine',
          scopeIds: [scope.id],
        },
      })
    );
    const data = expectStatus(result, 200, 'POST /api/roles');
    assert(data && typeof data.id === 'string' && data.id, `role id missing: ${show(data)}`);
    assertEqual(data.type, 'MachineToMachine', 'role type');
    return data;
  });

  const app = await step('create M2M application (POST /api/applications → 200)', async () => {
    // CreateApplication answers 200 (not 201) in Logto.
    const result = await sdk('POST /api/applications', () =>
      apiClient.POST('/api/applications', {
        body: { name: `compat-m2m-${suffix}`, type: 'MachineToMachine' },
      })
    );
    const data = expectStatus(result, 200, 'POST /api/applications');
    assert(data && typeof data.id === 'string' && data.id, `application id missing: ${show(data)}`);
    assertEqual(data.type, 'MachineToMachine', 'application type');
    assert(
      !('secret' in data),
      'POST /api/applications must not return a secret (Logto strips it; read /secrets instead)'
    );
    return data;
  });

  const appSecret = await step(
    'read "Default secret" (GET /api/applications/{id}/secrets)',
    async () => {
      const result = await sdk('GET /api/applications/{id}/secrets', () =>
        apiClient.GET('/api/applications/{id}/secrets', { params: { path: { id: app.id } } })
      );
      const data = expectStatus(result, 200, 'GET /api/applications/{id}/secrets');
      assert(Array.isArray(data), `secrets must be a JSON array, got ${show(data)}`);
      const secret = data.find((entry) => entry?.name === 'Default secret');
      assert(secret, `no secret named "Default secret" in ${show(data)}`);
      assert(typeof secret.value === 'string' && secret.value, 'Default secret has no value');
      assertEqual(secret.applicationId, app.id, 'secret applicationId');
      return secret.value;
    }
  );

  await step('assign role to app (POST /api/applications/{applicationId}/roles → 201)', async () => {
    const result = await sdk('POST /api/applications/{applicationId}/roles', () =>
      apiClient.POST('/api/applications/{applicationId}/roles', {
        params: { path: { applicationId: app.id } },
        body: { roleIds: [role.id] },
      })
    );
    const data = expectStatus(result, 201, 'POST /api/applications/{applicationId}/roles');
    // @logto/api types this 201 body as {roleIds, addedRoleIds}.
    assert(
      data && Array.isArray(data.roleIds) && data.roleIds.includes(role.id),
      `response must be {roleIds, addedRoleIds} containing the role, got ${show(data)}`
    );
    assert(
      Array.isArray(data.addedRoleIds) && data.addedRoleIds.includes(role.id),
      `addedRoleIds must contain the newly assigned role, got ${show(data)}`
    );
  });

  const issued = await step(
    `client_credentials token for the new app (client_secret_basic, resource, scope ${ITEM_SCOPE})`,
    async () => {
      const response = await httpFetch('token request', `${base}/oidc/token`, {
        method: 'POST',
        headers: {
          Authorization: basicAuth(app.id, appSecret),
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          resource: indicator,
          scope: ITEM_SCOPE,
        }).toString(),
      });
      const body = await readJsonResponse(response, 'token response');
      assertEqual(response.status, 200, `token endpoint status (body ${show(body)})`);
      assert(typeof body.access_token === 'string', `access_token missing: ${show(body)}`);
      assert(
        typeof body.token_type === 'string' && body.token_type.toLowerCase() === 'bearer',
        `token_type must be Bearer, got ${show(body.token_type)}`
      );
      assert(
        Number.isInteger(body.expires_in) && body.expires_in > 0,
        `expires_in must be a positive JSON integer, got ${show(body.expires_in)}`
      );
      assertEqual(body.scope, ITEM_SCOPE, 'token response scope');
      return body;
    }
  );

  await step('access token is an ES384 at+jwt signed by a JWKS key, RFC 9068 claims', async () => {
    const parts = issued.access_token.split('.');
    assertEqual(parts.length, 3, 'JWT segment count');
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = decodeSegment(headerPart, 'JWT header');
    const claims = decodeSegment(payloadPart, 'JWT payload');

    assertEqual(header.typ, 'at+jwt', 'JWT header typ');
    assertEqual(header.alg, 'ES384', 'JWT header alg');
    assert(typeof header.kid === 'string' && header.kid, 'JWT header kid missing');

    const jwksResponse = await httpFetch('JWKS', `${base}/oidc/jwks`);
    assertEqual(jwksResponse.status, 200, 'GET /oidc/jwks status');
    const jwks = await readJsonResponse(jwksResponse, 'JWKS');
    assert(Array.isArray(jwks.keys), `JWKS has no keys array: ${show(jwks)}`);
    const candidates = jwks.keys.filter((key) => key.kid === header.kid);
    assertEqual(candidates.length, 1, `number of JWKS keys with kid ${header.kid}`);
    const [jwk] = candidates;
    assertEqual(jwk.kty, 'EC', 'JWK kty');
    assertEqual(jwk.crv, 'P-384', 'JWK crv');
    if (jwk.alg !== undefined) assertEqual(jwk.alg, 'ES384', 'JWK alg');
    if (jwk.use !== undefined) assertEqual(jwk.use, 'sig', 'JWK use');
    assert(!('d' in jwk), 'JWKS leaks a private key component (d)');

    let publicKey;
    try {
      publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    } catch (error) {
      fail(`JWK cannot be imported: ${error.message}`);
    }
    const signature = Buffer.from(signaturePart, 'base64url');
    assertEqual(signature.length, 96, 'ES384 signature length (raw r||s)');
    const valid = crypto.verify(
      'sha384',
      Buffer.from(`${headerPart}.${payloadPart}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      signature
    );
    assert(valid, 'ES384 signature does not verify with the JWKS key');

    assertEqual(claims.iss, discovery.issuer, 'claim iss (must equal the discovery issuer)');
    assertEqual(claims.sub, app.id, 'claim sub');
    assertEqual(claims.client_id, app.id, 'claim client_id');
    assertEqual(claims.aud, indicator, 'claim aud (a string, the resource indicator)');
    assertEqual(claims.scope, ITEM_SCOPE, 'claim scope');
    assert(Number.isInteger(claims.iat), `claim iat must be an integer, got ${show(claims.iat)}`);
    assert(Number.isInteger(claims.exp), `claim exp must be an integer, got ${show(claims.exp)}`);
    assert(claims.exp > claims.iat, 'claim exp must be after iat');
    const now = Math.floor(Date.now() / 1000);
    assert(Math.abs(claims.iat - now) <= 300, `claim iat is ${claims.iat - now} s away from now`);
    assert(typeof claims.jti === 'string' && claims.jti, 'claim jti missing');
  });

  await step('list applications with page=1&page_size=20 (Total-Number header)', async () => {
    const result = await sdk('GET /api/applications', () =>
      apiClient.GET('/api/applications', { params: { query: { page: 1, page_size: 20 } } })
    );
    const data = expectStatus(result, 200, 'GET /api/applications');
    assert(Array.isArray(data), `applications list must be a JSON array, got ${show(data)}`);
    assert(
      data.some((entry) => entry?.id === app.id),
      `new application ${app.id} not in the first page: ${show(data.map((entry) => entry?.id))}`
    );
    assert(data.length <= 20, `page_size=20 returned ${data.length} items`);
    const total = result.response.headers.get('total-number');
    assert(total !== null, 'Total-Number header missing on a paginated list');
    assert(/^\d+$/.test(total) && Number(total) >= data.length, `bad Total-Number ${show(total)}`);
  });

  await step('no Authorization → 401 auth.authorization_header_missing', async () => {
    const response = await httpFetch('unauthenticated call', `${base}/api/applications`);
    const body = await readJsonResponse(response, 'unauthenticated error');
    assertEqual(response.status, 401, `status (body ${show(body)})`);
    assertEqual(body.code, 'auth.authorization_header_missing', 'error code');
    assert(typeof body.message === 'string', 'error message missing');
  });

  await step('token for another resource on /api → 401 auth.unauthorized', async () => {
    const response = await httpFetch('wrong-audience call', `${base}/api/applications`, {
      headers: { Authorization: `Bearer ${issued.access_token}` },
    });
    const body = await readJsonResponse(response, 'wrong-audience error');
    assertEqual(response.status, 401, `status (body ${show(body)})`);
    assertEqual(body.code, 'auth.unauthorized', 'error code');
    assert(typeof body.message === 'string', 'error message missing');
  });

  console.log(`PASS mapi: all ${passed} steps`);
};

try {
  await main();
} catch (error) {
  const reason = error instanceof CheckError ? error.message : error?.stack ?? String(error);
  console.error(`FAIL mapi: ${currentStep}: ${reason}`);
  process.exit(1);
}
