// Kill-and-restart: a batch is interrupted by SIGKILL mid-run; a new server on the same data
// directory finishes it, nothing is lost and nothing finished before the kill runs again.
// Then the Playground picks the job up from its URL and downloads the archive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, CHROMIUM_ARGS, Server, binary, cleanup, mintToken, readZip, requireOrSkip, sleep,
  tempDir, testdataDir, writeZip,
} from './harness.mjs';

test('a batch survives SIGKILL of the server and completes after restart', async (t) => {
  const td = testdataDir();
  const bin = binary();
  if (!requireOrSkip(t, 'testdata', td) || !requireOrSkip(t, 'livegate binary (LIVEGATE_BIN)', bin)) return;
  const work = tempDir('livegate-resume-');
  t.after(() => cleanup(work));
  const data = join(work, 'data');
  const videos = [
    'videos/tranvanluyt_real.mp4', 'videos/lestari15_real.mp4', 'videos/blinkdetector_selfie_blinks.mp4',
    'spoof/tranvanluyt_fake_replay.mp4', 'spoof/lestari15_fake_replay.mp4',
  ];
  const entries = [];
  for (let i = 0; i < 6; i++) entries.push([`clip${i}_video.mp4`, join(td, videos[i % videos.length])]);
  const zip = writeZip(join(work, 'resume.zip'), entries);

  let server = await Server.start(bin, data);
  t.after(() => server.stop());
  const token = mintToken(bin);
  const auth = { Authorization: `Bearer ${token}` };

  const form = new FormData();
  form.append('file', new Blob([readFileSync(zip)], { type: 'application/zip' }), 'resume.zip');
  form.append('max_frames_to_analyze', '8');
  const res = await fetch(`${server.base}/v1/batches`, { method: 'POST', headers: auth, body: form });
  assert.equal(res.status, 202, await res.clone().text());
  const { id, total } = await res.json();
  assert.equal(total, 6);

  const get = async (base) => {
    const r = await fetch(`${base}/v1/batches/${id}`, { headers: auth });
    assert.equal(r.status, 200);
    return r.json();
  };
  let before;
  for (;;) {
    before = await get(server.base);
    if (before.done >= 1) break;
    await sleep(50);
  }
  await server.kill();
  assert.ok(before.done < before.total, `the batch finished before the kill (${before.done}/${before.total}); make it longer`);
  // Items with a result (not those pending or running at the kill).
  const doneBefore = before.items.filter((i) => i.status === 'ok' || i.status === 'error');

  // Same data directory, new process (and a new port, as after a real redeploy).
  server = await Server.start(bin, data);
  let after;
  const t0 = Date.now();
  for (;;) {
    after = await get(server.base);
    if (after.status === 'done') break;
    assert.ok(Date.now() - t0 < 600_000, 'resumed batch did not finish');
    await sleep(250);
  }
  assert.equal(after.total, 6);
  assert.equal(after.done, 6);
  assert.equal(after.ok + after.error, 6);
  assert.ok(after.items.every((i) => i.status === 'ok'), JSON.stringify(after.items.map((i) => [i.stem, i.status, i.response && i.response.message])));
  // Items finished before the kill were kept as they were, not analysed again.
  for (const prev of doneBefore) {
    const now = after.items.find((i) => i.stem === prev.stem);
    assert.deepEqual(now.response, prev.response, prev.stem);
    assert.equal(now.elapsed_ms, prev.elapsed_ms, prev.stem);
  }

  // The Playground, opened on the job's URL, shows it finished and downloads the archive.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript((tok) => localStorage.setItem('livegate.playground.token', tok), token);
  await page.goto(`${server.base}/#job=${id}`);
  await page.waitForSelector('#bulk-status[data-status="done"]', { timeout: 30_000 });
  assert.equal(await page.$$eval('#bulk-table tbody tr.ok', (r) => r.length), 6);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = join(work, 'out.zip');
  await download.saveAs(saved);
  const files = readZip(saved);
  for (let i = 0; i < 6; i++) assert.ok(files[`json/clip${i}.json`], `clip${i} in the archive`);
  assert.equal(JSON.parse(files['summary.json']).counts.ok, 6);
});
