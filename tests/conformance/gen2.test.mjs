// Generation 2 (/zones/{zone}/origin/cloud_regions) through Cloudflare's official SDK, npm
// `cloudflare` 7.3.0, against cf-standin: every operation the SDK has on this resource.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  EMPTY_ZONE, FULL_ZONE, GENERATED, SEEDED, ZONE, assertMapping, assertSupportedRegions,
  assertMixedUpsertsJudged, mixedUpserts, rejectsWith, sdkSuite,
} from './standin.mjs';

let api; // the stand-in
let regions; // client.cache.originCloudRegions
const { errors } = sdkSuite('7.3.0', (standin, resource) => {
  api = standin;
  regions = resource;
});

test('list: auto-pagination reads every page', async () => {
  const seen = [];
  for await (const m of regions.list({ zone_id: ZONE, per_page: 100 })) seen.push(m);
  assert.equal(seen.length, SEEDED);
  assert.equal(new Set(seen.map((m) => m.origin_ip)).size, SEEDED);
  assertMapping(seen[0], 'origin_ip', { ip: '10.0.0.0', vendor: 'aws', region: 'us-east-1' });
  assertMapping(seen.at(-1), 'origin_ip', { ip: '2001:db8::1', vendor: 'gcp', region: 'us-central1' });
  const lists = (await api.requests()).filter((r) => r.operation === 'list');
  // Three full or partial pages, then the empty page that ends the SDK's iteration.
  assert.deepEqual(lists.map((r) => r.query),
                   [1, 2, 3, 4].map((n) => (n === 1 ? 'per_page=100' : `per_page=100&page=${n}`)));
  assert.ok(lists.every((r) => r.status === 200));
});

test('list: one page and its result_info', async () => {
  const page = await regions.list({ zone_id: ZONE, page: 2, per_page: 100 });
  assert.equal(page.result.length, 100);
  assert.equal(page.result[0].origin_ip, '10.0.0.100');
  assert.deepEqual(page.result_info,
                   { page: 2, per_page: 100, count: 100, total_count: SEEDED, total_pages: 3 });
  assert.ok(page.hasNextPage());
});

test('list: an empty zone is an empty page with total_pages 0', async () => {
  const page = await regions.list({ zone_id: EMPTY_ZONE });
  assert.deepEqual(page.result, []);
  assert.equal(page.result_info.total_pages, 0);
  assert.equal(page.result_info.total_count, 0);
  assert.equal(page.hasNextPage(), false);
  const seen = [];
  for await (const m of regions.list({ zone_id: EMPTY_ZONE })) seen.push(m);
  assert.deepEqual(seen, []);
});

test('list: per_page past 100 is refused with 400', async () => {
  await assert.rejects(regions.list({ zone_id: ZONE, per_page: 101 }),
                       (err) => err instanceof errors.BadRequestError && err.status === 400);
});

test('get: one mapping, flat', async () => {
  const m = await regions.get('192.0.2.2', { zone_id: ZONE });
  assertMapping(m, 'origin_ip', { ip: '192.0.2.2', vendor: 'azure', region: 'westeurope' });
});

test('get: a missing IP is 404 with code 1142', async () => {
  await rejectsWith(regions.get('192.0.2.99', { zone_id: ZONE }), errors.NotFoundError, 404, 1142);
  await rejectsWith(regions.get('192.0.2.1', { zone_id: EMPTY_ZONE }), errors.NotFoundError, 404,
                    1142);
});

test('update (upsert one): creates, then replaces, and answers the mapping', async () => {
  const created = await regions.update('198.51.100.7', {
    zone_id: ZONE, origin_ip: '198.51.100.7', vendor: 'oci', region: 'us-ashburn-1',
  });
  assertMapping(created, 'origin_ip', { ip: '198.51.100.7', vendor: 'oci', region: 'us-ashburn-1' });
  const replaced = await regions.update('192.0.2.1', {
    zone_id: ZONE, origin_ip: '192.0.2.1', vendor: 'gcp', region: 'europe-west1',
  });
  assertMapping(replaced, 'origin_ip', { ip: '192.0.2.1', vendor: 'gcp', region: 'europe-west1' });
  const live = await api.live();
  assert.equal(Object.keys(live).length, SEEDED + 1);
  assert.deepEqual(live['192.0.2.1'], { vendor: 'gcp', region: 'europe-west1' });
});

test('update: body IP differs from the path (1146), invalid region (1157), zone full (403 1164)',
     async () => {
  await rejectsWith(regions.update('192.0.2.1', {
    zone_id: ZONE, origin_ip: '192.0.2.9', vendor: 'aws', region: 'us-east-1',
  }), errors.BadRequestError, 400, 1146);
  await rejectsWith(regions.update('192.0.2.1', {
    zone_id: ZONE, origin_ip: '192.0.2.1', vendor: 'aws', region: 'westeurope',
  }), errors.BadRequestError, 400, 1157);
  await rejectsWith(regions.update('192.0.2.1', {
    zone_id: FULL_ZONE, origin_ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1',
  }), errors.PermissionDeniedError, 403, 1164);
  assert.deepEqual((await api.live())['192.0.2.1'], { vendor: 'aws', region: 'us-east-1' });
});

test('bulkUpdate (batch upsert): items judged one by one', async () => {
  const result = await regions.bulkUpdate({ zone_id: ZONE, body: mixedUpserts('origin_ip') });
  assert.deepEqual(Object.keys(result).sort(), ['failed', 'succeeded']);
  assertMixedUpsertsJudged(result, 'origin_ip');
  const live = await api.live();
  assert.deepEqual(live['192.0.2.2'], { vendor: 'azure', region: 'northeurope' });
  assert.equal(live['198.51.100.2'], undefined);
});

test('bulkUpdate: past the zone limit nothing changes (400 1164)', async () => {
  await rejectsWith(regions.bulkUpdate({
    zone_id: FULL_ZONE, body: [{ origin_ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1' }],
  }), errors.BadRequestError, 400, 1164);
  assert.equal(Object.keys(await api.live(FULL_ZONE)).length, 3500);
});

test('delete one: answers the deleted IP; a second delete is 404 with code 1142', async () => {
  const deleted = await regions.delete('192.0.2.1', { zone_id: ZONE });
  assert.deepEqual(deleted, { origin_ip: '192.0.2.1' });
  assert.equal((await api.live())['192.0.2.1'], undefined);
  await rejectsWith(regions.delete('192.0.2.1', { zone_id: ZONE }), errors.NotFoundError, 404, 1142);
});

test('bulkDelete: the IP array passed through the request options', async () => {
  // The SDK method takes no body parameter: the array goes in the request options.
  const result = await regions.bulkDelete({ zone_id: ZONE },
                                          { body: ['192.0.2.1', '192.0.2.77', 'not-an-ip'] });
  assert.deepEqual(result.succeeded, [{ origin_ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1' }]);
  assert.deepEqual(result.failed.map((f) => f.origin_ip), ['192.0.2.77', 'not-an-ip']);
  assert.ok(result.failed.every((f) => typeof f.error === 'string' && !('vendor' in f)));
  const [request] = (await api.requests()).filter((r) => r.operation === 'batch_delete');
  assert.equal(request.method, 'DELETE');
  assert.deepEqual(request.ips, ['192.0.2.1', '192.0.2.77', 'not-an-ip']);
  assert.equal(Object.keys(await api.live()).length, SEEDED - 1);
});

test('bulkDelete: 100 IPs, the most one request takes', async () => {
  const ips = Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`);
  const result = await regions.bulkDelete({ zone_id: ZONE }, { body: ips });
  assert.equal(result.succeeded.length, 100);
  assert.deepEqual(result.failed, []);
  assert.equal(Object.keys(await api.live()).length, SEEDED - 100);
  assert.ok(GENERATED > 100);
});

test('supportedRegions: flat {obtained_codes, vendors}', async () => {
  assertSupportedRegions(await regions.supportedRegions({ zone_id: ZONE }));
});

test('non-canonical IPv6 in paths and bodies is canonicalized', async () => {
  const got = await regions.get('2001:DB8:0:0::1', { zone_id: ZONE });
  assert.equal(got.origin_ip, '2001:db8::1');
  const put = await regions.update('2001:DB8:0::5', {
    zone_id: ZONE, origin_ip: '2001:0db8::5', vendor: 'aws', region: 'us-east-2',
  });
  assert.equal(put.origin_ip, '2001:db8::5');
  const batch = await regions.bulkUpdate({
    zone_id: ZONE, body: [{ origin_ip: '2001:DB8::6', vendor: 'gcp', region: 'us-east1' }],
  });
  assert.equal(batch.succeeded[0].origin_ip, '2001:db8::6');
  const removed = await regions.bulkDelete({ zone_id: ZONE }, { body: ['2001:0DB8:0:0::6'] });
  assert.deepEqual(removed.succeeded.map((s) => s.origin_ip), ['2001:db8::6']);
  assert.deepEqual(await regions.delete('2001:Db8::5', { zone_id: ZONE }), { origin_ip: '2001:db8::5' });
  const live = await api.live();
  assert.ok('2001:db8::1' in live && !('2001:db8::5' in live) && !('2001:db8::6' in live));
});
