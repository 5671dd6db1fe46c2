// Usability of the Playground in a real headless Chromium against a real `livegate serve`:
// a phone-width screen, dark mode, what a verdict means, the face box at the image edge, a
// batch link opened without a token, the Bulk table's outcomes and per-item JSON, a refused
// upload, keyboard and screen-reader use, and the API reference at /docs (deep links, phone
// width). Layout is compared with bounding boxes and computed styles, not pixels.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM, CHROMIUM_ARGS, Server, binary, cleanup, mintToken, readFileSync, requireOrSkip, sleep, tempDir, testdataDir, watch, writeZip,
} from './harness.mjs';

const td = testdataDir();
const bin = binary();
let server, browser, token, work;

before(async () => {
  if (!td || !bin) return;
  work = tempDir('livegate-e2e-ux-');
  server = await Server.start(bin, join(work, 'data'));
  token = mintToken(bin);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (work) cleanup(work);
});

function ready(t) {
  return requireOrSkip(t, 'testdata', td) && requireOrSkip(t, 'livegate binary (LIVEGATE_BIN)', bin);
}

/** A fresh context (no saved token) on `path`; every off-origin request and page error kept. */
async function open(t, path = '/', options = {}, { typeToken = true } = {}) {
  const context = await browser.newContext({ acceptDownloads: true, ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  const { offsite, errors } = watch(page, server.base);
  await page.goto(server.base + path);
  if (path === '/' || path.startsWith('/#')) {
    await page.waitForSelector('body[data-ready="true"]');
    if (typeToken) await page.fill('#token', token);
  }
  return { page, offsite, errors };
}

async function runAndWait(page) {
  await page.click('#run');
  await page.waitForSelector('#result:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
  await page.click('#raw-toggle');
  return JSON.parse(await page.textContent('#raw-json'));
}

/** The page's number format for thresholds and scores (at most 4 decimals). */
const num = (x) => String(Number(x.toFixed(4)));

/** WCAG contrast ratio of two computed `rgb(…)` colours. */
function contrast(a, b) {
  const lum = (css) => {
    const [r, g, bl] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const styleOf = (page, sel) => page.$eval(sel, (el) => {
  const s = getComputedStyle(el);
  return { bg: s.backgroundColor, fg: s.color };
});

/** Nothing scrolls sideways, and every tab button lies fully inside the viewport and is not
 *  clipped: its own box sits inside its segment (which hides overflow), and hit-testing just
 *  inside the middle of each of its four sides lands on the button itself (not the corners: the
 *  segment's rounded corners clip those on purpose). */
async function assertFits(page, width, when) {
  const scrollWidth = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(scrollWidth <= width, `${when}: page is ${scrollWidth} px wide at a ${width} px viewport`);
  // The toggles are at the top: hit-testing needs them on screen.
  await page.evaluate(() => window.scrollTo(0, 0));
  const tabs = await page.$$eval('[role="tab"]', (bs) => bs.map((b) => {
    const r = b.getBoundingClientRect();
    const seg = b.closest('.seg').getBoundingClientRect();
    const [cx, cy] = [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
    const sides = [[r.left + 2, cy], [r.right - 2, cy], [cx, r.top + 2], [cx, r.bottom - 2]];
    return {
      id: b.id, left: r.left, right: r.right, segLeft: seg.left, segRight: seg.right,
      hit: sides.every(([x, y]) => b.contains(document.elementFromPoint(x, y))),
    };
  }));
  for (const tab of tabs) {
    const detail = `${when}: ${JSON.stringify(tab)}`;
    assert.ok(tab.left >= 0 && tab.right <= width, `outside the viewport, ${detail}`);
    assert.ok(tab.left >= tab.segLeft - 0.5 && tab.right <= tab.segRight + 0.5, `clipped by its segment, ${detail}`);
    assert.ok(tab.hit, `not hit-testable on every side, ${detail}`);
  }
}

/** Creates a batch through the API and waits for it to finish; returns its final status. */
async function finishedBatch(zip) {
  const fd = new FormData();
  fd.append('file', new Blob([readFileSync(zip)], { type: 'application/zip' }), 'ux.zip');
  const auth = { Authorization: `Bearer ${token}` };
  const created = await fetch(`${server.base}/v1/batches`, { method: 'POST', headers: auth, body: fd });
  assert.ok(created.ok, `POST /v1/batches: ${created.status} ${await created.clone().text()}`);
  const { id } = await created.json();
  for (let i = 0; i < 600; i++) {
    const job = await (await fetch(`${server.base}/v1/batches/${id}`, { headers: auth })).json();
    if (job.status === 'done') return job;
    await sleep(250);
  }
  throw new Error(`batch ${id} did not finish`);
}

test('Phone width (390 px): both toggles fit, every tab is clickable, nothing scrolls sideways', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t, '/', { viewport: { width: 390, height: 844 } });
  await assertFits(page, 390, 'first paint');
  // Every tab is clickable where it is (Playwright clicks the middle of its box) and selects.
  for (const id of ['endpoint-facematch', 'mode-bulk', 'mode-single', 'endpoint-liveness']) {
    await page.click(`#${id}`);
    assert.equal(await page.getAttribute(`#${id}`, 'aria-selected'), 'true', id);
    await assertFits(page, 390, `after ${id}`);
  }
  // With a result on screen (badges, explanation, face box, tables) it still fits.
  await page.setInputFiles('#image', join(td, 'faces/fr_obama.jpg'));
  await runAndWait(page);
  await page.waitForSelector('#still-canvas[data-face="drawn"]');
  await assertFits(page, 390, 'with a result');
});

test('Dark mode: the palette follows prefers-color-scheme with readable contrast', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t, '/', { colorScheme: 'dark' });
  const body = await styleOf(page, 'body');
  const lum = (css) => css.match(/[\d.]+/g).slice(0, 3).map(Number).reduce((a, b) => a + b) / 3;
  assert.ok(lum(body.bg) < 60, `dark background, got ${body.bg}`);
  assert.ok(lum(body.fg) > 200, `light text, got ${body.fg}`);
  assert.ok(contrast(body.bg, body.fg) >= 7, `body text ${body.fg} on ${body.bg}`);
  // The cards, fields and secondary text are dark-mode too, not white boxes.
  const form = await styleOf(page, '#form');
  assert.ok(lum(form.bg) < 60, `form card ${form.bg}`);
  const field = await styleOf(page, '#token');
  assert.ok(lum(field.bg) < 60 && contrast(field.bg, field.fg) >= 7, `token field ${JSON.stringify(field)}`);
  const legend = await styleOf(page, 'legend');
  assert.ok(contrast(form.bg, legend.fg) >= 4.5, `muted text ${legend.fg} on ${form.bg}`);
  const run = await styleOf(page, '#run');
  assert.ok(contrast(run.bg, run.fg) >= 4.5, `Run button ${JSON.stringify(run)}`);
  const link = await styleOf(page, 'a.doclink');
  assert.ok(contrast(body.bg, link.fg) >= 4.5, `link ${link.fg} on ${body.bg}`);
  // A result: verdict badge and the explanation stay readable.
  await page.fill('#token', token);
  await page.setInputFiles('#image', join(td, 'negative/dlib_dog_noface.jpg'));
  await runAndWait(page);
  const badge = await styleOf(page, '#verdict-result');
  assert.ok(contrast(badge.bg, badge.fg) >= 4.5, `fake badge ${JSON.stringify(badge)}`);
  const result = await styleOf(page, '#result');
  const meaning = await styleOf(page, '#verdict-confidence');
  assert.ok(contrast(result.bg, meaning.fg) >= 7, `explanation ${meaning.fg} on ${result.bg}`);
  // And light mode is still light.
  const light = await open(t, '/', { colorScheme: 'light' });
  const lightBody = await styleOf(light.page, 'body');
  assert.ok(lum(lightBody.bg) > 200 && lum(lightBody.fg) < 60, JSON.stringify(lightBody));
});

test('The verdict says what confidence means and which threshold applied', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t);
  const meaningBelowBadges = async () => {
    const badges = await (await page.$('#result .badges')).boundingBox();
    const meaning = await (await page.$('#verdict-meaning')).boundingBox();
    assert.ok(meaning.y >= badges.y + badges.height - 1 && meaning.y - (badges.y + badges.height) < 40,
      `explanation right under the badges: ${JSON.stringify({ badges, meaning })}`);
  };

  // A real still: confidence is the live score, the still's threshold comes from details.rules.
  await page.setInputFiles('#image', join(td, 'faces/fr_obama.jpg'));
  let body = await runAndWait(page);
  assert.equal(body.result, 'real');
  assert.ok(body.details.rules, 'details.rules in the response');
  await meaningBelowBadges();
  let conf = await page.textContent('#verdict-confidence');
  assert.ok(conf.includes(`confidence ${num(body.confidence)}`), conf);
  assert.match(conf, /verdict shown, “real”/);
  let threshold = await page.textContent('#verdict-threshold');
  assert.ok(threshold.includes(`A still is real when its live score ≥ ${num(body.details.rules.image_real_threshold)}`), threshold);
  assert.ok(threshold.includes(`scored ${num(body.details.image.pad.fused)}`), threshold);
  assert.ok(await page.isHidden('#verdict-reason'), 'no rule decided');
  assert.equal(body.details.review.image_near_threshold, false);
  assert.equal(await page.$('#verdict-review'), null, 'far from the threshold: no review line');

  // A live still scored just under the threshold: rejected, and flagged as worth a look.
  await page.setInputFiles('#image', join(td, 'faces/tranvanluyt_dataset_real_0.png'));
  body = await runAndWait(page);
  assert.equal(body.details.review.image_near_threshold, true);
  assert.match(await page.textContent('#verdict-review'),
    /within 0\.1 of the threshold: a verdict of the kind worth a person's look/);

  // A printed-photo attack, fake by its score: the confidence is in "fake", not in "real".
  await page.setInputFiles('#image', join(td, 'spoof/tranvanluyt_dataset_fake_0.png'));
  body = await runAndWait(page);
  assert.equal(body.result, 'fake');
  conf = await page.textContent('#verdict-confidence');
  assert.match(conf, /verdict shown, “fake”; it is not the chance of “real”/);
  assert.ok(conf.includes(`= ${num(1 - body.confidence)} is the live score`), conf);

  // A photo without a face: a rule decided, and the reason says which.
  await page.setInputFiles('#image', join(td, 'negative/dlib_dog_noface.jpg'));
  body = await runAndWait(page);
  assert.equal(body.result, 'fake');
  assert.match(await page.textContent('#verdict-reason'), /Why fake: no face was found in the image/);
  assert.match(await page.textContent('#verdict-confidence'), /a rule decided/);
  await meaningBelowBadges();

  // A video: the fused threshold, and the fused score it is compared with.
  await page.setInputFiles('#image', []);
  await page.setInputFiles('#video', join(td, 'videos/tranvanluyt_real.mp4'));
  body = await runAndWait(page);
  threshold = await page.textContent('#verdict-threshold');
  assert.ok(threshold.includes(`fused score (PAD, motion, blink) ≥ ${num(body.details.rules.result_real_threshold)}`), threshold);
  assert.ok(threshold.includes(`fused to ${num(body.details.fusion.score)}`), threshold);

  // A live still judged fake alone (live score 0.36) beside a live video of the same person:
  // the video decides, and the page says how much the still weighs.
  await page.setInputFiles('#image', join(td, 'faces/tranvanluyt_dataset_real_0.png'));
  body = await runAndWait(page);
  assert.equal(body.image_result, 'fake');
  assert.equal(body.result, 'real');
  threshold = await page.textContent('#verdict-threshold');
  assert.ok(threshold.includes(`counts for ${Math.round(body.details.rules.image_in_video * 100)} % of the PAD signal`), threshold);

  // A replayed still (live score 0.02) beside the same live video: an attack beyond doubt is
  // a veto, and the reason says so.
  await page.setInputFiles('#image', join(td, 'spoof/tranvanluyt_dataset_fake_0.png'));
  body = await runAndWait(page);
  assert.equal(body.result, 'fake');
  assert.match(await page.textContent('#verdict-reason'), /Why fake: the image is a presentation attack beyond doubt/);
});

test('The face box is clipped to the image when the face touches its edge', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t);
  // Crop the photo in the page so the face runs off the top-left corner (no image tools needed).
  const png = await page.evaluate(async (dataUrl) => {
    const img = new Image();
    img.src = dataUrl;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = 500; c.height = 700;
    c.getContext('2d').drawImage(img, 420, 200, 500, 700, 0, 0, 500, 700);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, `data:image/jpeg;base64,${readFileSync(join(td, 'faces/fr_obama.jpg')).toString('base64')}`);
  await page.setInputFiles('#image', { name: 'edge.png', mimeType: 'image/png', buffer: Buffer.from(png) });
  const body = await runAndWait(page);
  const b = body.details.image.face && body.details.image.face.bbox;
  assert.ok(b && (b.x < 0 || b.y < 0), `the detector's box leaves the image: ${JSON.stringify(b)}`);
  await page.waitForSelector('#still-canvas[data-face="drawn"]');
  const drawn = await page.$eval('#still-canvas', (c) => ({
    w: c.width, h: c.height, box: c.dataset.box.split(',').map(Number), lw: Number(c.dataset.lineWidth),
    clipped: c.dataset.clipped,
  }));
  const [x0, y0, x1, y1] = drawn.box;
  assert.equal(drawn.clipped, 'true');
  assert.ok(x0 >= 0 && y0 >= 0 && x1 <= drawn.w && y1 <= drawn.h && x1 > x0 && y1 > y0, JSON.stringify(drawn));
  // The box's top-left corner sits on the image corner, with its whole stroke inside the canvas.
  assert.equal(x0, 0);
  assert.equal(y0, 0);
  // And the canvas element itself lies within its card, not over the page edge.
  const canvasBox = await (await page.$('#still-canvas')).boundingBox();
  const cardBox = await (await page.$('#result')).boundingBox();
  assert.ok(canvasBox.x >= cardBox.x && canvasBox.x + canvasBox.width <= cardBox.x + cardBox.width, JSON.stringify({ canvasBox, cardBox }));
});

test('A batch link opened without a token shows the 401, no stale status, and loads once a token is pasted; rows show outcomes and each JSON', async (t) => {
  if (!ready(t)) return;
  const zip = writeZip(join(work, 'ux.zip'), [
    ['obama_image.jpg', join(td, 'faces/fr_obama.jpg')],
    ['dog_image.jpg', join(td, 'negative/dlib_dog_noface.jpg')],
    ['broken_image.jpg', join(td, 'negative/pillow/truncated_jpeg.jpg')],
    ['pair_image1.jpg', join(td, 'faces/fr_obama.jpg')],
    ['pair_image2.jpg', join(td, 'faces/fr_obama2.jpg')],
  ]);
  const job = await finishedBatch(zip);
  // A phone, and a browser that has never seen a token.
  const { page } = await open(t, `/#job=${job.id}`, { viewport: { width: 390, height: 844 } }, { typeToken: false });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /HTTP 401/);
  assert.ok(await page.isVisible('#bulk-auth'), 'asks for a token');
  assert.ok(await page.isHidden('#bulk-status'), 'no status badge for a job the page cannot see');
  assert.notEqual(await page.textContent('#bulk-status'), 'queued');
  assert.ok(await page.isDisabled('#cancel'), 'Cancel disabled');
  assert.ok(await page.isDisabled('#download'), 'Download disabled');
  assert.equal(await page.$$eval('#bulk-table tbody tr', (r) => r.length), 0);

  // A bad token is refused the same way.
  const refused = page.waitForResponse((r) => r.url().endsWith(`/v1/batches/${job.id}`) && r.status() === 401);
  await page.fill('#token', 'not-a-jwt');
  await refused;
  await page.waitForSelector('#error:not([hidden])');
  assert.ok(await page.isHidden('#bulk-status'));
  assert.ok(await page.isDisabled('#cancel'));

  // Pasting the token loads the batch: the error goes, the real status and buttons come.
  await page.fill('#token', token);
  await page.waitForSelector('#bulk-status[data-status="done"]');
  assert.ok(await page.isVisible('#bulk-status'));
  assert.ok(await page.isHidden('#error'));
  assert.ok(await page.isHidden('#bulk-auth'));
  assert.ok(await page.isDisabled('#cancel'), 'a finished job cannot be cancelled');
  assert.ok(await page.isEnabled('#download'));
  await assertFits(page, 390, 'batch table on a phone');

  // Rows: tinted by outcome and saying it in words.
  const rows = await page.$$eval('#bulk-table tbody tr', (trs) => trs.map((tr) => ({
    stem: tr.dataset.stem, outcome: tr.dataset.outcome, words: tr.querySelector('td.outcome').textContent,
    bg: getComputedStyle(tr.querySelector('td')).backgroundColor,
  })));
  const by = Object.fromEntries(rows.map((r) => [r.stem, r]));
  const expect = { obama: ['good', /real/], dog: ['bad', /fake/], broken: ['error', /error/], pair: ['good', /match/] };
  for (const item of job.items) {
    const [tone, words] = expect[item.stem];
    assert.equal(by[item.stem].outcome, tone, item.stem);
    assert.match(by[item.stem].words, words, item.stem);
  }
  assert.equal(new Set([by.obama.bg, by.dog.bg, by.broken.bg]).size, 3, `three colours: ${JSON.stringify(rows)}`);
  assert.equal(by.obama.bg, by.pair.bg, 'a match is coloured like a real verdict');

  // Each item's full response opens below the table, as the API gave it.
  assert.ok(await page.isHidden('#bulk-item'));
  for (const stem of ['dog', 'broken']) {
    await page.click(`#bulk-table tr[data-stem="${stem}"] button.json`);
    assert.ok(await page.isVisible('#bulk-item-json'));
    assert.equal(await page.textContent('#bulk-item-stem'), stem);
    const shown = JSON.parse(await page.textContent('#bulk-item-json'));
    assert.deepEqual(shown, job.items.find((i) => i.stem === stem).response);
    assert.equal(await page.getAttribute(`#bulk-table tr[data-stem="${stem}"] button.json`, 'aria-expanded'), 'true');
  }
  await assertFits(page, 390, 'with an item JSON open');
  await page.click('#bulk-item-close');
  assert.ok(await page.isHidden('#bulk-item'));
});

test('API reference at /docs: a card per operation in /openapi.json, nothing from elsewhere', async (t) => {
  if (!ready(t)) return;
  const { page, offsite, errors } = await open(t, '/docs');
  await page.waitForSelector('#docs[aria-busy="false"]', { timeout: 10_000 });
  const doc = await (await fetch(`${server.base}/openapi.json`)).json();
  // Every HTTP method OpenAPI allows on a path item.
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const want = Object.entries(doc.paths).flatMap(([p, item]) => methods.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`));
  assert.ok(want.length > 0);
  const cards = await page.$$eval('#docs section.op:not(.schema) h3', (hs) => hs.map((h) => `${h.querySelector('.method').textContent} ${h.querySelector('code').textContent}`));
  assert.equal(cards.length, want.length, `cards ${JSON.stringify(cards)} vs operations ${JSON.stringify(want)}`);
  assert.deepEqual([...cards].sort(), [...want].sort());
  // A card per schema too, and every in-page link points at something on the page.
  const schemas = Object.keys((doc.components && doc.components.schemas) || {});
  assert.equal(await page.$$eval('#docs section.schema', (s) => s.length), schemas.length);
  const dangling = await page.$$eval('#docs a[href^="#"]', (as) => as.map((a) => a.getAttribute('href'))
    .filter((h) => !document.getElementById(decodeURIComponent(h.slice(1)))));
  assert.deepEqual(dangling, []);
  // Nothing rendered as a stringified value ("[object HTMLElement]", a missing example's "null").
  const text = await page.innerText('#docs');
  assert.doesNotMatch(text, /\[object \w+\]/, 'a DOM node was rendered as text');
  assert.doesNotMatch(text, /^null$/m, 'a missing value was rendered as "null"');
  assert.doesNotMatch(text, /`/, 'Markdown code marks were shown as backticks');
  assert.ok(await page.$$eval('#docs td code, #docs p code', (c) => c.length) > 0);
  assert.deepEqual(offsite, [], 'the page loaded nothing from elsewhere');
  assert.deepEqual(errors, []);
});

test('/docs: a deep link lands on its operation, and a phone-width screen does not scroll sideways', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t, '/docs#op-post--v2-liveness', { viewport: { width: 360, height: 740 } });
  await page.waitForSelector('#docs[aria-busy="false"]', { timeout: 10_000 });
  const top = await page.$eval('#op-post--v2-liveness', (el) => el.getBoundingClientRect().top);
  assert.ok(Math.abs(top) < 50, `the linked operation is ${top} px from the top`);
  const scrollWidth = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(scrollWidth <= 360, `page is ${scrollWidth} px wide at 360`);
});

test('Keyboard and screen reader: arrow keys move along the tabs, the verdict takes the focus, the token says where tokens come from', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t, '/');
  assert.match(await page.getAttribute('#token', 'placeholder'), /scripts\/token\.sh/);
  // One tab stop per tab list; the arrow keys select the next tab and wrap.
  assert.deepEqual(await page.$$eval('[role="tab"]', (bs) => bs.map((b) => [b.id, b.tabIndex])), [
    ['endpoint-liveness', 0], ['endpoint-facematch', -1], ['mode-single', 0], ['mode-bulk', -1], ['mode-record', -1],
  ]);
  await page.focus('#mode-single');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#mode-bulk', 'aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mode-bulk');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#mode-single', 'aria-selected'), 'true');
  // "working…" is a status; the verdict, when it comes, has the focus.
  assert.equal(await page.getAttribute('#busy', 'role'), 'status');
  await page.setInputFiles('#image', join(td, 'faces/fr_obama.jpg'));
  await page.focus('#token');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#result:not([hidden])', { timeout: 120_000 });
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'result');
});

test('Bulk: an upload the server refuses leaves no panel claiming a batch is uploading', async (t) => {
  if (!ready(t)) return;
  const { page } = await open(t, '/');
  await page.click('#mode-bulk');
  // A JPEG under a .zip name: the server answers 400.
  await page.setInputFiles('#zip', { name: 'photos.zip', mimeType: 'application/zip', buffer: readFileSync(join(td, 'faces/fr_obama.jpg')) });
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
  assert.match(await page.textContent('#error'), /ZIP/i);
  assert.ok(await page.isHidden('#bulk'), 'the batch panel is still shown');
});
