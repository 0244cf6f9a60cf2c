// Apache's mod_auth_openidc (Debian's libapache2-mod-auth-openidc), configured as its documentation says, against
// a boltauth with the server's defaults, driven through Debian's chromium.
// Usage: node mod_auth_openidc.mjs <scenario>   (env: BOLTAUTH_BINARY, ARTIFACT_DIR)
//   canonical_basic: client_id = the canonical id (`oidc id:`), client_secret_basic
//   full_key_post:   client_id = the full publishable key, client_secret_post
// Each scenario: login through the RP, the claims page of the app behind it, a refresh through the RP (its refresh
// hook), and the RP's resource-server mode (token introspection) with the access token it holds.
// Apache runs with `-f <own config> -DFOREGROUND` on a free port, with its ServerRoot, PidFile and logs in a temp dir.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync, readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { startBoltauth, createClient, launch, shot, logIn } from './lib.mjs';

const scenario = process.argv[2];
const scenarios = {
  canonical_basic: { spelling: 'canonical', auth: 'client_secret_basic' },
  full_key_post: { spelling: 'full', auth: 'client_secret_post' },
};
if (!scenarios[scenario]) {
  console.error(`usage: node mod_auth_openidc.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
const { spelling, auth } = scenarios[scenario];
const modules = '/usr/lib/apache2/modules';

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// The app behind the RP: a CGI that shows what mod_auth_openidc passed on (claims as OIDC_CLAIM_* variables).
const claimsCgi = `#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep -E '^(OIDC_CLAIM_|OIDC_access_token=|OAUTH2_CLAIM_)' | sort
`;

// mod_auth_openidc takes an introspection endpoint only as an https URL: Apache terminates TLS in front of boltauth
// on a second port (mod_ssl + mod_proxy, a throwaway self-signed certificate), as a deployment's TLS proxy would.
function apacheConfig(dir, port, tlsPort, issuer, clientId, secret) {
  const redirect = `http://127.0.0.1:${port}/protected/redirect_uri`;
  return `ServerRoot "${dir}"
PidFile "${dir}/httpd.pid"
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
Listen 127.0.0.1:${port}
ServerName 127.0.0.1
DefaultRuntimeDir "${dir}"
${process.getuid() === 0 ? 'User www-data\nGroup www-data' : '# not root: the children keep our user'}
LoadModule mpm_prefork_module ${modules}/mod_mpm_prefork.so
LoadModule authz_core_module ${modules}/mod_authz_core.so
LoadModule authn_core_module ${modules}/mod_authn_core.so
LoadModule authz_user_module ${modules}/mod_authz_user.so
LoadModule mime_module ${modules}/mod_mime.so
LoadModule alias_module ${modules}/mod_alias.so
LoadModule cgi_module ${modules}/mod_cgi.so
LoadModule env_module ${modules}/mod_env.so
LoadModule auth_openidc_module ${modules}/mod_auth_openidc.so
LoadModule socache_shmcb_module ${modules}/mod_socache_shmcb.so
LoadModule ssl_module ${modules}/mod_ssl.so
LoadModule proxy_module ${modules}/mod_proxy.so
LoadModule proxy_http_module ${modules}/mod_proxy_http.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
TypesConfig /etc/mime.types
DocumentRoot "${dir}/htdocs"

# mod_auth_openidc as its documentation configures it: discovery, client credentials, PKCE; nothing boltauth-specific.
OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
OIDCClientID ${clientId}
OIDCClientSecret ${secret}
OIDCProviderTokenEndpointAuth ${auth}
OIDCRedirectURI ${redirect}
OIDCCryptoPassphrase ${randomBytes(16).toString('hex')}
OIDCScope "openid email bolt.account.view"
OIDCPKCEMethod S256
OIDCSSLValidateServer Off
OIDCInfoHook access_token refresh_token id_token userinfo
OIDCStateInputHeaders none

# Resource-server mode: bearer tokens checked by RFC 7662 introspection.
OIDCOAuthIntrospectionEndpoint https://127.0.0.1:${tlsPort}/v1/oauth/introspect
OIDCOAuthClientID ${clientId}
OIDCOAuthClientSecret ${secret}
OIDCOAuthIntrospectionEndpointAuth ${auth}
OIDCOAuthSSLValidateServer Off

ScriptAlias /protected/claims "${dir}/cgi/claims"
ScriptAlias /api/claims "${dir}/cgi/claims"
Listen 127.0.0.1:${tlsPort}
<VirtualHost 127.0.0.1:${tlsPort}>
  SSLEngine on
  SSLCertificateFile "${dir}/tls.crt"
  SSLCertificateKeyFile "${dir}/tls.key"
  ProxyPass / ${issuer}/
</VirtualHost>

<Location /protected/>
  AuthType openid-connect
  Require valid-user
</Location>
<Location /api/>
  AuthType oauth20
  Require valid-user
</Location>
`;
}

async function startApache(dir, port) {
  const child = spawn('/usr/sbin/apache2', ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOG_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_PID_FILE: path.join(dir, 'httpd.pid') },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apache2 exited ${child.exitCode}:\n${out}\n${errorLog(dir)}`);
    try {
      await new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(); });
        s.on('error', reject);
      });
      return child;
    } catch {
      if (Date.now() > deadline) throw new Error(`apache2 did not listen:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function errorLog(dir) {
  const f = path.join(dir, 'error.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  // apache2 -DFOREGROUND: SIGTERM stops the parent and its children.
  const done = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await done;
  clearTimeout(timer);
}

function parseClaims(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), `boltauth-rp-${scenario}-`));
  const dataDir = path.join(work, 'data');
  const apacheDir = path.join(work, 'apache');
  let boltauth, apache, context;
  try {
    boltauth = await startBoltauth(dataDir);
    const port = await freePort();
    const redirect = `http://127.0.0.1:${port}/protected/redirect_uri`;
    const client = createClient(dataDir, [redirect]);
    // `client create` names both spellings: the full key (client_id) and the canonical id (oidc_client_id).
    assert.equal(client.oidc_client_id, client.client_id.split('.').pop());
    const clientId = spelling === 'canonical' ? client.oidc_client_id : client.client_id;

    mkdirSync(path.join(apacheDir, 'htdocs'), { recursive: true });
    // Started as root, Apache's children run as www-data (Debian's): they must reach the CGI.
    for (const d of [work, apacheDir]) chmodSync(d, 0o755);
    mkdirSync(path.join(apacheDir, 'cgi'), { recursive: true });
    writeFileSync(path.join(apacheDir, 'cgi', 'claims'), claimsCgi);
    chmodSync(path.join(apacheDir, 'cgi', 'claims'), 0o755);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-keyout', path.join(apacheDir, 'tls.key'), '-out', path.join(apacheDir, 'tls.crt')], { stdio: 'ignore' });
    const tlsPort = await freePort();
    writeFileSync(path.join(apacheDir, 'httpd.conf'),
      apacheConfig(apacheDir, port, tlsPort, boltauth.base, clientId, client.client_secret));
    apache = await startApache(apacheDir, port);
    console.log('apache2 listening on', port, 'boltauth', boltauth.base);
    const rp = `http://127.0.0.1:${port}`;

    context = await launch(path.join(work, 'profile'));
    const page = context.pages()[0] || (await context.newPage());

    // 1. Login through the RP: it redirects to boltauth's authorization endpoint, we log in with an emailed code,
    //    and it exchanges the code at the token endpoint discovery advertises (no scope, PKCE, ${auth}).
    const email = `rp-${scenario.replace(/_/g, '-')}@example.com`;
    await page.goto(`${rp}/protected/claims`);
    console.log('at', page.url());
    await page.getByLabel('Email address').waitFor({ timeout: 15000 }).catch(async (e) => {
      throw new Error(`${e.message}\nat ${page.url()}\n${await page.content()}`);
    });
    assert.ok(page.url().startsWith(boltauth.base + '/v1/oauth/authorize'), page.url());
    console.log('step:', 'await logIn(page, dataDir, ema');
    await logIn(page, dataDir, email);
    await page.waitForURL(`${rp}/protected/claims`, { timeout: 15000 }).catch(async (e) => {
      throw new Error(`${e.message}\nat ${page.url()}\n${await page.content()}\n${errorLog(apacheDir)}`);
    });
    console.log('step:', 'const claims = parseClaims(');
    const claims = parseClaims(await page.locator('body').innerText());
    await shot(page, `mod_auth_openidc-${scenario}-claims`);
    assert.equal(claims.OIDC_CLAIM_email, email, JSON.stringify(claims));
    assert.equal(claims.OIDC_CLAIM_iss, boltauth.base);
    assert.ok(claims.REMOTE_USER && claims.REMOTE_USER.endsWith('@' + boltauth.base), claims.REMOTE_USER);
    // aud/azp as OIDC Core 3.1.3.7 lets this RP accept them for the spelling it was configured with.
    assert.equal(claims.OIDC_CLAIM_azp, clientId);
    const aud = claims.OIDC_CLAIM_aud.split(',');
    assert.ok(aud.includes(clientId) && aud.includes(client.oidc_client_id), claims.OIDC_CLAIM_aud);

    // 2. What the RP holds (its info hook): access and refresh tokens, id_token claims.
    const info = async () => {
      const res = await page.request.get(`${redirect}?info=json`);
      assert.equal(res.status(), 200, await res.text());
      return res.json();
    };
    console.log('step:', 'const before = await info();');
    const before = await info();
    assert.ok(before.access_token && before.refresh_token, JSON.stringify(before));

    // 3. Refresh through the RP (its refresh hook): it re-sends the granted scope, gets a new id_token and
    //    validates it, and keeps the session.
    await page.goto(`${redirect}?refresh=${encodeURIComponent('/protected/claims')}&access_token=${encodeURIComponent(before.access_token)}`);
    await page.waitForURL(`${rp}/protected/claims`, { timeout: 15000 });
    assert.equal(parseClaims(await page.locator('body').innerText()).OIDC_CLAIM_email, email);
    console.log('step:', 'const after = await info();');
    const after = await info();
    assert.notEqual(after.access_token, before.access_token, 'the RP did not refresh: ' + errorLog(apacheDir));
    assert.notEqual(after.refresh_token, before.refresh_token);
    assert.equal(after.id_token.sub, before.id_token.sub);
    assert.ok(!/refresh.*(failed|error)/i.test(errorLog(apacheDir)), errorLog(apacheDir));

    // 4. Resource-server mode: the refreshed access token passes introspection, a made-up one does not.
    console.log('step:', 'const api = await page.request');
    const api = await page.request.get(`${rp}/api/claims`, { headers: { Authorization: `Bearer ${after.access_token}` }, timeout: 15000 });
    assert.equal(api.status(), 200, await api.text());
    const rs = parseClaims(await api.text());
    assert.equal(rs.REMOTE_USER, before.id_token.sub, JSON.stringify(rs));
    assert.match(rs.OAUTH2_CLAIM_scope, /bolt\.account\.view/);
    const bogus = await page.request.get(`${rp}/api/claims`, { headers: { Authorization: 'Bearer not-a-token' }, timeout: 15000 });
    assert.equal(bogus.status(), 401);
    console.log(`mod_auth_openidc ${scenario}: every check passed`);
  } catch (e) {
    console.error('apache2 error log:\n' + errorLog(apacheDir));
    throw e;
  } finally {
    if (context) await context.close().catch(() => {});
    await stop(apache);
    await stop(boltauth && boltauth.child);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
