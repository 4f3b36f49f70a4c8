// The one-pass script a user would write on Cloudflare's official Node.js SDK (npm
// `cloudflare`): for every zone of the desired state, list every mapping (generation 2:
// auto-pagination; generation 1: the setting's whole value), diff against the desired origins,
// batch delete the stale ones 100 at a time; `concurrency` zones at once. scripts/bench
// --fleet runs it beside the daemon.
//   node fleet_sdk.mjs SDK_DIR API_BASE DESIRED_JSON CONCURRENCY [origin-v2|cache-v1]
// The token comes from $CLOUDFLARE_API_TOKEN. Prints one JSON line: requests and deletions.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [sdkDir, apiBase, desiredPath, concurrencyText, generation = 'origin-v2'] =
  process.argv.slice(2);
const mod = createRequire(path.join(sdkDir, 'package.json'))('cloudflare');
const Cloudflare = mod.Cloudflare ?? mod.default ?? mod;
const client = new Cloudflare({
  apiToken: process.env.CLOUDFLARE_API_TOKEN, apiKey: null, apiEmail: null,
  userServiceKey: null, baseURL: apiBase, maxRetries: 2, timeout: 60000,
});
const regions = client.cache.originCloudRegions;
const desired = JSON.parse(readFileSync(desiredPath, 'utf8')).zones;

let deleted = 0;
let failed = 0;
async function reconcile(zone) {
  const keep = new Set(zone.origins);
  const stale = [];
  if (generation === 'cache-v1') {
    const setting = await regions.list({ zone_id: zone.zone_id });
    for (const m of setting.value) {
      if (!keep.has(m['origin-ip'])) stale.push(m['origin-ip']);
    }
  } else {
    for await (const m of regions.list({ zone_id: zone.zone_id, per_page: 100 })) {
      if (!keep.has(m.origin_ip)) stale.push(m.origin_ip);
    }
  }
  for (let i = 0; i < stale.length; i += 100) {
    const r = await regions.bulkDelete({ zone_id: zone.zone_id },
                                       { body: stale.slice(i, i + 100) });
    const outcome = generation === 'cache-v1' ? r.value : r;  // generation 1: the setting
    deleted += outcome.succeeded.length;
    failed += outcome.failed.length;
  }
}

let next = 0;
async function worker() {
  while (next < desired.length) await reconcile(desired[next++]);
}
await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
console.log(JSON.stringify({ zones: desired.length, deleted, failed }));
