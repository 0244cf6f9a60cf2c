// Real-browser end-to-end tests of the login modal: Debian's chromium driven by playwright-core.
// Usage: node e2e.mjs <scenario>   (env: BOLTAUTH_BINARY, ARTIFACT_DIR)
// Each run starts its own boltauth (port 0, temp data dir), its own merchant site on another origin
// (http://localhost:<port> vs the server's http://127.0.0.1:<port>), and a fresh browser profile.
//
// Against servers that are already running (e.g. several nodes behind a load balancer), set:
//   BOLTAUTH_E2E_BASE             their base URL (the issuer); no boltauth is started then
//   BOLTAUTH_E2E_OUTBOX_DIRS      colon-separated data dirs of the nodes: the code is in the outbox of whichever
//                                 node sent it
//   BOLTAUTH_E2E_STORE_URL        the nodes' store URL, and BOLTAUTH_E2E_MASTER_KEY_FILE its master key file:
//                                 the scenarios' clients are created there with the CLI (BOLTAUTH_BINARY)
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { artifacts, pkce, startBoltauth, createClient, lastOtp, launch, shot, logIn } from './lib.mjs';

const scenario = process.argv[2];
const externalBase = process.env.BOLTAUTH_E2E_BASE?.replace(/\/+$/, '');

// --- the merchant's site, on another origin ---------------------------------------------------------------
async function startMerchant() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/logo.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml' });
      res.end('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30" ' +
        'fill="#0a7d33"/></svg>');
    } else if (url.pathname === '/cb' || url.pathname === '/bye') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>callback</title><p id="cb">${url.search.replace(/</g, '&lt;')}</p>`);
    } else if (url.pathname === '/embed') {
      // The merchant page embeds the modal and waits for its postMessage (Bolt's embedded authorize()).
      const src = url.searchParams.get('src');
      const issuerOrigin = new URL(src).origin;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>shop</title><h1>Shop</h1><pre id="result">waiting</pre>
<iframe id="modal" title="Log in" src="${src.replace(/"/g, '&quot;')}" style="width:420px;height:560px"></iframe>
<script>window.addEventListener('message', function (e) {
  if (e.origin !== ${JSON.stringify(issuerOrigin)}) return;
  document.getElementById('result').textContent = JSON.stringify(e.data);
});</script>`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://localhost:${server.address().port}` };
}

async function redeem(base, client, code, verifier, redirectUri) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, client_id: client.client_id, client_secret: client.client_secret,
    scope: 'openid bolt.account.manage', redirect_uri: redirectUri, code_verifier: verifier,
  });
  const res = await fetch(`${base}/v1/oauth/token`, { method: 'POST', body });
  return { status: res.status, json: await res.json() };
}

function authorizeUrl(base, client, redirectUri, p, extra = {}) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri,
    scope: 'openid bolt.account.manage', state: 'st ' + randomBytes(4).toString('hex'), nonce: 'n1',
    code_challenge: p.challenge, code_challenge_method: 'S256', ...extra,
  });
  return `${base}/v1/oauth/authorize?${q}`;
}

// --- scenarios --------------------------------------------------------------------------------------------
const scenarios = {
  // Redirect mode with PKCE through to tokens, no JavaScript needed by the modal.
  async redirect_flow({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const p = pkce();
    const page = await context.newPage();
    const url = authorizeUrl(base, client, redirectUri, p, { state: 'a%b+c d' });
    await page.goto(url);
    await logIn(page, dataDir, 'redirect@example.com', page);
    await page.waitForURL(`${redirectUri}?**`);
    const params = new URL(page.url()).searchParams;
    assert.equal(params.get('state'), 'a%b+c d');
    assert.equal(params.get('iss'), base);
    const tokens = await redeem(base, client, params.get('code'), p.verifier, redirectUri);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    assert.equal(tokens.json.token_type, 'bearer');
    assert.ok(tokens.json.id_token);
  },

  // web_message in an iframe of a page on another origin.
  async web_message_iframe({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const p = pkce();
    const src = authorizeUrl(base, client, redirectUri, p, { response_mode: 'web_message', state: 'embedded' });
    const page = await context.newPage();
    await page.goto(`${merchant.origin}/embed?src=${encodeURIComponent(src)}`);
    const frame = page.frameLocator('#modal');
    await logIn(frame, dataDir, 'embedded@example.com', null);
    await page.waitForFunction(() => document.getElementById('result').textContent.includes('authorizationCode'));
    // The login was bound to this browser by a partitioned cookie, which the cross-site iframe kept and sent.
    // (A partitioned cookie is listed by context.cookies() without a URL filter, keyed by the merchant's site.)
    const jar = await context.cookies();
    const binding = jar.find((c) => c.name === 'boltauth_login' && base.includes(c.domain));
    assert.ok(binding, 'no boltauth_login cookie in the browser: ' + JSON.stringify(jar));
    assert.equal(binding.sameSite, 'None');
    assert.equal(binding.secure, true);
    const site = new URL(merchant.origin);
    assert.equal(binding.partitionKey, `${site.protocol}//${site.hostname}`);
    await shot(page, 'web-message-iframe-result');
    const result = JSON.parse(await page.locator('#result').textContent());
    // Bolt's embedded authorize() result shape, plus RFC 9207's iss.
    assert.deepEqual(Object.keys(result).sort(), ['authorizationCode', 'iss', 'scope', 'state']);
    assert.equal(result.state, 'embedded');
    assert.equal(result.iss, base);
    const tokens = await redeem(base, client, result.authorizationCode, p.verifier, redirectUri);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  },

  // Five wrong codes lock the code; the right one then fails too.
  async wrong_otp_five_times({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const page = await context.newPage();
    await page.goto(authorizeUrl(base, client, redirectUri, pkce()));
    await page.getByLabel('Email address').fill('wrong@example.com');
    await page.getByRole('button', { name: 'Continue' }).click();
    const code = lastOtp(dataDir, 'wrong@example.com');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 5; i++) {
      await page.getByLabel('One-time code').fill(wrong);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').waitFor();
      const text = await page.getByRole('alert').textContent();
      assert.match(text, /not right/);
      if (i === 1) await shot(page, 'login-3-wrong-otp');
    }
    await page.getByLabel('One-time code').fill(code);
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.match(await page.getByRole('alert').textContent(), /Too many wrong codes/);
    await shot(page, 'login-4-locked-otp');
    assert.ok(page.url().startsWith(base));
  },

  // prompt=none: login_required without a session, a code with one.
  async prompt_none({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const page = await context.newPage();
    const p = pkce();
    await page.goto(authorizeUrl(base, client, redirectUri, p, { prompt: 'none' }));
    await page.waitForURL(`${redirectUri}?**`);
    let params = new URL(page.url()).searchParams;
    assert.equal(params.get('error'), 'login_required');
    assert.equal(params.get('iss'), base);
    await page.goto(authorizeUrl(base, client, redirectUri, p));
    await logIn(page, dataDir, 'session@example.com', null);
    await page.waitForURL(`${redirectUri}?**`);
    await page.goto(authorizeUrl(base, client, redirectUri, p, { prompt: 'none' }));
    await page.waitForURL(`${redirectUri}?**`);
    params = new URL(page.url()).searchParams;
    assert.equal(params.get('error'), null);
    const tokens = await redeem(base, client, params.get('code'), p.verifier, redirectUri);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  },

  // The service's branding on the login pages, then RP-initiated logout: asked, confirmed, back to the merchant,
  // and the session gone.
  async branding_logout({ dataDir, merchant, context }) {
    const branded = await startBoltauth(`${dataDir}-branded`, {
      BOLTAUTH_BRANDING_NAME: 'Acme Pay',
      BOLTAUTH_BRANDING_LOGO_URL: `${merchant.origin}/logo.svg`,
      BOLTAUTH_BRANDING_ACCENT_COLOR: '#0a7d33',
    });
    try {
      const base = branded.base;
      const redirectUri = `${merchant.origin}/cb`;
      const bye = `${merchant.origin}/bye`;
      const client = createClient(`${dataDir}-branded`, [redirectUri], ['--post-logout-redirect-uri', bye]);
      const p = pkce();
      const page = await context.newPage();
      await page.goto(authorizeUrl(base, client, redirectUri, p));
      assert.equal(await page.locator('header .brand').textContent(), 'Acme Pay');
      assert.match(await page.title(), /Acme Pay$/);
      // The logo loaded: the page's CSP allows that one image.
      await page.waitForFunction(() => document.querySelector('header img')?.naturalWidth > 0);
      const accent = await page.getByRole('button', { name: 'Continue' }).evaluate((b) => getComputedStyle(b).backgroundColor);
      assert.equal(accent, 'rgb(10, 125, 51)');
      await shot(page, 'branding-1-email-page');
      await logIn(page, `${dataDir}-branded`, 'brand@example.com', null);
      await page.waitForURL(`${redirectUri}?**`);

      const logoutUrl = `${base}/v1/oauth/logout?` +
        new URLSearchParams({ client_id: client.id, post_logout_redirect_uri: bye, state: 'bye-1' });
      await page.goto(logoutUrl);
      await page.getByRole('heading', { name: 'Log out?' }).waitFor();
      await shot(page, 'logout-1-confirm');
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${bye}?**`);
      assert.equal(new URL(page.url()).searchParams.get('state'), 'bye-1');
      // The session is gone: prompt=none now answers login_required.
      await page.goto(authorizeUrl(base, client, redirectUri, p, { prompt: 'none' }));
      await page.waitForURL(`${redirectUri}?**`);
      assert.equal(new URL(page.url()).searchParams.get('error'), 'login_required');
      await page.goto(`${base}/v1/oauth/logout`);
      await page.getByRole('heading', { name: 'You are logged out' }).waitFor();
      await shot(page, 'logout-2-logged-out');
    } finally {
      branded.child.kill('SIGTERM');
    }
  },

  // POST-redirect-GET in a real browser: every form answer is a GET page, so reload after a wrong code spends no
  // attempt, and back after the login lands on a page, never on "Confirm Form Resubmission". Then the session's
  // "Continue as" page and its "Not you?".
  async back_and_reload({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const page = await context.newPage();
    let posts = 0;
    page.on('request', (r) => { if (r.method() === 'POST') posts++; });
    await page.goto(authorizeUrl(base, client, redirectUri, pkce()));
    await page.getByLabel('Email address').fill('reload@example.com');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').waitFor();
    assert.match(page.url(), /\/v1\/oauth\/login\?login=/);
    const code = lastOtp(dataDir, 'reload@example.com');
    await page.getByLabel('One-time code').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('4 attempts left').waitFor();
    const postsBefore = posts;
    await page.reload();
    await page.getByText('4 attempts left').waitFor();
    assert.equal(posts, postsBefore, 'reload posted a form again');
    await shot(page, 'prg-1-after-reload');
    await page.getByLabel('One-time code').fill(code);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${redirectUri}?**`);
    await page.goBack();
    await page.getByRole('heading', { name: 'Login expired' }).waitFor();
    assert.equal(posts, postsBefore + 1, 'back posted a form again');
    await shot(page, 'prg-2-back-after-login');

    // With the session: "Continue as", and "Not you?" to log in as someone else.
    await page.goto(authorizeUrl(base, client, redirectUri, pkce()));
    await page.getByRole('button', { name: 'Continue as reload@example.com' }).waitFor();
    await shot(page, 'session-1-continue-as');
    await page.getByRole('button', { name: 'Use another account' }).click();
    await page.getByLabel('Email address').waitFor();
    assert.equal(await page.getByLabel('Email address').inputValue(), '');
    await logIn(page, dataDir, 'someone-else@example.com', null);
    await page.waitForURL(`${redirectUri}?**`);
    await page.goto(authorizeUrl(base, client, redirectUri, pkce()));
    await page.getByRole('button', { name: 'Continue as someone-else@example.com' }).click();
    await page.waitForURL(`${redirectUri}?**`);
    assert.ok(new URL(page.url()).searchParams.get('code'));
  },

  // A login that cannot go on (here: its browser binding is gone) offers the way back to the merchant.
  async login_expired_way_back({ base, dataDir, merchant, context }) {
    const redirectUri = `${merchant.origin}/cb`;
    const client = createClient(dataDir, [redirectUri]);
    const page = await context.newPage();
    await page.goto(authorizeUrl(base, client, redirectUri, pkce(), { state: 'way-back' }));
    await context.clearCookies();
    await page.getByLabel('Email address').fill('lost@example.com');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Login expired' }).waitFor();
    await shot(page, 'login-5-expired-way-back');
    await page.getByRole('link', { name: 'Back to E2E shop' }).click();
    await page.waitForURL(`${redirectUri}?**`);
    const params = new URL(page.url()).searchParams;
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), 'way-back');
    assert.equal(params.get('iss'), base);
    assert.equal(params.get('code'), null);
  },

  // The sandbox demo merchant, end to end, plus a screenshot of the error page.
  async demo({ base, dataDir, context }) {
    const page = await context.newPage();
    await page.goto(`${base}/demo`);
    await shot(page, 'demo-1-start');
    await page.getByRole('link', { name: 'Log in with Bolt' }).click();
    await logIn(page, dataDir, 'demo@example.com', null);
    await page.waitForURL(`${base}/demo/callback?**`);
    await page.locator('#id-token-payload').waitFor();
    await shot(page, 'demo-2-result');
    const response = JSON.parse(await page.locator('#token-response').textContent());
    assert.equal(response.token_type, 'bearer');
    assert.equal(response.refresh_token_scope, 'bolt.account.view');
    const claims = JSON.parse(await page.locator('#id-token-payload').textContent());
    assert.equal(claims.email, 'demo@example.com');
    assert.equal(claims.iss, base);
    assert.match(await page.locator('.ok').textContent(), /nonce matches/);
    await page.goto(`${base}/v1/oauth/authorize?client_id=unknown`);
    await shot(page, 'login-0-error-page');
  },
};

// --- main -------------------------------------------------------------------------------------------------
if (!scenarios[scenario]) {
  console.error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'boltauth-e2e-'));
const dataDir = path.join(tmp, 'data');
const boltauth = externalBase ? { base: externalBase, child: null } : await startBoltauth(dataDir);
const merchant = await startMerchant();
const context = await launch(path.join(tmp, 'profile'));
let failed = false;
try {
  await scenarios[scenario]({ base: boltauth.base, dataDir, merchant, context });
  console.log(`ok ${scenario}`);
} catch (e) {
  failed = true;
  console.error(`FAILED ${scenario}:`, e);
  for (const p of context.pages()) {
    await shot(p, `failure-${scenario}`).catch(() => {});
    // What each frame showed (an error page from a proxy, say), for the test's log.
    for (const f of p.frames()) {
      const text = await f.locator('body').innerText({ timeout: 2000 }).catch(() => '(unreadable)');
      console.error(`frame ${f.url()}:\n${text.slice(0, 1000)}`);
    }
  }
} finally {
  await context.close().catch(() => {});
  merchant.server.close();
  boltauth.child?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
