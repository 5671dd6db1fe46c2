// Wiring: the endpoint and mode toggles, the token, media previews and the Run button.

import { loadToken, saveToken } from './api.js';
import * as bulk from './bulk.js';
import { renderError } from './render.js';
import { cameraOff, cameraOn, cancelRecording, recordAndRun, runFacematch, runLiveness } from './single.js';

const $ = (id) => document.getElementById(id);
const state = { endpoint: 'liveness', mode: 'single' };
const previews = {};

/** Elements carry `data-show="single liveness"`: shown when every word names the current state. */
function applyState() {
  for (const b of document.querySelectorAll('[data-endpoint]')) b.setAttribute('aria-selected', String(b.dataset.endpoint === state.endpoint));
  for (const b of document.querySelectorAll('[data-mode]')) b.setAttribute('aria-selected', String(b.dataset.mode === state.mode));
  // ARIA tabs: Tab reaches the selected tab of each list, the arrow keys the others.
  for (const b of document.querySelectorAll('[role="tab"]')) b.tabIndex = b.getAttribute('aria-selected') === 'true' ? 0 : -1;
  for (const el of document.querySelectorAll('[data-show]')) {
    el.hidden = !el.dataset.show.split(/\s+/).every((w) => w === state.endpoint || w === state.mode);
  }
  $('result').hidden = true;
  $('error').hidden = true;
  if (state.mode !== 'bulk') $('bulk').hidden = true;
  // Record mode has its own Start button and always asks for details.
  $('run-actions').hidden = state.mode === 'record';
  $('output-box').hidden = state.mode === 'record';
}

/** The camera is on exactly while Record mode is shown. */
function syncCamera() {
  if (state.mode === 'record') cameraOn().catch(showError);
  else cameraOff();
}

function preview(inputId, previewId, key) {
  $(inputId).addEventListener('change', () => {
    const file = $(inputId).files[0];
    const el = $(previewId);
    if (previews[key]) URL.revokeObjectURL(previews[key]);
    previews[key] = file ? URL.createObjectURL(file) : null;
    el.hidden = !file;
    if (file) el.src = previews[key]; else el.removeAttribute('src');
  });
}

function showError(e) {
  renderError($('error'), e);
  // Record mode's buttons sit above the tuning fields: bring the message into view.
  if (state.mode === 'record') $('error').scrollIntoView({ block: 'nearest' });
}

/** Arrow keys, Home and End move along a tab list and select, as the ARIA tabs pattern has it. */
function tabKeys(event) {
  const keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: 'first', End: 'last' };
  const step = keys[event.key];
  if (step === undefined) return;
  const tabs = [...event.currentTarget.querySelectorAll('[role="tab"]')];
  const at = tabs.indexOf(document.activeElement);
  if (at < 0) return;
  event.preventDefault();
  const next = step === 'first' ? 0 : step === 'last' ? tabs.length - 1 : (at + step + tabs.length) % tabs.length;
  tabs[next].focus();
  tabs[next].click();
}

async function run(event) {
  event.preventDefault();
  // Enter in a tuning field must not start a recording: only Start does.
  if (state.mode === 'record') return;
  $('error').hidden = true;
  const form = $('form');
  const busy = $('busy');
  $('run').disabled = true;
  busy.hidden = false;
  try {
    if (state.mode === 'bulk') {
      const resume = $('job-id').value.trim();
      const hasZip = $('zip').files && $('zip').files.length > 0;
      if (!hasZip && resume) bulk.follow(resume, showError);
      else await bulk.start(form, showError);
    } else if (state.endpoint === 'facematch') {
      $('result').hidden = true;
      await runFacematch(form, $('result'), previews);
      $('result').focus();
    } else {
      $('result').hidden = true;
      await runLiveness(form, $('result'), previews);
      // The verdict is what a keyboard or screen-reader user wants next.
      $('result').focus();
    }
  } catch (e) {
    showError(e);
  } finally {
    $('run').disabled = false;
    busy.hidden = true;
  }
}

function init() {
  const token = $('token');
  token.value = loadToken();
  token.addEventListener('input', () => {
    saveToken(token.value.trim());
    // A batch link opened without a (valid) token loads once one is pasted.
    bulk.tokenChanged(showError);
  });
  // The token sits outside the form: Enter there runs too (not in Record mode: see `run`).
  token.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') $('form').requestSubmit();
  });
  for (const list of document.querySelectorAll('[role="tablist"]')) list.addEventListener('keydown', tabKeys);
  for (const b of document.querySelectorAll('[data-endpoint]')) {
    b.addEventListener('click', () => {
      state.endpoint = b.dataset.endpoint;
      // Recording answers a liveness challenge: /facematch has no Record mode.
      if (state.endpoint !== 'liveness' && state.mode === 'record') state.mode = 'single';
      applyState();
      syncCamera();
    });
  }
  for (const b of document.querySelectorAll('[data-mode]')) {
    b.addEventListener('click', () => {
      state.mode = b.dataset.mode;
      if (state.mode === 'record') state.endpoint = 'liveness';
      applyState();
      syncCamera();
    });
  }
  $('rec-start').addEventListener('click', () => {
    $('error').hidden = true;
    recordAndRun($('form'), $('result')).catch(showError);
  });
  $('rec-cancel').addEventListener('click', () => cancelRecording());
  $('cam-retry').addEventListener('click', () => { $('error').hidden = true; cameraOn().catch(showError); });
  window.addEventListener('pagehide', () => cameraOff());
  preview('image', 'image-preview', 'image');
  preview('video', 'video-preview', 'video');
  preview('image1', 'image1-preview', 'image1');
  preview('image2', 'image2-preview', 'image2');
  $('form').addEventListener('submit', run);
  $('cancel').addEventListener('click', () => bulk.cancel(showError));
  $('download').addEventListener('click', () => bulk.download(showError));
  $('erase').addEventListener('click', () => bulk.erase(showError));
  $('bulk-item-close').addEventListener('click', () => bulk.closeItem());
  const m = /^#job=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (m) {
    state.mode = 'bulk';
    applyState();
    bulk.follow(m[1], showError);
  } else {
    applyState();
  }
  document.body.dataset.ready = 'true';
}

init();
