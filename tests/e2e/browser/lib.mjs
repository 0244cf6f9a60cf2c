// Helpers shared by the browser tests (e2e.mjs, mod_auth_openidc.mjs): a boltauth of the test's own, its CLI, the
// sandbox outbox, Debian's chromium, screenshots, and the login modal.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const binary = process.env.BOLTAUTH_BINARY;
export const artifacts = process.env.ARTIFACT_DIR || path.join(os.tmpdir(), 'boltauth-e2e-artifacts');
mkdirSync(artifacts, { recursive: true });

export const b64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
export const pkce = () => {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
};

// --- boltauth ---------------------------------------------------------------------------------------------
export async function startBoltauth(dataDir, env = {}) {
  const child = spawn(binary, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let out = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('boltauth did not start:\n' + out)), 30000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`boltauth exited ${code}:\n${out}`)));
  });
  return { child, base, output: () => out };
}

// Against servers already running on a shared database (several nodes behind a load balancer), clients are made
// there with the CLI: BOLTAUTH_E2E_STORE_URL and BOLTAUTH_E2E_MASTER_KEY_FILE. Without them, in `dataDir`.
const storeUrl = process.env.BOLTAUTH_E2E_STORE_URL;
const masterKeyFile = process.env.BOLTAUTH_E2E_MASTER_KEY_FILE;
// The nodes' data dirs (colon-separated), when the code is in the outbox of whichever node sent it.
const outboxDirs = process.env.BOLTAUTH_E2E_OUTBOX_DIRS?.split(':').filter(Boolean);

export function createClient(dataDir, redirectUris, extraArgs = []) {
  const store = storeUrl
    ? ['--store-url', storeUrl, ...(masterKeyFile ? ['--master-key-file', masterKeyFile] : [])]
    : ['--data-dir', dataDir];
  const args = ['client', 'create', ...store, '--name', 'E2E shop', '--json'];
  for (const u of redirectUris) args.push('--redirect-uri', u);
  args.push(...extraArgs);
  return JSON.parse(execFileSync(binary, args).toString());
}

// The last code mailed to `email`. With several outboxes (one per node), the one written last that has a mail to
// `email` holds it: outbox lines carry no time.
export function lastOtp(dataDir, email) {
  let newest = null;
  for (const dir of outboxDirs ?? [dataDir]) {
    const file = path.join(dir, 'outbox', 'otp.jsonl');
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mine = lines.filter((m) => m.to === email);
    const mtime = statSync(file).mtimeMs;
    if (mine.length && (!newest || mtime > newest.mtime)) newest = { mtime, code: mine[mine.length - 1].code };
  }
  return newest ? newest.code : null;
}

export async function launch(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// Fills the email page and the code page of `frame` (a Page or a Frame).
export async function logIn(frame, dataDir, email, screenshots) {
  await frame.getByLabel('Email address').fill(email);
  if (screenshots) await shot(screenshots, 'login-1-email-page');
  await frame.getByRole('button', { name: 'Continue' }).click();
  await frame.getByLabel('One-time code').waitFor();
  if (screenshots) await shot(screenshots, 'login-2-otp-page');
  const code = lastOtp(dataDir, email);
  assert.match(code, /^\d{6}$/);
  await frame.getByLabel('One-time code').fill(code);
  await frame.getByRole('button', { name: 'Log in' }).click();
}

