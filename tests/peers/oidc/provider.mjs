// A minimal, real oidc-provider@8 (panva) for credaudit's peer tests (reference §5):
// client_credentials with JWT access tokens (RS256, typ at+jwt), introspection, discovery
// and /jwks, on 127.0.0.1 only. Keys are generated at start-up with node:crypto.
//
// usage: node provider.mjs PORT TTL_SECONDS   (env OIDC_PROVIDER_MODULE: path to its index.js,
//        OIDC_CLIENT_SECRET: the one client's secret)
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const port = Number(process.argv[2]);
const ttl = Number(process.argv[3] || 600);
const { default: Provider } = await import(pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = privateKey.export({ format: 'jwk' });
jwk.kid = 'peer-rs256';
jwk.alg = 'RS256';
jwk.use = 'sig';

const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:credaudit:api';
// A second resource gets opaque tokens: oidc-provider stores those and introspects them
// (its JWT access tokens are not stored, so its introspection answers active: false).
const opaqueResource = 'urn:credaudit:opaque';
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'credaudit-client',
    client_secret: process.env.OIDC_CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'read write',
  }],
  jwks: { keys: [jwk] },
  scopes: ['read', 'write'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => (indicator === opaqueResource
        ? { scope: 'read write', audience: opaqueResource, accessTokenTTL: ttl, accessTokenFormat: 'opaque' }
        : {
          scope: 'read write',
          audience: resource,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
    },
  },
});
provider.listen(port, '127.0.0.1');
