// The Playground in a real headless Chromium against a real `livegate serve` with the real
// models: Single mode (liveness with details, facematch, the error envelope) and Bulk mode (a
// ZIP built from ../shared/testdata, the live table, the downloaded output archive).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, CHROMIUM_ARGS, Server, binary, cleanup, mintToken, parseCsv, readZip, requireOrSkip, tempDir, testdataDir, watch, writeZip,
} from './harness.mjs';

const CONTRACT_KEYS = [
  'result', 'confidence', 'blink_detection', 'image_input', 'video_input', 'facematch_result',
  'facematch_confidence', 'facematch_frames_tested', 'overall_result', 'overall_confidence',
  'image_result', 'image_confidence', 'video_frames_analyzed', 'real_video_frames',
  'total_video_frames', 'enhanced_detection', 'frame_sampling_rate', 'max_frames_analyzed',
];

const td = testdataDir();
const bin = binary();
let server, browser, token, work;

before(async () => {
  if (!td || !bin) return;
  work = tempDir('livegate-e2e-');
  server = await Server.start(bin, join(work, 'data'));
  token = mintToken(bin);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (work) cleanup(work);
});

/** A fresh page on the Playground, token typed in, with every request and page error recorded. */
async function openPlayground(t, path = '/') {
  const context = await browser.newContext({ acceptDownloads: true });
  t.after(() => context.close());
  const page = await context.newPage();
  const { offsite, errors } = watch(page, server.base);
  await page.goto(server.base + path);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#token', token);
  return { page, offsite, errors };
}

async function rawJson(page) {
  await page.click('#raw-toggle');
  return JSON.parse(await page.textContent('#raw-json'));
}

function ready(t) {
  return requireOrSkip(t, 'testdata', td) && requireOrSkip(t, 'livegate binary (LIVEGATE_BIN)', bin);
}

test('Single mode: still + video with details shows verdicts, face box and timeline', async (t) => {
  if (!ready(t)) return;
  const { page, offsite } = await openPlayground(t);
  await page.setInputFiles('#image', join(td, 'faces/tranvanluyt_dataset_real_0.png'));
  await page.setInputFiles('#video', join(td, 'videos/tranvanluyt_real.mp4'));
  assert.ok(await page.isVisible('#image-preview'), 'image preview shown');
  assert.ok(await page.isVisible('#video-preview'), 'video preview shown');
  // Every tuning field is on the page with the contract's default.
  for (const [name, v] of [['enhanced_detection', 'True'], ['facematch_frames', '3'], ['facematch_threshold', '0.6'],
    ['frame_sampling_rate', '15'], ['max_frames_to_analyze', '20'], ['image_type', 'file']]) {
    assert.equal(await page.inputValue(`[name="${name}"]`), v, name);
  }
  await page.check('#details');
  await page.click('#run');
  await page.waitForSelector('#result:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));

  const body = await rawJson(page);
  for (const k of CONTRACT_KEYS) assert.ok(k in body, `missing ${k}`);
  assert.equal(body.image_input, true);
  assert.equal(body.video_input, true);
  assert.ok(body.details, 'details requested');
  // What people see is what the API said.
  assert.equal(await page.getAttribute('#verdict-result', 'data-value'), body.result);
  assert.equal(await page.getAttribute('#verdict-overall', 'data-value'), body.overall_result);
  assert.equal(await page.getAttribute('#verdict-facematch', 'data-value'), body.facematch_result);
  assert.equal(await page.getAttribute('#verdict-blink', 'data-value'), body.blink_detection ? 'seen' : 'none');
  // A real face photo: the face is found and its box is drawn on the still.
  assert.ok(body.details.image && body.details.image.face, 'face found in the still');
  await page.waitForSelector('#still-canvas[data-face="drawn"]', { timeout: 10_000 });
  // Per-frame timeline of PAD score and eye openness.
  assert.ok(body.details.video.frames.length > 0);
  assert.ok(await page.isVisible('#timeline'));
  // This selfie turns its head: the motion line reports depth off the best plane.
  const motion = await page.textContent('#motion');
  assert.match(motion, /mesh residual off the best plane (\d\.\d+)/);
  assert.equal(Number(motion.match(/plane (\d\.\d+)/)[1]), Number(body.details.video.motion.residual.toFixed(3)));
  assert.deepEqual(offsite, [], 'the page loaded nothing from elsewhere');
});

test('Single mode: a photo without a face says why it is fake, without details', async (t) => {
  if (!ready(t)) return;
  const { page } = await openPlayground(t);
  await page.setInputFiles('#image', join(td, 'negative/dlib_dog_noface.jpg'));
  // details is on by default (face boxes and timeline on the first run); the reason must show
  // without it.
  assert.ok(await page.isChecked('#details'), 'details on by default');
  await page.uncheck('#details');
  await page.click('#run');
  await page.waitForSelector('#result:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
  assert.equal(await page.getAttribute('#verdict-result', 'data-value'), 'fake');
  assert.match(await page.textContent('#verdict-reason'), /no face was found/);
});

test('Single mode: facematch of the same person and of two people', async (t) => {
  if (!ready(t)) return;
  const { page } = await openPlayground(t);
  await page.click('#endpoint-facematch');
  assert.ok(await page.isHidden('#image'), 'liveness pickers hidden');
  const run = async (a, b) => {
    await page.setInputFiles('#image1', join(td, a));
    await page.setInputFiles('#image2', join(td, b));
    await page.click('#run');
    await page.waitForSelector('#result:not([hidden]), #error:not([hidden])', { timeout: 60_000 });
    assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
    const body = await rawJson(page);
    assert.equal(await page.getAttribute('#verdict-facematch', 'data-value'), body.facematch_result);
    assert.equal(typeof body.confidence_score, 'number');
    return body;
  };
  assert.equal((await run('faces/fr_obama.jpg', 'faces/fr_obama2.jpg')).facematch_result, 'True');
  assert.equal((await run('faces/fr_obama.jpg', 'faces/fr_biden.jpg')).facematch_result, 'False');
});

test('Single mode: errors are shown as the envelope says', async (t) => {
  if (!ready(t)) return;
  const { page } = await openPlayground(t);
  // Nothing picked: the server's 400 names the field.
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])');
  const text = await page.textContent('#error');
  assert.match(text, /HTTP 400/);
  assert.ok(await page.$$eval('#error li', (l) => l.length) >= 1, text);
  // A tuning value out of range: 422 lists the field.
  await page.setInputFiles('#image', join(td, 'faces/fr_obama.jpg'));
  await page.fill('[name="facematch_threshold"]', '7');
  await page.click('#run');
  await page.waitForFunction(() => /HTTP 422/.test(document.querySelector('#error').textContent));
  assert.match(await page.textContent('#error'), /facematch_threshold/);
  // A bad token: 401.
  await page.fill('[name="facematch_threshold"]', '0.6');
  await page.fill('#token', 'not-a-jwt');
  await page.click('#run');
  await page.waitForFunction(() => /HTTP 401/.test(document.querySelector('#error').textContent));
});

test('Bulk mode: a ZIP from the test data runs server-side and the archive has every stem', async (t) => {
  if (!ready(t)) return;
  const zip = writeZip(join(work, 'bulk.zip'), [
    ['tranvanluyt_image.png', join(td, 'faces/tranvanluyt_dataset_real_0.png')],
    ['tranvanluyt_video.mp4', join(td, 'videos/tranvanluyt_real.mp4')],
    ['replay_video.mp4', join(td, 'spoof/lestari15_fake_replay.mp4')],
    ['obama_image.jpg', join(td, 'faces/fr_obama.jpg')],
    ['obama_image1.jpg', join(td, 'faces/fr_obama.jpg')],
    ['pair/obama_image1.jpg', join(td, 'faces/fr_obama.jpg')],
    ['pair/obama_image2.jpg', join(td, 'faces/fr_obama2.jpg')],
    ['mixed_image1.jpg', join(td, 'faces/fr_obama.jpg')],
    ['mixed_image2.jpg', join(td, 'faces/fr_biden.jpg')],
    ['broken_image.jpg', join(td, 'negative/pillow/truncated_jpeg.jpg')],
    ['dog_image.jpg', join(td, 'negative/dlib_dog_noface.jpg')],
    ['README.txt', 'text:these files are for the e2e test'],
  ]);
  const { page, errors } = await openPlayground(t);
  await page.click('#mode-bulk');
  await page.setInputFiles('#zip', zip);
  await page.fill('[name="max_frames_to_analyze"]', '10');
  await page.click('#run');
  await page.waitForSelector('#bulk:not([hidden])');
  await page.waitForSelector('#bulk-status[data-status="done"]', { timeout: 600_000 });
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
  const rows = await page.$$eval('#bulk-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.stem, tr.className]));
  // "obama" is both a liveness stem and a facematch stem: its facematch file is skipped. The
  // folder keeps "pair/obama" a stem of its own.
  assert.deepEqual(rows.map((r) => r[0]).sort(), ['broken', 'dog', 'mixed', 'obama', 'pair/obama', 'replay', 'tranvanluyt']);
  // The no-face verdict says why in the table, without details.
  assert.match(await page.textContent('#bulk-table tr[data-stem="dog"]'), /fake \(no_face\)/);
  assert.match(await page.textContent('#bulk-table tr[data-stem="tranvanluyt"]'), /\(still near its threshold\)/);
  assert.doesNotMatch(await page.textContent('#bulk-table tr[data-stem="obama"]'), /near its threshold/);
  assert.equal(await page.textContent('#bulk-skipped-count'), '2');
  assert.match(await page.url(), /#job=[0-9a-f]{32}$/);
  // The page names the PAD weights that judged the batch: those the server loaded.
  const loaded = (await (await fetch(`${server.base}/readyz`)).json()).pad_weights;
  assert.equal(await page.textContent('#bulk-weights'),
    `PAD weights: ${Object.entries(loaded).map(([file, sha]) => `${file} ${sha.slice(0, 8)}…`).join(', ')}`);
  assert.ok(!(await page.getAttribute('#bulk-weights', 'class')).includes('warn'));

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = join(work, 'results.zip');
  await download.saveAs(saved);
  const files = readZip(saved);
  assert.deepEqual(Object.keys(files).sort(), [
    'json/broken.json', 'json/dog.json', 'json/mixed.json', 'json/obama.json', 'json/pair/obama.json', 'json/replay.json',
    'json/tranvanluyt.json',
    'results.csv', 'summary.json',
  ]);
  const csv = parseCsv(files['results.csv']);
  const byStem = Object.fromEntries(csv.filter((r) => r.stem).map((r) => [r.stem, r]));
  assert.equal(byStem.broken.status, 'error');
  assert.match(byStem.broken.error, /image/);
  for (const s of ['tranvanluyt', 'replay', 'obama']) {
    assert.equal(byStem[s].status, 'ok', `${s}: ${byStem[s].error}`);
    assert.ok(['real', 'fake'].includes(byStem[s].result));
    const full = JSON.parse(files[`json/${s}.json`]);
    for (const k of CONTRACT_KEYS) assert.ok(k in full, `${s} missing ${k}`);
    assert.equal(byStem[s].result, full.result);
    assert.equal(full.max_frames_analyzed, 10, 'the tuning field reached the batch');
  }
  assert.equal(byStem.dog.result, 'fake');
  assert.equal(byStem.dog.reason, 'no_face');
  assert.equal(byStem.obama.reason, '', 'a verdict the scores decided has no reason');
  // The student's live still scores just under the threshold: marked for a person's look.
  assert.deepEqual(['tranvanluyt', 'obama', 'replay', 'dog', 'mixed'].map((s) => byStem[s].near_threshold),
    ['true', 'false', 'false', 'false', '']);
  assert.equal(byStem.mixed.kind, 'facematch');
  assert.equal(byStem.mixed.facematch_result, 'False');
  assert.equal(byStem['pair/obama'].kind, 'facematch');
  assert.equal(byStem['pair/obama'].facematch_result, 'True');
  assert.equal(JSON.parse(files['json/pair/obama.json']).facematch_result, 'True');
  const skipped = csv.filter((r) => r.status === 'skipped').map((r) => r.files).sort();
  assert.deepEqual(skipped, ['README.txt', 'obama_image1.jpg']);
  const summary = JSON.parse(files['summary.json']);
  assert.equal(summary.counts.stems, 7);
  assert.equal(summary.counts.ok + summary.counts.error, 7);
  assert.equal(summary.counts.skipped_files, 2);
  assert.equal(summary.counts.near_threshold, 1);
  assert.equal(summary.settings.max_frames_to_analyze, 10);
  // Every liveness verdict names the PAD weights that judged it: those the server says it
  // loaded, in each row and, once for the batch, in the summary.
  const named = Object.entries(loaded).map(([file, sha]) => `${file}:${sha}`).join(' ');
  assert.match(named, /^crop_27\.onnx:[0-9a-f]{64} crop_40\.onnx:[0-9a-f]{64}$/);
  for (const s of ['tranvanluyt', 'obama', 'replay', 'dog']) assert.equal(byStem[s].pad_weights, named, s);
  assert.equal(byStem.mixed.pad_weights, '', 'no PAD model judges a facematch');
  assert.equal(byStem.broken.pad_weights, '');
  const threshold = (await (await fetch(`${server.base}/readyz`)).json()).image_real_threshold;
  assert.deepEqual(summary.pad_weights, [{ weights: loaded, image_real_threshold: threshold, verdicts: 4 }]);
  for (const s of ['tranvanluyt', 'obama', 'replay', 'dog']) assert.equal(Number(byStem[s].image_real_threshold), threshold, s);
  assert.equal(byStem.mixed.image_real_threshold, '', 'no still threshold judges a facematch');

  // "Erase from server" deletes the batch: the server then answers 404 for it.
  const jobId = (await page.url()).split('#job=')[1];
  // It asks first; declined, nothing happens.
  page.once('dialog', (d) => d.dismiss());
  await page.click('#erase');
  assert.notEqual(await page.getAttribute('#bulk-status', 'data-status'), 'erased');
  page.once('dialog', (d) => d.accept());
  await page.click('#erase');
  await page.waitForSelector('#bulk-status[data-status="erased"]');
  assert.equal(await page.textContent('#bulk-counts'), '');
  const after = await page.evaluate(async (id) => {
    const token = document.getElementById('token').value.trim();
    const res = await fetch(`/v1/batches/${id}`, { headers: { Authorization: `Bearer ${token}` } });
    return res.status;
  }, jobId);
  assert.equal(after, 404);
  assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), []);
});

test('Bulk mode: a hostile ZIP is refused with the envelope', async (t) => {
  if (!ready(t)) return;
  const traversal = writeZip(join(work, 'evil.zip'), [['../evil_image.jpg', join(td, 'faces/fr_obama.jpg')]]);
  const { page } = await openPlayground(t);
  await page.click('#mode-bulk');
  await page.setInputFiles('#zip', traversal);
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])');
  const text = await page.textContent('#error');
  assert.match(text, /HTTP 400/);
  assert.match(text, /\.\./);
});
