// Apache's mod_auth_openidc (Debian's libapache2-mod-auth-openidc), configured as its documentation says, against
// a boltauth with the server's defaults, driven through Debian's chromium.
// Usage: node mod_auth_openidc.mjs <scenario>   (env: BOLTAUTH_BINARY, ARTIFACT_DIR)
//   canonical_basic: client_id = the canonical id (`oidc id:`), client_secret_basic
//   full_key_post:   client_id = the full publishable key, client_secret_post
// Each scenario: login through the RP, the claims page of the app behind it, a refresh through the RP (its refresh
// hook), and the RP's resource-server mode (RFC 7662 token introspection, authenticated the scenario's way): the
// access token it holds gets the protected page, the same token once revoked (RFC 7009) and a made-up one get 401.
// Apache runs with `-f <own config> -DFOREGROUND` on a free port, with its ServerRoot, PidFile and logs in a temp dir,
// in a process group of its own: on SIGTERM, prefork's parent signals its whole process group (killpg), which
// would otherwise be ours (and our caller's, ctest's).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync, readFileSync, readdirSync, existsSync } from 'node:fs';
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
// The whole run, cleanup included, ends before ctest's TIMEOUT (180 s) would kill us without a cleanup.
const deadlineMs = 150000;

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
env | grep -E '^(OIDC_CLAIM_|OIDC_access_token=)' | sort
`;

// mod_auth_openidc takes an introspection endpoint only as an https URL: Apache terminates TLS in front of boltauth
// on a second port (mod_ssl + mod_proxy, a throwaway self-signed certificate), as a deployment's TLS proxy would.
// That front logs, per request, whether it carried HTTP Basic credentials (introspect.log), so the test can tell
// client_secret_basic from client_secret_post without logging any secret.
function apacheConfig(dir, port, tlsPort, issuer, introspectionPath, clientId, secret) {
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
LoadModule setenvif_module ${modules}/mod_setenvif.so
# A request to /api/ holds one child while mod_auth_openidc calls the TLS front, served by another child of this same
# server: keep idle children at hand rather than wait for prefork to spawn one (at most one a second).
StartServers 4
MinSpareServers 3
MaxSpareServers 6
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
# The endpoint is discovery's introspection_endpoint behind the TLS front. The introspection call has settings of its
# own (OIDCOAuth*, nothing taken from the OIDC* ones above): the same client, credentials and auth method.
# Off: the front's certificate is a throwaway self-signed one. Interval -1: no cache of introspection results,
# every request is introspected, so a revoked token is refused at once (the default caches them until their exp).
# A 10 s cap on the module's calls (default 60 s): a failure shows well within the test's time.
OIDCOAuthIntrospectionEndpoint https://127.0.0.1:${tlsPort}${introspectionPath}
OIDCOAuthClientID ${clientId}
OIDCOAuthClientSecret ${secret}
OIDCOAuthIntrospectionEndpointAuth ${auth}
OIDCOAuthSSLValidateServer Off
OIDCOAuthTokenIntrospectionInterval -1
OIDCHTTPTimeoutLong 10

ScriptAlias /protected/claims "${dir}/cgi/claims"
ScriptAlias /api/claims "${dir}/cgi/claims"
Listen 127.0.0.1:${tlsPort}
<VirtualHost 127.0.0.1:${tlsPort}>
  SSLEngine on
  SSLCertificateFile "${dir}/tls.crt"
  SSLCertificateKeyFile "${dir}/tls.key"
  ProxyPass / ${issuer}/
  SetEnvIf Authorization "^Basic " INTROSPECT_BASIC=yes
  CustomLog "${dir}/introspect.log" "%m %U %>s basic=%{INTROSPECT_BASIC}e"
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
    detached: true, // a process group of its own (see the top of this file)
    env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOG_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_PID_FILE: path.join(dir, 'httpd.pid') },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const deadline = Date.now() + 20000;
  guard(child.pid, true, workDir);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apache2 exited ${child.exitCode}:\n${out}\n${errorLog(dir)}`);
    try {
      await new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(); });
        s.on('error', reject);
      });
      return child;
    } catch {
      if (Date.now() > deadline) {
        await stop(child, true);
        throw new Error(`apache2 did not listen:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function errorLog(dir, name = 'error.log') {
  const f = path.join(dir, name);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

// --- cleanup ------------------------------------------------------------------------------------------------
// What we started and have not stopped yet: pid -> { group, watcher }. However the run ends (its end, an error,
// SIGINT/SIGTERM/SIGHUP, the deadline below), chromium is closed (bounded), these get SIGKILL and the temp dir goes.
// For the one end no handler sees (SIGKILL, e.g. a harness's timeout), each is also watched by a detached shell that
// kills it once this process is gone. Chromium needs no watcher: it exits when its pipe to Playwright closes.
const running = new Map();
let browser = null; // the chromium context while it is open
let workDir = null;
const profileDir = () => path.join(workDir, 'profile');

// Chromium's processes on our profile (its temp dir is in their command line): they may still be writing to it a
// moment after a close that Playwright's own signal handlers started.
function chromiumPids(profile) {
  const pids = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--user-data-dir=${profile}\0`)) pids.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function chromiumGone(profile, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end && chromiumPids(profile).length;) await sleep(100);
  for (const pid of chromiumPids(profile)) signal(pid, false, 'SIGKILL');
}

function removeWorkDir() {
  if (!workDir) return;
  for (const pid of chromiumPids(profileDir())) signal(pid, false, 'SIGKILL');
  try {
    rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (e) {
    console.error(`could not remove ${workDir}: ${e.message}`);
  }
  workDir = null;
}

function signal(pid, group, sig) {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // already gone
  }
}

// `dir`: removed too, after the kill (the temp dir, given to the last watcher).
function guard(pid, group, dir = '') {
  // dash's kill takes no `--`: a negative pid right after the signal is the process group.
  const watcher = spawn('/bin/sh', ['-c',
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null; sleep 3; kill -KILL "$2" 2>/dev/null; ' +
    'if [ -n "$3" ]; then rm -rf "$3"; fi',
    'guard', String(process.pid), group ? `-${pid}` : String(pid), dir], { detached: true, stdio: 'ignore' });
  watcher.unref();
  running.set(pid, { group, watcher: watcher.pid });
}

function killAllNow() {
  for (const [pid, { group, watcher }] of running) {
    signal(pid, group, 'SIGKILL');
    signal(watcher, true, 'SIGKILL');
  }
  running.clear();
}

process.on('exit', () => {
  killAllNow();
  removeWorkDir();
});

let aborting = false;
async function abort(code, why) {
  if (aborting) return;
  aborting = true;
  console.error(`mod_auth_openidc ${scenario}: ${why}: stopping chromium, apache2 and boltauth`);
  if (browser) await within(5000, 'closing chromium', browser.close()).catch(() => {});
  if (workDir) await chromiumGone(profileDir());
  process.exit(code); // the exit handler above does the rest
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => abort(128 + os.constants.signals[sig], sig));

// SIGTERM, then SIGKILL after `ms`; resolves once the process is gone (its group too, for apache2: its children,
// CGIs included, are in it). Never waits longer than `ms` + 2 s.
async function stop(child, group, ms = 10000) {
  if (!child) return;
  const entry = running.get(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    const done = new Promise((r) => child.once('exit', r));
    signal(child.pid, group, 'SIGTERM');
    const killed = await Promise.race([done.then(() => false), sleep(ms).then(() => true)]);
    if (killed) {
      console.error(`pid ${child.pid} ignored SIGTERM for ${ms} ms: SIGKILL`);
      signal(child.pid, group, 'SIGKILL');
      await Promise.race([done, sleep(2000)]);
    }
  }
  // Stragglers of the group (a child the parent did not reap in time).
  if (group) signal(child.pid, true, 'SIGKILL');
  if (entry) signal(entry.watcher, true, 'SIGKILL');
  running.delete(child.pid);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Rejects with `what` when `promise` takes longer than `ms`.
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// The lines of the TLS front's log once it has `n` (a child writes its line after it answered): one per call.
async function introspections(dir, n) {
  const lines = () => errorLog(dir, 'introspect.log').split('\n').filter(Boolean);
  for (const end = Date.now() + 3000; Date.now() < end && lines().length < n;) await sleep(50);
  return lines();
}

// A request of the resource server's client (not the browser's: no cookies, only what we set).
async function get(url, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(20000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// RFC 7009 revocation, authenticated as the scenario says.
async function revoke(endpoint, clientId, secret, token) {
  const body = new URLSearchParams({ token, token_type_hint: 'access_token' });
  const headers = {};
  if (auth === 'client_secret_basic') {
    const e = encodeURIComponent;
    headers.authorization = 'Basic ' + Buffer.from(`${e(clientId)}:${e(secret)}`).toString('base64');
  } else {
    body.set('client_id', clientId);
    body.set('client_secret', secret);
  }
  const res = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(20000) });
  assert.equal(res.status, 200, await res.text());
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
  workDir = work;
  const dataDir = path.join(work, 'data');
  const apacheDir = path.join(work, 'apache');
  let boltauth, apache, context;
  try {
    boltauth = await startBoltauth(dataDir);
    guard(boltauth.child.pid, false);
    const discovery = await (await fetch(`${boltauth.base}/.well-known/openid-configuration`)).json();
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
    const introspectionPath = new URL(discovery.introspection_endpoint).pathname;
    writeFileSync(path.join(apacheDir, 'httpd.conf'),
      apacheConfig(apacheDir, port, tlsPort, boltauth.base, introspectionPath, clientId, client.client_secret));
    apache = await startApache(apacheDir, port);
    console.log('apache2 listening on', port, 'boltauth', boltauth.base);
    const rp = `http://127.0.0.1:${port}`;

    context = browser = await launch(profileDir());
    const page = context.pages()[0] || (await context.newPage());

    // 1. Login through the RP: it redirects to boltauth's authorization endpoint, we log in with an emailed code,
    //    and it exchanges the code at the token endpoint discovery advertises (no scope, PKCE, ${auth}).
    const email = `rp-${scenario.replace(/_/g, '-')}@example.com`;
    await page.goto(`${rp}/protected/claims`);
    await page.getByLabel('Email address').waitFor({ timeout: 15000 }).catch(async (e) => {
      throw new Error(`${e.message}\nat ${page.url()}\n${await page.content()}`);
    });
    assert.ok(page.url().startsWith(boltauth.base + '/v1/oauth/authorize'), page.url());
    await logIn(page, dataDir, email);
    await page.waitForURL(`${rp}/protected/claims`, { timeout: 15000 }).catch(async (e) => {
      throw new Error(`${e.message}\nat ${page.url()}\n${await page.content()}\n${errorLog(apacheDir)}`);
    });
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
    const before = await info();
    assert.ok(before.access_token && before.refresh_token, JSON.stringify(before));

    // 3. Refresh through the RP (its refresh hook): it re-sends the granted scope, gets a new id_token and
    //    validates it, and keeps the session.
    await page.goto(`${redirect}?refresh=${encodeURIComponent('/protected/claims')}&access_token=${encodeURIComponent(before.access_token)}`);
    await page.waitForURL(`${rp}/protected/claims`, { timeout: 15000 });
    assert.equal(parseClaims(await page.locator('body').innerText()).OIDC_CLAIM_email, email);
    const after = await info();
    assert.notEqual(after.access_token, before.access_token, 'the RP did not refresh: ' + errorLog(apacheDir));
    assert.notEqual(after.refresh_token, before.refresh_token);
    assert.equal(after.id_token.sub, before.id_token.sub);
    assert.ok(!/refresh.*(failed|error)/i.test(errorLog(apacheDir)), errorLog(apacheDir));

    // 4. Resource-server mode (AuthType oauth20): the RP's refreshed access token, sent as a Bearer token by a client
    //    of the API, is introspected (${auth}) and the app gets the claims of the introspection response.
    const api = `${rp}/api/claims`;
    const ok = await get(api, { authorization: `Bearer ${after.access_token}` });
    assert.equal(ok.status, 200, ok.text + '\n' + errorLog(apacheDir));
    const rs = parseClaims(ok.text);
    assert.equal(rs.REMOTE_USER, after.id_token.sub, JSON.stringify(rs));
    assert.equal(rs.OIDC_CLAIM_sub, after.id_token.sub);
    assert.equal(rs.OIDC_CLAIM_active, '1');
    assert.equal(rs.OIDC_CLAIM_iss, boltauth.base);
    assert.equal(rs.OIDC_CLAIM_token_type, 'bearer');
    assert.deepEqual(rs.OIDC_CLAIM_scope.split(' ').sort(), ['bolt.account.view', 'email', 'openid'], rs.OIDC_CLAIM_scope);
    assert.ok([clientId, client.oidc_client_id].includes(rs.OIDC_CLAIM_client_id), rs.OIDC_CLAIM_client_id);
    assert.equal(rs.OIDC_access_token, after.access_token);
    // It was one introspection call through the TLS front, authenticated the scenario's way (boltauth answers 401
    // to a call without client authentication, so a 200 without Basic means the credentials were in the body).
    const call = `POST ${introspectionPath} 200 basic=${auth === 'client_secret_basic' ? 'yes' : '-'}`;
    assert.deepEqual(await introspections(apacheDir, 1), [call]);

    //    Refused with 401 and a Bearer challenge (RFC 6750 section 3): no token, a made-up one, and the same access
    //    token once revoked at boltauth's revocation endpoint.
    const refused = async (why, headers) => {
      const res = await get(api, headers);
      assert.equal(res.status, 401, `${why}: ${res.status} ${res.text}`);
      assert.match(res.headers.get('www-authenticate') || '', /^Bearer /i, why);
      assert.ok(!res.text.includes('REMOTE_USER='), `${why}: the app ran`);
      return res;
    };
    await refused('no token', {});
    const garbage = await refused('made-up token', { authorization: 'Bearer not-a-token' });
    assert.match(garbage.headers.get('www-authenticate'), /invalid_token/);
    await revoke(discovery.revocation_endpoint, clientId, client.client_secret, after.access_token);
    const revoked = await refused('revoked token', { authorization: `Bearer ${after.access_token}` });
    assert.match(revoked.headers.get('www-authenticate'), /invalid_token/);
    // Both were introspected (boltauth said {"active":false}), none without a token.
    assert.deepEqual(await introspections(apacheDir, 3), [call, call, call]);
    console.log(`mod_auth_openidc ${scenario}: every check passed`);
  } catch (e) {
    console.error('apache2 error log:\n' + errorLog(apacheDir));
    throw e;
  } finally {
    if (context) await within(15000, 'closing chromium', context.close()).catch((e) => console.error(e.message));
    browser = null;
    await chromiumGone(profileDir());
    await stop(apache, true);
    await stop(boltauth && boltauth.child, false);
    removeWorkDir();
  }
}

setTimeout(() => abort(1, `no end after ${deadlineMs} ms`), deadlineMs).unref();
main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
