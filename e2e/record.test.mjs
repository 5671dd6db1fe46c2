// Record mode in a real headless Chromium against a real `livegate serve`: the camera is
// Chromium's fake capture device fed from a clip of a person turning their head (made with
// ffmpeg at test time), so the whole flow runs: camera preview, POST /v1/challenges, the steps
// shown in their windows while MediaRecorder records, POST /liveness with the video, a still and
// challenge_id, and the result with its per-step timeline. The challenge is random and the clip
// is not, so the test checks the flow and the rendering, never that the challenge passed.
// Camera refused, no camera, no token, a 4xx from the server and Cancel are checked too, the
// first two with real browsers launched without the fake permission UI / without the fake device.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, CHROMIUM_ARGS, Server, binary, cleanup, mintToken, requireOrSkip, tempDir, testdataDir, watch,
} from './harness.mjs';

const td = testdataDir();
const bin = binary();
const CLIP = td && join(td, 'videos/tranvanluyt_real.mp4');
let server, token, work, y4m, ffmpegOk = false;
const browsers = [];

function hasFfmpeg() {
  try { execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

before(async () => {
  if (!td || !bin) return;
  work = tempDir('livegate-e2e-record-');
  ffmpegOk = hasFfmpeg();
  if (ffmpegOk) {
    // Chromium's fake camera plays a raw .y4m file in a loop.
    y4m = join(work, 'camera.y4m');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', CLIP, '-t', '20', '-vf', 'scale=368:656,fps=30',
      '-pix_fmt', 'yuv420p', y4m]);
  }
  server = await Server.start(bin, join(work, 'data'));
  token = mintToken(bin);
});

after(async () => {
  for (const b of browsers) await b.close();
  if (server) await server.stop();
  if (work) cleanup(work);
});

function ready(t) {
  return requireOrSkip(t, 'testdata', td) && requireOrSkip(t, 'livegate binary (LIVEGATE_BIN)', bin)
    && requireOrSkip(t, 'ffmpeg', ffmpegOk);
}

/** A Chromium whose camera flags are `camera`: the clip as a camera with permission granted
 *  (default), `deny` (a camera, the permission prompt refused), `none` (granted, no camera). */
async function launch(camera = 'clip') {
  const extra = {
    clip: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
    deny: ['--use-fake-device-for-media-stream'],
    none: ['--use-fake-ui-for-media-stream'],
  }[camera];
  const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extra] });
  browsers.push(b);
  return b;
}

/** A fresh context on the Playground; every off-origin request and page error kept. */
async function open(t, browser, options = {}, { typeToken = true } = {}) {
  const context = await browser.newContext(options);
  t.after(() => context.close());
  // Keeps what the page posts as FormData (field names, strings, files' name/type/size), by path.
  await context.addInitScript(() => {
    const real = window.fetch;
    window.__sentForms = {};
    window.fetch = function (input, init) {
      if (init && init.body instanceof FormData) {
        window.__sentForms[String(input)] = [...init.body.entries()].map(([k, v]) => [k,
          typeof v === 'string' ? v : { filename: v.name, type: v.type, size: v.size }]);
      }
      return real.call(this, input, init);
    };
  });
  const page = await context.newPage();
  const { offsite, errors } = watch(page, server.base);
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  if (typeToken) await page.fill('#token', token);
  return { page, offsite, errors };
}

/** Record mode with the camera on and Start enabled. */
async function enterRecord(page) {
  await page.click('#mode-record');
  assert.equal(await page.getAttribute('#mode-record', 'aria-selected'), 'true');
  assert.equal(await page.getAttribute('#endpoint-liveness', 'aria-selected'), 'true', 'Record uses /liveness');
  await page.waitForSelector('#rec-start:not([disabled])', { timeout: 20_000 });
}

const lum = (css) => css.match(/[\d.]+/g).slice(0, 3).map(Number).reduce((a, b) => a + b) / 3;

test('Record mode: a challenge performed on the (fake) camera, sent with challenge_id, rendered per step', async (t) => {
  if (!ready(t)) return;
  const browser = await launch('clip');
  // A phone in dark mode: the flow and its result must fit and follow the palette.
  const { page, offsite, errors } = await open(t, browser, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await enterRecord(page);
  assert.ok(await page.isHidden('#run'), 'Record has its own Start button');
  assert.ok(await page.isHidden('#image'), 'no file pickers in Record mode');
  const cam = await page.$eval('#cam', (v) => ({
    w: v.videoWidth, h: v.videoHeight, label: v.srcObject && v.srcObject.getVideoTracks()[0].label,
    transform: getComputedStyle(v).transform,
  }));
  assert.ok(cam.w > 0 && cam.h > 0, `the camera gives a picture: ${JSON.stringify(cam)}`);
  assert.match(cam.label, /camera\.y4m/, 'the fake camera plays the clip');
  assert.match(cam.transform, /^matrix\(-1, 0, 0, 1,/, 'the preview is mirrored');

  const issued = page.waitForResponse((r) => r.url() === `${server.base}/v1/challenges` && r.request().method() === 'POST');
  const sent = page.waitForRequest((r) => r.url() === `${server.base}/liveness` && r.method() === 'POST', { timeout: 60_000 });
  await page.click('#rec-start');
  const res = await issued;
  assert.equal(res.status(), 201);
  const challenge = await res.json();
  const n = challenge.steps.length;
  assert.ok(n >= 2 && n <= 4, JSON.stringify(challenge));

  // Each step is shown on the picture during its window, in order, with a countdown ring.
  await page.waitForSelector('#rec-overlay:not([hidden])', { timeout: 10_000 });
  assert.ok(await page.isVisible('#rec-cancel'), 'Cancel while recording');
  assert.ok(await page.isDisabled('#rec-start'), 'one recording at a time');
  for (let i = 0; i < n; i++) {
    await page.waitForSelector(`#rec-overlay[data-step-index="${i}"]`, { timeout: 10_000 });
    const shown = await page.textContent('#rec-instruction');
    assert.ok(shown.includes(challenge.steps[i].instruction), `step ${i}: shows "${shown}"`);
    assert.equal(await page.textContent('#rec-step-of'), `Step ${i + 1} of ${n}`);
    assert.ok(await page.$eval('#rec-ring-fill', (c) => c.hasAttribute('stroke-dashoffset')), 'the ring counts down');
    assert.match(await page.textContent('#rec-countdown'), /^[0-9]$/);
  }
  await page.waitForSelector('#rec-overlay[data-phase="tail"]', { timeout: 10_000 });

  // The request: the recording, a still and the challenge's id, details on. (The DevTools
  // protocol does not expose a body with file parts, so the page's own record of it is read.)
  await sent;
  const form = Object.fromEntries(await page.evaluate(() => window.__sentForms['/liveness']));
  assert.equal(form.challenge_id, challenge.challenge_id, 'the id the server issued');
  assert.equal(form.details, 'True');
  assert.equal(form.video.filename, 'record.webm');
  assert.match(form.video.type, /^video\/webm/);
  assert.ok(form.video.size > 50_000, `a real recording: ${form.video.size} bytes`);
  assert.equal(form.image.filename, 'still.jpg');
  assert.equal(form.image.type, 'image/jpeg');

  await page.waitForSelector('#result:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
  await page.click('#raw-toggle');
  const body = JSON.parse(await page.textContent('#raw-json'));
  assert.equal(body.video_input, true);
  assert.equal(body.image_input, true);
  const ch = body.details.challenge;
  assert.ok(ch && ch.check, `details.challenge: ${JSON.stringify(ch)}`);
  // The server judged the steps it issued: the request carried that challenge.
  assert.deepEqual(ch.check.steps.map((s) => [s.step, s.start_s, s.end_s]), challenge.steps.map((s) => [s.step, s.start_s, s.end_s]));
  assert.ok(ch.poses.length > 5, `a pose per analysed frame with a face: ${ch.poses.length}`);
  if (!ch.passed) assert.equal(body.result, 'fake', 'a failed challenge makes the verdict fake');

  // Verdict badges, the challenge's among them.
  for (const id of ['verdict-result', 'verdict-overall', 'verdict-image', 'verdict-blink', 'verdict-challenge']) {
    assert.ok(await page.isVisible(`#${id}`), `#${id}`);
  }
  assert.equal(await page.getAttribute('#verdict-result', 'data-value'), body.result);
  assert.equal(await page.getAttribute('#verdict-challenge', 'data-value'), ch.passed ? 'passed' : 'failed');
  assert.match(await page.textContent('#challenge-summary'), ch.passed ? /^Challenge passed/ : /^Challenge failed/);
  if (ch.failure === 'steps_not_seen') {
    assert.match(await page.textContent('#verdict-reason'), /did not perform the challenge/);
  }

  // One row per step, the server's steps in its order, passed or failed in words.
  const rows = await page.$$eval('#challenge-steps li', (lis) => lis.map((li) => ({
    step: li.dataset.step, passed: li.dataset.passed, name: li.querySelector('.step-name').textContent,
    result: li.querySelector('.step-result').textContent, detail: li.querySelector('.step-detail').textContent,
  })));
  assert.equal(rows.length, n);
  rows.forEach((row, i) => {
    const want = ch.check.steps[i];
    assert.equal(row.step, challenge.steps[i].step);
    assert.equal(row.name, challenge.steps[i].instruction);
    assert.equal(row.passed, String(want.passed));
    assert.match(row.result, want.passed ? /passed/ : /failed/);
    assert.ok(row.detail.length > 0);
  });

  // The pose chart: yaw and pitch curves through every pose, a shaded window per step with
  // ✓/✗, a mark per blink.
  const chart = await page.$eval('#challenge-chart', (svg) => ({
    points: Number(svg.dataset.points),
    curves: [...svg.querySelectorAll('path.curve')].map((p) => ({ series: p.dataset.series, segments: (p.getAttribute('d').match(/[ML]/g) || []).length })),
    windows: [...svg.querySelectorAll('rect.win')].map((r) => ({ step: r.dataset.step, cls: r.getAttribute('class'), w: Number(r.getAttribute('width')) })),
    labels: [...svg.querySelectorAll('text.win-label')].map((l) => l.textContent),
    blinks: svg.querySelectorAll('rect.blink-mark').length,
    bg: getComputedStyle(svg.querySelector('.chart-bg')).fill,
    box: svg.getBoundingClientRect().width,
  }));
  assert.equal(chart.points, ch.poses.length);
  for (const series of ['yaw', 'pitch']) {
    const c = chart.curves.find((x) => x.series === series);
    assert.ok(c && c.segments === ch.poses.length, `${series} curve through every pose: ${JSON.stringify(chart.curves)}`);
  }
  assert.deepEqual(chart.windows.map((w) => w.step), challenge.steps.map((s) => s.step));
  assert.ok(chart.windows.every((w) => w.w > 10), JSON.stringify(chart.windows));
  chart.labels.forEach((l, i) => assert.ok(l.endsWith(ch.check.steps[i].passed ? '✓' : '✗'), l));
  assert.equal(chart.blinks, ((body.details.video.blinks || {}).blinks || []).length);
  assert.ok(lum(chart.bg) < 60, `the chart is dark in dark mode: ${chart.bg}`);
  assert.ok(chart.box <= 390, `chart ${chart.box} px`);

  // The still drawn with its face box, and the recording playable.
  await page.waitForSelector('#still-canvas[data-face="drawn"]', { timeout: 10_000 });
  assert.ok(await page.$('#recording[src^="blob:"]'));

  // Nothing scrolls sideways on the phone, and the page stayed on its origin with no errors
  // (a CSP violation would be a console error).
  const scrollWidth = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(scrollWidth <= 390, `page is ${scrollWidth} px wide at 390`);
  assert.deepEqual(offsite, []);
  assert.deepEqual(errors, []);

  // Leaving Record mode gives the camera back.
  await page.click('#mode-single');
  assert.equal(await page.$eval('#cam', (v) => v.srcObject), null);
  assert.ok(await page.isVisible('#run'));
});

test('Record mode errors: camera refused, no camera, no token, a 4xx from the server; Cancel sends nothing', async (t) => {
  if (!ready(t)) return;
  // The permission prompt refused (headless Chromium dismisses it without the fake UI flag).
  {
    const { page } = await open(t, await launch('deny'));
    await page.click('#mode-record');
    await page.waitForSelector('#error:not([hidden])', { timeout: 20_000 });
    assert.match(await page.textContent('#error'), /^Camera: Camera access was denied/);
    assert.ok(await page.isDisabled('#rec-start'));
    assert.ok(await page.isVisible('#cam-retry'), 'a way to ask again');
    assert.equal(await page.textContent('#cam-off'), 'Camera access denied');
  }
  // Permission granted, but there is no camera.
  {
    const { page } = await open(t, await launch('none'));
    await page.click('#mode-record');
    await page.waitForSelector('#error:not([hidden])', { timeout: 20_000 });
    assert.match(await page.textContent('#error'), /^Camera: No camera was found/);
    assert.ok(await page.isDisabled('#rec-start'));
    assert.equal(await page.textContent('#cam-off'), 'No camera found');
  }
  const browser = await launch('clip');
  // No token: the challenge request is refused with 401 and the page says how to get a token.
  {
    const { page } = await open(t, browser, {}, { typeToken: false });
    await enterRecord(page);
    await page.click('#rec-start');
    await page.waitForSelector('#error:not([hidden])', { timeout: 20_000 });
    const text = await page.textContent('#error');
    assert.match(text, /^HTTP 401/);
    assert.match(text, /Paste a valid token/);
    assert.ok(await page.isHidden('#rec-overlay'), 'nothing was recorded');
    await page.waitForSelector('#rec-start:not([disabled])');
    assert.ok(await page.isHidden('#result'));
  }
  // A 4xx with the contract's envelope (here a rate limit): its message and fields are shown.
  {
    const { page } = await open(t, browser);
    await page.route('**/v1/challenges', (route) => route.fulfill({
      status: 429, contentType: 'application/json',
      body: JSON.stringify({ detail: { header: { authorization: ['too many requests for this client'] } }, message: 'rate limited' }),
    }));
    await enterRecord(page);
    await page.click('#rec-start');
    await page.waitForSelector('#error:not([hidden])', { timeout: 20_000 });
    const text = await page.textContent('#error');
    assert.match(text, /^HTTP 429: rate limited/);
    assert.match(text, /header\.authorization too many requests/);
    await page.waitForSelector('#rec-start:not([disabled])');
  }
  // Cancel during the recording: nothing is sent, and Start works again.
  {
    const { page } = await open(t, browser);
    let posted = 0;
    page.on('request', (r) => { if (r.url() === `${server.base}/liveness`) posted++; });
    await enterRecord(page);
    await page.click('#rec-start');
    await page.waitForSelector('#rec-overlay[data-step-index="0"]', { timeout: 10_000 });
    await page.click('#rec-cancel');
    await page.waitForSelector('#rec-overlay', { state: 'hidden' });
    assert.match(await page.textContent('#rec-status'), /^Cancelled/);
    await page.waitForSelector('#rec-start:not([disabled])');
    assert.ok(await page.isHidden('#rec-cancel'));
    assert.ok(await page.isHidden('#error'));
    assert.ok(await page.isHidden('#result'));
    assert.equal(posted, 0, 'a cancelled recording is not sent');
  }
});
