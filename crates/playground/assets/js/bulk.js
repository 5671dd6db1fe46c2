// Bulk mode: the ZIP goes to `/v1/batches`, the job runs on the server, this page only watches.
// Because the job lives server-side, its id is kept in the URL (#job=<id>): a reload or a new
// tab picks the same job up again.

import { del, getBlob, getJson, postForm, upload } from './api.js';
import { h, reasonText } from './render.js';
import { tuningFields } from './single.js';

const POLL_MS = 1000;
let current = null;
let timer = null;
// The job whose status the server refused for want of a (valid) token: pasting one retries it.
let awaitingToken = null;
let retryTimer = null;
// The stem whose full response is open below the table (kept across the 1 s re-renders).
let shownStem = null;
let lastItems = [];

const $ = (id) => document.getElementById(id);

export async function start(form, onError) {
  const input = $('zip');
  const file = input.files && input.files[0];
  const fd = new FormData();
  if (file) fd.append('file', file, file.name);
  for (const [k, v] of tuningFields(form)) fd.append(k, v);
  stop();
  clearRows();
  showPanel('uploading');
  setButtons(null);
  let body;
  try {
    body = await upload('/v1/batches', fd, (f) => {
      $('bulk-progress').value = f;
      $('bulk-counts').textContent = `uploading ${(f * 100).toFixed(0)} %`;
    });
  } catch (e) {
    // A refused upload made no batch: no panel that says one is uploading.
    $('bulk').hidden = true;
    throw e;
  }
  follow(body.id, onError, body);
}

/** Watches job `id` until it finishes; `first` is a body already in hand. */
export function follow(id, onError, first) {
  // A retry after a refused token: the error on screen is cleared once the job loads.
  let failed = awaitingToken === id;
  stop();
  const sameJob = $('bulk-id').textContent === id;
  current = id;
  history.replaceState(null, '', `#job=${encodeURIComponent(id)}`);
  $('job-id').value = id;
  // Until the server has answered, the page knows nothing about this job: no status badge
  // ("queued" would be a guess) and no buttons that act on it.
  showPanel(null);
  setButtons(null);
  $('bulk-auth').hidden = true;
  if (!sameJob) clearRows();
  if (first) update(first);
  const tick = async () => {
    if (current !== id) return;
    try {
      const job = await getJson(`/v1/batches/${encodeURIComponent(id)}`);
      if (current !== id) return;
      // An error shown by an earlier poll of this job is no longer true.
      if (failed) $('error').hidden = true;
      failed = false;
      update(job);
      if (job.status === 'done' || job.status === 'cancelled') return;
    } catch (e) {
      if (current !== id) return;
      failed = true;
      onError(e);
      if (e.status === 401 || e.status === 403 || e.status === 404) {
        // What was shown may be stale or someone else's: say nothing about the job.
        setStatus(null);
        setButtons(null);
        if (e.status !== 404) {
          awaitingToken = id;
          $('bulk-auth').hidden = false;
        }
        return;
      }
    }
    timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

/** The token field changed: a job refused for want of a token is asked for again (debounced,
 *  as typing fires once per key). */
export function tokenChanged(onError) {
  if (!awaitingToken) return;
  const id = awaitingToken;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { if (awaitingToken === id) follow(id, onError); }, 300);
}

export function stop() {
  if (timer) clearTimeout(timer);
  timer = null;
  current = null;
  awaitingToken = null;
}

function showPanel(status) {
  $('bulk').hidden = false;
  $('bulk-id').textContent = current || '(uploading)';
  setStatus(status);
}

/** `null`: the status is unknown, and no badge is shown rather than a stale one. */
function setStatus(status) {
  const b = $('bulk-status');
  b.hidden = !status;
  b.textContent = status || '';
  b.className = `badge ${status === 'done' ? 'ok' : status === 'cancelled' ? 'bad' : 'warn'}`;
  b.dataset.status = status || 'unknown';
}

/** Cancel while the job can still stop, download once it has finished, erase once it is known. */
function setButtons(status) {
  const finished = status === 'done' || status === 'cancelled';
  $('cancel').disabled = !status || finished;
  $('download').disabled = !finished;
  $('erase').disabled = !status;
}

function clearRows() {
  lastItems = [];
  $('bulk-table').tBodies[0].replaceChildren();
  $('bulk-counts').textContent = '';
  $('bulk-progress').value = 0;
  showItem(null);
}

function cell(v) {
  return h('td', {}, v === undefined || v === null ? '' : String(v));
}

/** [tone, words]: the tone colours the row, the words say the same for those who cannot see it. */
function outcome(item) {
  const r = item.response || {};
  if (item.status === 'error') return ['error', '⚠ error'];
  if (item.status !== 'ok') return ['none', item.status];
  if (item.kind === 'facematch') return r.facematch_result === 'True' ? ['good', '✓ match'] : ['bad', '✗ no match'];
  return r.result === 'real' ? ['good', '✓ real'] : ['bad', '✗ fake'];
}

function row(item) {
  const r = item.response || {};
  const isFm = item.kind === 'facematch';
  const conf = isFm ? r.confidence_score : r.confidence;
  const err = item.status === 'error' ? (r.message || JSON.stringify(r.detail || r)) : '';
  const [tone, words] = outcome(item);
  const open = h('button', {
    type: 'button', class: 'json', 'aria-controls': 'bulk-item', 'aria-expanded': String(shownStem === item.stem),
    disabled: !item.response,
  }, 'JSON');
  open.addEventListener('click', () => showItem(shownStem === item.stem ? null : item.stem));
  return h('tr', { class: `${item.status} outcome-${tone}`, 'data-stem': item.stem, 'data-outcome': tone },
    h('td', { class: 'outcome' }, words),
    cell(item.stem), cell(item.kind), cell(item.status),
    item.reason
      ? h('td', { title: reasonText(item.reason) }, `${r.result} (${item.reason})`)
      : item.near_threshold
        ? h('td', { title: 'The still scored within the review margin of its threshold: a verdict worth a person\'s look.' },
          `${r.result} (still near its threshold)`)
        : cell(isFm ? r.facematch_result : r.result),
    cell(typeof conf === 'number' ? conf.toFixed(3) : ''),
    cell(isFm ? '' : [r.overall_result, r.image_input && r.video_input ? `match ${r.facematch_result}` : ''].filter(Boolean).join(' / ')),
    cell(isFm || !r.video_input ? '' : r.blink_detection),
    cell(item.elapsed_ms),
    cell(err),
    h('td', {}, open));
}

/** Shows one item's response below the table: the archive's json/<stem>.json without its
 *  `details`, which the progress polls leave out (they come every second). */
function showItem(stem) {
  const item = stem && lastItems.find((i) => i.stem === stem);
  shownStem = item && item.response ? stem : null;
  $('bulk-item').hidden = !shownStem;
  $('bulk-item-stem').textContent = shownStem || '';
  $('bulk-item-json').textContent = shownStem ? JSON.stringify(item.response, null, 2) : '';
  for (const b of $('bulk-table').querySelectorAll('button.json')) {
    b.setAttribute('aria-expanded', String(b.closest('tr').dataset.stem === shownStem));
  }
}

function update(job) {
  setStatus(job.status);
  $('bulk-progress').value = job.progress || 0;
  $('bulk-counts').textContent = `${job.done} of ${job.total} stems done · ${job.ok} ok · ${job.error} error · ${job.skipped.length} file(s) skipped`;
  lastItems = job.items;
  $('bulk-table').tBodies[0].replaceChildren(...job.items.map(row));
  // The open response follows the item (pending → ok) without closing.
  if (shownStem) showItem(shownStem);
  showWeights(job.pad_weights || []);
  $('bulk-skipped-count').textContent = String(job.skipped.length);
  $('bulk-skipped').replaceChildren(...job.skipped.map((s) => h('li', {}, h('code', {}, s.name), ` — ${s.reason}`)));
  setButtons(job.status);
}

/** Which PAD weights and still threshold judged the verdicts (SHA-256 prefixes; results.csv
 * has them in full). Two or more sets mean replicas with different layers or operating points
 * shared the batch: worth a warning. */
function showWeights(sets) {
  const el = $('bulk-weights');
  el.hidden = sets.length === 0;
  const named = (set) => Object.entries(set.weights).map(([file, sha]) => `${file} ${sha.slice(0, 8)}…`).join(', ')
    + (sets.length > 1 && set.image_real_threshold != null ? ` at threshold ${set.image_real_threshold}` : '');
  el.classList.toggle('warn', sets.length > 1);
  el.textContent = sets.length > 1
    ? `Judged by ${sets.length} different sets of PAD weights or thresholds (replicas differ): `
      + sets.map((s) => `${named(s)} (${s.verdicts} verdicts)`).join('; ')
    : sets.length === 1 ? `PAD weights: ${named(sets[0])}` : '';
}

export function closeItem() {
  showItem(null);
}

export async function cancel(onError) {
  if (!current) return;
  try { update(await postForm(`/v1/batches/${encodeURIComponent(current)}/cancel`)); } catch (e) { onError(e); }
}

/** Erases the batch on the server (uploaded files and results) and clears the view. */
export async function erase(onError) {
  const id = current || $('job-id').value.trim();
  if (!id) return;
  // Erasure cannot be undone: the uploaded files and every result go.
  if (!window.confirm(`Erase batch ${id} from the server? Its files and results are deleted for good.`)) return;
  try {
    await del(`/v1/batches/${encodeURIComponent(id)}`);
    stop();
    history.replaceState(null, '', location.pathname);
    $('job-id').value = '';
    $('bulk-id').textContent = `${id} (erased)`;
    setStatus('erased');
    $('bulk-table').querySelector('tbody').replaceChildren();
    // Nothing of the batch is left to count or to follow.
    $('bulk-counts').textContent = '';
    $('bulk-progress').value = 0;
    showItem(null);
    $('download').disabled = true;
    $('cancel').disabled = true;
    $('erase').disabled = true;
  } catch (e) {
    onError(e);
  }
}

export async function download(onError) {
  const id = current || $('job-id').value.trim();
  if (!id) return;
  try {
    const blob = await getBlob(`/v1/batches/${encodeURIComponent(id)}/archive`);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `livegate-batch-${id}.zip` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    onError(e);
  }
}
