// The benchmark peer: oidc-provider (the engine Logto runs) in memory, configured like Kido's
// bench tenant, so both servers answer the same client_credentials request with the same claims.
//
//   PORT=3000 ALG=ES384 CLIENT_ID=… CLIENT_SECRET=… [RESOURCE=https://api.example.com] node server.mjs
//
// * issuer http://127.0.0.1:$PORT/oidc; the provider is mounted under /oidc by a node:http
//   wrapper (discovery /oidc/.well-known/openid-configuration, JWKS /oidc/jwks, token /oidc/token);
// * GET /api/status answers 204, so both servers' cold start is measured the same way;
// * one client: client_credentials only, client_secret_basic, no response types;
// * resource indicators with defaultResource = $RESOURCE; JWT access tokens signed with $ALG;
// * ALG: ES384 (P-384), ES256 (P-256) or RS256 (RSA-2048), a key generated here with node:crypto;
// * in-memory adapter (the default), devInteractions off, no per-request logging.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const PORT = Number.parseInt(process.env.PORT ?? '3000', 10);
const ALG = process.env.ALG ?? 'ES384';
const CLIENT_ID = process.env.CLIENT_ID ?? 'bench';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'bench-secret-0123456789';
const RESOURCE = process.env.RESOURCE ?? 'https://api.example.com';
const MOUNT = '/oidc';
const ISSUER = `http://127.0.0.1:${PORT}${MOUNT}`;

function signingKey(alg) {
  let pair;
  switch (alg) {
    case 'ES384':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      break;
    case 'ES256':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'RS256':
      pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    default:
      throw new Error(`unsupported ALG ${alg} (ES384, ES256 or RS256)`);
  }
  return { ...pair.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: randomUUID() };
}

const provider = new Provider(ISSUER, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: ALG,
    },
  ],
  jwks: { keys: [signingKey(ALG)] },
  enabledJWA: {
    idTokenSigningAlgValues: [ALG],
  },
  // What the resource server's accessTokenTTL gives anyway; set to silence the startup notice.
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: () => ({
        scope: 'read',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: ALG } },
      }),
    },
  },
});
// Koa logs unhandled errors to stderr; a benchmark wants no logging on the request path.
provider.silent = true;

const oidc = provider.callback();

const server = http.createServer((req, res) => {
  const { url } = req;
  if (url === MOUNT || url.startsWith(`${MOUNT}/`) || url.startsWith(`${MOUNT}?`)) {
    // What express/koa-mount do: the provider derives its mount path from originalUrl - url.
    req.originalUrl = url;
    req.url = url.slice(MOUNT.length) || '/';
    oidc(req, res);
    return;
  }
  if (req.method === 'GET' && (url === '/api/status' || url.startsWith('/api/status?'))) {
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});
server.keepAliveTimeout = 65_000;

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${ISSUER} (alg ${ALG}, node ${process.version})\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
