// The benchmark peer (issue 6): npm's oidc-provider doing the same work as boltauth (refresh rotation on,
// RS256 id_tokens, opaque access tokens, client_secret_post), in memory (its default adapter: no durability).
// Seeds refresh tokens, codes and access tokens in-process (not through HTTP) and writes them to SEED_FILE in
// the load generator's `key value` format, then prints "listening on http://HOST:PORT".
// Usage: node server.mjs PORT SEED_FILE [REFRESH] [CODES] [ACCESS]
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const [port, seedFile, nRefresh = '256', nCodes = '0', nAccess = '256'] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const clientId = 'bench';
const clientSecret = 'bench-secret-0123456789abcdef0123456789abcdef';
const redirectUri = 'https://bench.example/cb';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };

// An unbounded in-memory adapter: oidc-provider's development adapter is an LRU of 1,000 entries, which would
// evict seeded tokens and codes. Nothing expires during a run, so nothing is swept.
const store = new Map();
const byGrant = new Map();
class MemoryAdapter {
  constructor(name) { this.name = name; }

  key(id) { return `${this.name}:${id}`; }

  async upsert(id, payload) {
    const key = this.key(id);
    store.set(key, payload);
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, []);
      byGrant.get(payload.grantId).push(key);
    }
  }

  async find(id) { return store.get(this.key(id)); }

  async findByUid(uid) {
    for (const [key, value] of store) if (key.startsWith(`${this.name}:`) && value.uid === uid) return value;
    return undefined;
  }

  async findByUserCode() { return undefined; }

  async consume(id) {
    const payload = store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) ?? []) store.delete(key);
    byGrant.delete(grantId);
  }
}

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  features: {
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  scopes: ['openid', 'offline_access', 'account.view'],
  rotateRefreshToken: true, // rotation on, as boltauth (RFC 9700 section 4.14.2)
  issueRefreshToken: async () => true,
  pkce: { required: () => false },
  ttl: { Grant: 30 * 86400 },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: 'bench@example.com' }) }),
});
provider.proxy = false;

const client = await provider.Client.find(clientId);
const now = Math.floor(Date.now() / 1000);
const lines = [`client_id ${clientId}`, `client_secret ${clientSecret}`];
for (let i = 0; i < Number(nRefresh); i += 1) {
  const grant = new provider.Grant({ accountId: `acct-${i}`, clientId });
  grant.addOIDCScope('offline_access account.view');
  const grantId = await grant.save();
  const rt = new provider.RefreshToken({
    client, accountId: `acct-${i}`, grantId, gty: 'authorization_code', scope: 'offline_access account.view',
    authTime: now, expiresIn: 30 * 86400,
  });
  lines.push(`refresh_token ${await rt.save()}`);
}
for (let i = 0; i < Number(nCodes); i += 1) {
  const grant = new provider.Grant({ accountId: `acct-c${i}`, clientId });
  grant.addOIDCScope('openid account.view');
  const grantId = await grant.save();
  const code = new provider.AuthorizationCode({
    client, accountId: `acct-c${i}`, grantId, scope: 'openid account.view', redirectUri, authTime: now,
    expiresIn: 86400,
  });
  lines.push(`code ${await code.save()}`);
}
if (Number(nAccess) > 0) {
  const grant = new provider.Grant({ accountId: 'acct-a', clientId });
  grant.addOIDCScope('openid account.view');
  const grantId = await grant.save();
  for (let i = 0; i < Number(nAccess); i += 1) {
    const at = new provider.AccessToken({
      client, accountId: 'acct-a', grantId, scope: 'openid account.view', expiresIn: 86400,
    });
    lines.push(`access_token ${await at.save()}`);
  }
}
writeFileSync(seedFile, `${lines.join('\n')}\n`);
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${issuer}`));
