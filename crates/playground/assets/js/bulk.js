// Bulk mode: the ZIP goes to `/v1/batches`, the job runs on the server, this page only watches.
// Because the job lives server-side, its id is kept in the URL (#job=<id>): a reload or a new
// tab picks the same job up again.

import { del, getBlob, getJson, postForm, upload } from './api.js';
import { h, reasonText } from './render.js';
import { tuningFields } from './single.js';

const POLL_MS = 1000;
let current = null;
let timer = null;

const $ = (id) => document.getElementById(id);

export async function start(form, onError) {
  const input = $('zip');
  const file = input.files && input.files[0];
  const fd = new FormData();
  if (file) fd.append('file', file, file.name);
  for (const [k, v] of tuningFields(form)) fd.append(k, v);
  showPanel('uploading');
  const body = await upload('/v1/batches', fd, (f) => {
    $('bulk-progress').value = f;
    $('bulk-counts').textContent = `uploading ${(f * 100).toFixed(0)} %`;
  });
  follow(body.id, onError, body);
}

/** Watches job `id` until it finishes; `first` is a body already in hand. */
export function follow(id, onError, first) {
  stop();
  current = id;
  history.replaceState(null, '', `#job=${encodeURIComponent(id)}`);
  $('job-id').value = id;
  showPanel('queued');
  if (first) update(first);
  const tick = async () => {
    if (current !== id) return;
    try {
      const job = await getJson(`/v1/batches/${encodeURIComponent(id)}`);
      update(job);
      if (job.status === 'done' || job.status === 'cancelled') return;
    } catch (e) {
      onError(e);
      if (e.status === 404 || e.status === 401) return;
    }
    timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

export function stop() {
  if (timer) clearTimeout(timer);
  timer = null;
  current = null;
}

function showPanel(status) {
  $('bulk').hidden = false;
  $('bulk-id').textContent = current || '(uploading)';
  setStatus(status);
}

function setStatus(status) {
  const b = $('bulk-status');
  b.textContent = status;
  b.className = `badge ${status === 'done' ? 'ok' : status === 'cancelled' ? 'bad' : 'warn'}`;
  b.dataset.status = status;
}

function cell(v) {
  return h('td', {}, v === undefined || v === null ? '' : String(v));
}

function row(item) {
  const r = item.response || {};
  const isFm = item.kind === 'facematch';
  const conf = isFm ? r.confidence_score : r.confidence;
  const err = item.status === 'error' ? (r.message || JSON.stringify(r.detail || r)) : '';
  return h('tr', { class: item.status, 'data-stem': item.stem },
    cell(item.stem), cell(item.kind), cell(item.status),
    item.reason
      ? h('td', { title: reasonText(item.reason) }, `${r.result} (${item.reason})`)
      : cell(isFm ? r.facematch_result : r.result),
    cell(typeof conf === 'number' ? conf.toFixed(3) : ''),
    cell(isFm ? '' : [r.overall_result, r.image_input && r.video_input ? `match ${r.facematch_result}` : ''].filter(Boolean).join(' / ')),
    cell(isFm || !r.video_input ? '' : r.blink_detection),
    cell(item.elapsed_ms),
    cell(err));
}

function update(job) {
  setStatus(job.status);
  $('bulk-progress').value = job.progress || 0;
  $('bulk-counts').textContent = `${job.done} of ${job.total} stems done · ${job.ok} ok · ${job.error} error · ${job.skipped.length} file(s) skipped`;
  $('bulk-table').tBodies[0].replaceChildren(...job.items.map(row));
  $('bulk-skipped-count').textContent = String(job.skipped.length);
  $('bulk-skipped').replaceChildren(...job.skipped.map((s) => h('li', {}, h('code', {}, s.name), ` — ${s.reason}`)));
  const finished = job.status === 'done' || job.status === 'cancelled';
  $('download').disabled = !finished;
  $('cancel').disabled = finished;
  $('erase').disabled = false;
}

export async function cancel(onError) {
  if (!current) return;
  try { update(await postForm(`/v1/batches/${encodeURIComponent(current)}/cancel`)); } catch (e) { onError(e); }
}

/** Erases the batch on the server (uploaded files and results) and clears the view. */
export async function erase(onError) {
  const id = current || $('job-id').value.trim();
  if (!id) return;
  try {
    await del(`/v1/batches/${encodeURIComponent(id)}`);
    stop();
    history.replaceState(null, '', location.pathname);
    $('job-id').value = '';
    $('bulk-id').textContent = `${id} (erased)`;
    $('bulk-status').textContent = 'erased';
    $('bulk-status').dataset.status = 'erased';
    $('bulk-table').querySelector('tbody').replaceChildren();
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
