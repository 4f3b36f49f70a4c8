// Shared by the SDK conformance tests: loads the pinned Cloudflare SDK from the cache folder the
// runner installed it in, and starts cf-standin on 127.0.0.1 with the seed every test begins from.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';

export const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';
export const FULL_ZONE = '1111111111111111111111111111111a'; // at Cloudflare's limit of 3,500
export const EMPTY_ZONE = '2222222222222222222222222222222b';
export const TOKEN = 'conformance-token-0f3c9a';
export const GENERATED = 250; // 10.0.0.0 .. 10.0.0.249, aws us-east-1

// Every mapping of ZONE at the start of each test: 250 generated, plus three by hand.
export function baseSeed() {
  return {
    zones: {
      [ZONE]: {
        generate: { count: GENERATED, start: '10.0.0.0', vendor: 'aws', region: 'us-east-1' },
        mappings: [
          { ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1' },
          { ip: '192.0.2.2', vendor: 'azure', region: 'westeurope' },
          { ip: '2001:db8::1', vendor: 'gcp', region: 'us-central1' },
        ],
      },
      [FULL_ZONE]: {
        generate: { count: 3500, start: '10.1.0.0', vendor: 'aws', region: 'us-east-1' },
      },
    },
  };
}
export const SEEDED = GENERATED + 3;

// The SDK as installed by tests/conformance/run: SDK_DIR holds node_modules/cloudflare.
export function loadSdk(expectedVersion) {
  const dir = process.env.SDK_DIR;
  assert.ok(dir, 'SDK_DIR is not set (run the test through tests/conformance/run)');
  const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules/cloudflare/package.json')));
  assert.equal(pkg.version, expectedVersion, `SDK in ${dir}`);
  const mod = createRequire(path.join(dir, 'package.json'))('cloudflare');
  const Cloudflare = mod.Cloudflare ?? mod.default ?? mod;
  const errors = {};
  for (const name of ['APIError', 'BadRequestError', 'PermissionDeniedError', 'NotFoundError']) {
    errors[name] = mod[name] ?? Cloudflare[name];
  }
  return { Cloudflare, errors, version: pkg.version };
}

// A client as a user would make one: token auth, baseURL at the stand-in, no retries.
export function makeClient(Cloudflare, apiBase) {
  return new Cloudflare({
    apiToken: TOKEN,
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: apiBase,
    maxRetries: 0,
    timeout: 10000,
  });
}

export async function startStandin(extraArgs = []) {
  const bin = process.env.STANDIN_BIN;
  assert.ok(bin, 'STANDIN_BIN is not set');
  const work = mkdtempSync(path.join(tmpdir(), 'orc-sdk-'));
  const portFile = path.join(work, 'port');
  const seedFile = path.join(work, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(baseSeed()));
  const proc = spawn(
    bin,
    ['--listen', '127.0.0.1:0', '--port-file', portFile, '--seed', seedFile, '--token', TOKEN,
     ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let port = 0;
  for (let i = 0; i < 500 && !port; i++) {
    if (proc.exitCode !== null) throw new Error(`cf-standin exited with ${proc.exitCode}`);
    try {
      port = Number(readFileSync(portFile, 'utf8').trim());
    } catch {
      await sleep(20);
    }
  }
  assert.ok(port > 0, 'cf-standin did not report its port within 10 s');
  const base = `http://127.0.0.1:${port}`;

  async function admin(method, what, body) {
    const res = await fetch(`${base}/__admin/${what}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `admin ${method} ${what}: ${text}`);
    return JSON.parse(text);
  }
  return {
    apiBase: `${base}/client/v4`,
    reset: async () => {
      await admin('PUT', 'state', baseSeed());
      await admin('DELETE', 'requests');
    },
    // {ip: {vendor, region}} of one zone, as stored.
    live: async (zone = ZONE) => {
      const state = await admin('GET', 'state');
      return Object.fromEntries(
        (state.zones[zone] ?? []).map((m) => [m.ip, { vendor: m.vendor, region: m.region }]));
    },
    requests: async () => admin('GET', 'requests'),
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

// One test file's fixture: the pinned SDK, one stand-in for the whole file reset to the seed
// before each test. Once the file's `before` hook has run, `onStart` is handed the stand-in and
// the SDK's origin cloud regions resource pointed at it.
export function sdkSuite(expectedVersion, onStart) {
  const sdk = loadSdk(expectedVersion);
  let api;
  before(async () => {
    api = await startStandin();
    onStart(api, makeClient(sdk.Cloudflare, api.apiBase).cache.originCloudRegions);
  });
  after(async () => api?.stop());
  beforeEach(async () => api.reset());
  return sdk;
}

// A batch upsert of three items, each judged on its own: a new IP, a new region for a seeded
// IP, and an unknown region (the one that fails). `ipKey` is the generation's body key.
const MIXED_UPSERTS = [
  { ip: '198.51.100.1', vendor: 'aws', region: 'eu-west-1' },
  { ip: '192.0.2.2', vendor: 'azure', region: 'northeurope' },
  { ip: '198.51.100.2', vendor: 'gcp', region: 'no-such-region' },
];
export function mixedUpserts(ipKey) {
  return MIXED_UPSERTS.map(({ ip, ...rest }) => ({ [ipKey]: ip, ...rest }));
}

// The {succeeded, failed} answer to mixedUpserts: the first two applied, the third refused.
export function assertMixedUpsertsJudged(answer, ipKey) {
  assert.deepEqual(answer.succeeded, mixedUpserts(ipKey).slice(0, 2));
  assert.equal(answer.failed.length, 1);
  assert.equal(answer.failed[0][ipKey], '198.51.100.2');
  assert.equal(typeof answer.failed[0].error, 'string');
}

// Asserts that `promise` fails with the SDK's error class for `status` and Cloudflare's `code`.
export async function rejectsWith(promise, ErrorClass, status, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `${err} is not a ${ErrorClass.name}`);
    assert.equal(err.status, status);
    assert.equal(err.errors?.[0]?.code, code, JSON.stringify(err.errors));
    return true;
  });
}

// The keys of a mapping the schema documents, whichever spelling of the IP key.
export function assertMapping(m, ipKey, expected) {
  assert.deepEqual(Object.keys(m).sort(), [ipKey, 'modified_on', 'region', 'vendor'].sort());
  assert.equal(m[ipKey], expected.ip);
  assert.equal(m.vendor, expected.vendor);
  assert.equal(m.region, expected.region);
  assert.ok(!Number.isNaN(Date.parse(m.modified_on)), `modified_on ${m.modified_on}`);
}

export function assertSupportedRegions(result) {
  assert.deepEqual(Object.keys(result).sort(), ['obtained_codes', 'vendors']);
  assert.equal(typeof result.obtained_codes, 'boolean');
  assert.deepEqual(Object.keys(result.vendors).sort(), ['aws', 'azure', 'gcp', 'oci']);
  for (const regions of Object.values(result.vendors)) {
    assert.ok(regions.length > 0);
    for (const r of regions) {
      assert.equal(typeof r.name, 'string');
      assert.ok(Array.isArray(r.upper_tier_colos));
    }
  }
  assert.ok(result.vendors.aws.some((r) => r.name === 'us-east-1'));
}
