// Generation 1 (/zones/{zone}/cache/origin_cloud_regions, end of life at Cloudflare since
// 2026-10-01) through Cloudflare's official SDK, npm `cloudflare` 6.0.0, the last to speak it,
// against cf-standin: every operation the SDK has on this resource.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  EMPTY_ZONE, FULL_ZONE, SEEDED, ZONE, assertMapping, assertSupportedRegions,
  assertMixedUpsertsJudged, makeClient, mixedUpserts, rejectsWith, sdkSuite, startStandin,
} from './standin.mjs';

let api; // the stand-in
let regions; // client.cache.originCloudRegions
const { Cloudflare, errors } = sdkSuite('6.0.0', (standin, resource) => {
  api = standin;
  regions = resource;
});

function assertSetting(result) {
  assert.equal(result.id, 'origin_public_cloud_region');
  assert.equal(result.editable, true);
  assert.ok('modified_on' in result && 'value' in result);
}

test('list: the whole zone in one answer (generation 1 does not page)', async () => {
  const result = await regions.list({ zone_id: ZONE });
  assertSetting(result);
  assert.ok(!Number.isNaN(Date.parse(result.modified_on)));
  assert.equal(result.value.length, SEEDED);
  assertMapping(result.value[0], 'origin-ip', { ip: '10.0.0.0', vendor: 'aws', region: 'us-east-1' });
  assertMapping(result.value.at(-1), 'origin-ip',
                { ip: '2001:db8::1', vendor: 'gcp', region: 'us-central1' });
  assert.equal((await api.requests()).length, 1);
});

test('list: an empty zone is 200 with value [] and modified_on null', async () => {
  const result = await regions.list({ zone_id: EMPTY_ZONE });
  assertSetting(result);
  assert.deepEqual(result.value, []);
  assert.equal(result.modified_on, null);
});

test('get: one mapping in the setting object', async () => {
  const result = await regions.get('192.0.2.2', { zone_id: ZONE });
  assertSetting(result);
  assertMapping(result.value, 'origin-ip', { ip: '192.0.2.2', vendor: 'azure', region: 'westeurope' });
});

test('get: a missing IP, or a zone without mappings, is 404 with code 1142', async () => {
  await rejectsWith(regions.get('192.0.2.99', { zone_id: ZONE }), errors.NotFoundError, 404, 1142);
  await rejectsWith(regions.get('192.0.2.1', { zone_id: EMPTY_ZONE }), errors.NotFoundError, 404,
                    1142);
});

test('create: a new IP; an existing one is 400 with code 1145', async () => {
  const result = await regions.create({
    zone_id: ZONE, ip: '198.51.100.7', vendor: 'oci', region: 'eu-frankfurt-1',
  });
  assertSetting(result);
  assertMapping(result.value, 'origin-ip', { ip: '198.51.100.7', vendor: 'oci', region: 'eu-frankfurt-1' });
  await rejectsWith(regions.create({
    zone_id: ZONE, ip: '198.51.100.7', vendor: 'aws', region: 'us-east-1',
  }), errors.BadRequestError, 400, 1145);
  assert.deepEqual((await api.live())['198.51.100.7'], { vendor: 'oci', region: 'eu-frankfurt-1' });
});

test('create: invalid vendor or region is 400 with code 1157; zone full is 403 1164', async () => {
  await rejectsWith(regions.create({ zone_id: ZONE, ip: '198.51.100.8', vendor: 'ibm', region: 'x' }),
                    errors.BadRequestError, 400, 1157);
  await rejectsWith(regions.create({
    zone_id: ZONE, ip: '198.51.100.8', vendor: 'aws', region: 'us-central1',
  }), errors.BadRequestError, 400, 1157);
  await rejectsWith(regions.create({
    zone_id: FULL_ZONE, ip: '198.51.100.8', vendor: 'aws', region: 'us-east-1',
  }), errors.PermissionDeniedError, 403, 1164);
  assert.equal((await api.live())['198.51.100.8'], undefined);
});

test('edit (upsert one): answers every mapping of the zone', async () => {
  const result = await regions.edit({
    zone_id: ZONE, ip: '192.0.2.1', vendor: 'azure', region: 'eastus',
  });
  assertSetting(result);
  assert.equal(result.value.length, SEEDED);
  const edited = result.value.find((m) => m['origin-ip'] === '192.0.2.1');
  assertMapping(edited, 'origin-ip', { ip: '192.0.2.1', vendor: 'azure', region: 'eastus' });
  const added = await regions.edit({ zone_id: ZONE, ip: '198.51.100.9', vendor: 'aws', region: 'us-west-2' });
  assert.equal(added.value.length, SEEDED + 1);
});

test('edit: zone full is 403 with code 1164, invalid region 400 with 1157', async () => {
  await rejectsWith(regions.edit({
    zone_id: FULL_ZONE, ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1',
  }), errors.PermissionDeniedError, 403, 1164);
  await rejectsWith(regions.edit({ zone_id: ZONE, ip: '192.0.2.1', vendor: 'gcp', region: 'eastus' }),
                    errors.BadRequestError, 400, 1157);
  assert.equal(Object.keys(await api.live(FULL_ZONE)).length, 3500);
});

test('bulkEdit (batch upsert): items judged one by one', async () => {
  const result = await regions.bulkEdit({ zone_id: ZONE, body: mixedUpserts('ip') });
  assertSetting(result);
  assert.ok(!Number.isNaN(Date.parse(result.modified_on)));
  assertMixedUpsertsJudged(result.value, 'origin-ip');
});

test('bulkEdit: nothing applied leaves modified_on null; past the limit 400 1164', async () => {
  const none = await regions.bulkEdit({
    zone_id: ZONE, body: [{ ip: 'bad', vendor: 'aws', region: 'us-east-1' }],
  });
  assert.equal(none.modified_on, null);
  assert.deepEqual(none.value.succeeded, []);
  await rejectsWith(regions.bulkEdit({
    zone_id: FULL_ZONE, body: [{ ip: '192.0.2.1', vendor: 'aws', region: 'us-east-1' }],
  }), errors.BadRequestError, 400, 1164);
});

test('delete one: answers the deleted mapping; a second delete is 404 with code 1163', async () => {
  const result = await regions.delete('192.0.2.2', { zone_id: ZONE });
  assertSetting(result);
  assertMapping(result.value, 'origin-ip', { ip: '192.0.2.2', vendor: 'azure', region: 'westeurope' });
  await rejectsWith(regions.delete('192.0.2.2', { zone_id: ZONE }), errors.NotFoundError, 404, 1163);
  await rejectsWith(regions.delete('192.0.2.2', { zone_id: EMPTY_ZONE }), errors.NotFoundError, 404,
                    1142);
});

test('bulkDelete: the IP array passed through the request options', async () => {
  // The SDK method takes no body parameter: the array goes in the request options.
  const result = await regions.bulkDelete({ zone_id: ZONE },
                                          { body: ['192.0.2.1', '192.0.2.77', 'not-an-ip'] });
  assertSetting(result);
  assert.deepEqual(result.value.succeeded,
                   [{ 'origin-ip': '192.0.2.1', vendor: 'aws', region: 'us-east-1' }]);
  assert.deepEqual(result.value.failed.map((f) => f['origin-ip']), ['192.0.2.77', 'not-an-ip']);
  assert.ok(result.value.failed.every((f) => typeof f.error === 'string'));
  const [request] = (await api.requests()).filter((r) => r.operation === 'batch_delete');
  assert.deepEqual(request.ips, ['192.0.2.1', '192.0.2.77', 'not-an-ip']);
  const none = await regions.bulkDelete({ zone_id: ZONE }, { body: ['192.0.2.77'] });
  assert.equal(none.modified_on, null);
});

test('bulkDelete: the last mapping gone, the zone lists as empty', async () => {
  await regions.bulkDelete({ zone_id: ZONE }, { body: Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`) });
  await regions.bulkDelete({ zone_id: ZONE }, { body: Array.from({ length: 100 }, (_, i) => `10.0.0.${i + 100}`) });
  const rest = Object.keys(await api.live());
  const last = await regions.bulkDelete({ zone_id: ZONE }, { body: rest });
  assert.equal(last.value.succeeded.length, rest.length);
  const result = await regions.list({ zone_id: ZONE });
  assert.deepEqual(result.value, []);
  assert.equal(result.modified_on, null);
});

test('supportedRegions: flat {obtained_codes, vendors}', async () => {
  assertSupportedRegions(await regions.supportedRegions({ zone_id: ZONE }));
});

test('non-canonical IPv6 in paths and bodies is canonicalized', async () => {
  const got = await regions.get('2001:DB8:0:0::1', { zone_id: ZONE });
  assert.equal(got.value['origin-ip'], '2001:db8::1');
  const created = await regions.create({
    zone_id: ZONE, ip: '2001:0DB8::5', vendor: 'aws', region: 'us-east-2',
  });
  assert.equal(created.value['origin-ip'], '2001:db8::5');
  const batch = await regions.bulkEdit({
    zone_id: ZONE, body: [{ ip: '2001:DB8:0::6', vendor: 'gcp', region: 'us-east1' }],
  });
  assert.equal(batch.value.succeeded[0]['origin-ip'], '2001:db8::6');
  const removed = await regions.bulkDelete({ zone_id: ZONE }, { body: ['2001:db8:0:0:0:0:0:6'] });
  assert.deepEqual(removed.value.succeeded.map((s) => s['origin-ip']), ['2001:db8::6']);
  const deleted = await regions.delete('2001:DB8::5', { zone_id: ZONE });
  assert.equal(deleted.value['origin-ip'], '2001:db8::5');
});

test('the reference pages\' 404 / 1142 empty-zone answer (--v1-empty-zone-404) makes 6.0.0 throw',
     async () => {
  const quirky = await startStandin(['--v1-empty-zone-404']);
  try {
    const client = makeClient(Cloudflare, quirky.apiBase).cache.originCloudRegions;
    await rejectsWith(client.list({ zone_id: EMPTY_ZONE }), errors.NotFoundError, 404, 1142);
    assert.equal((await client.list({ zone_id: ZONE })).value.length, SEEDED);
  } finally {
    await quirky.stop();
  }
});
