// npm's openid-client drives boltauth: discovery, code exchange with PKCE (the code comes from the harness, bound
// to the challenge of a verifier it chose), id_token validation (signature against the JWKS from discovery, iss,
// aud, azp, exp, iat, nonce, at_hash), userinfo (GET header and POST body), refresh, introspection, revocation.
//
// Usage: node openid_client_flow.js CONFIG_JSON. Exit 0 when every check passed.
'use strict';
const assert = require('node:assert/strict');
const { Issuer, generators } = require('openid-client');

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const issuer = await Issuer.discover(cfg.issuer);
  assert.equal(issuer.metadata.issuer, cfg.issuer);
  assert.ok(issuer.metadata.code_challenge_methods_supported.includes('S256'));
  assert.equal(generators.codeChallenge(cfg.code_verifier), cfg.code_challenge);

  const client = new issuer.Client({
    client_id: cfg.canonical_client_id,
    client_secret: cfg.client_secret,
    redirect_uris: [cfg.redirect_uri],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  });
  // openid-client knows the client by the canonical id (the publishable key's last section), which is the id_token
  // `aud`; the token endpoint accepts it as client_id (contract section 1).
  // Discovery advertises authorization_response_iss_parameter_supported (RFC 9207), so openid-client demands `iss`
  // in the authorization response, as boltauth's authorization endpoint sends it; a wrong one must be refused.
  await assert.rejects(client.callback(cfg.redirect_uri, { code: cfg.code, iss: 'https://evil.example' },
                                       { code_verifier: cfg.code_verifier, nonce: cfg.nonce }),
                       /iss mismatch/);
  const tokenSet = await client.callback(cfg.redirect_uri, { code: cfg.code, iss: cfg.issuer },
                                         { code_verifier: cfg.code_verifier, nonce: cfg.nonce },
                                         { exchangeBody: { scope: cfg.scope } });
  const claims = tokenSet.claims();  // validated by callback()
  assert.equal(claims.iss, cfg.issuer);
  assert.equal(claims.nonce, cfg.nonce);
  assert.ok(tokenSet.refresh_token);

  const info = await client.userinfo(tokenSet);
  assert.equal(info.sub, claims.sub);
  const viaBody = await client.userinfo(tokenSet.access_token, { method: 'POST', via: 'body' });
  assert.equal(viaBody.sub, claims.sub);

  const refreshed = await client.refresh(tokenSet.refresh_token, { exchangeBody: { scope: 'bolt.account.view' } });
  assert.notEqual(refreshed.refresh_token, tokenSet.refresh_token);
  assert.equal(refreshed.id_token, undefined);

  const live = await client.introspect(refreshed.access_token, 'access_token');
  assert.equal(live.active, true);
  assert.equal(live.sub, claims.sub);
  assert.deepEqual(await client.introspect(tokenSet.refresh_token), { active: false });

  await client.revoke(refreshed.refresh_token, 'refresh_token');
  assert.deepEqual(await client.introspect(refreshed.access_token), { active: false });
  console.log('openid-client flow: every check passed');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
