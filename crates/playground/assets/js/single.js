// Single mode: one `POST /liveness` or `POST /facematch` built from the form, rendered for people.
// Record mode (below): the camera, an active challenge performed while recording, and the same
// `POST /liveness` with the recording, a still and the challenge id.

import { postForm, postFormWithReason } from './api.js';
import { renderFacematch, renderLiveness } from './render.js';

const TUNING = ['enhanced_detection', 'facematch_frames', 'facematch_threshold', 'frame_sampling_rate', 'max_frames_to_analyze'];

function fileOf(id) {
  const input = document.getElementById(id);
  return input.files && input.files[0] ? input.files[0] : null;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** The tuning fields exactly as the user left them; empty ones are omitted (server default). */
export function tuningFields(form, names = TUNING) {
  const out = [];
  for (const name of names) {
    const el = form.elements.namedItem(name);
    if (el && String(el.value).trim() !== '') out.push([name, String(el.value).trim()]);
  }
  if (form.elements.namedItem('details').checked) out.push(['details', 'True']);
  return out;
}

export async function runLiveness(form, resultEl, previews) {
  const image = fileOf('image');
  const video = fileOf('video');
  const fd = new FormData();
  const imageType = form.elements.namedItem('image_type').value;
  if (image) {
    if (imageType === 'base64') fd.append('image', await readAsDataUrl(image));
    else fd.append('image', image, image.name);
  }
  if (video) fd.append('video', video, video.name);
  for (const [k, v] of tuningFields(form)) fd.append(k, v);
  fd.append('image_type', imageType);
  const uid = form.elements.namedItem('unique_id').value.trim();
  if (uid) fd.append('unique_id', uid);
  // Sent even without media so the server's own 400 envelope is what the user sees.
  const { body, reason } = await postFormWithReason('/liveness', fd);
  renderLiveness(resultEl, body, { imageUrl: image ? previews.image : null, reason });
  return body;
}

export async function runFacematch(form, resultEl, previews) {
  const fd = new FormData();
  const a = fileOf('image1');
  const b = fileOf('image2');
  if (a) fd.append('image1', a, a.name);
  if (b) fd.append('image2', b, b.name);
  if (form.elements.namedItem('details').checked) fd.append('details', 'True');
  const body = await postForm('/facematch', fd);
  renderFacematch(resultEl, body, { image1Url: a ? previews.image1 : null, image2Url: b ? previews.image2 : null });
  return body;
}

// ---- Record mode ----------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** A failure of the camera or the recorder (not an HTTP answer); `renderError` shows its title. */
export class CameraError extends Error {
  constructor(message) {
    super(message);
    this.title = 'Camera';
  }
}

/** The user pressed Cancel: not an error to show. */
class Cancelled extends Error {}

const rec = {
  stream: null,
  /** Bumped whenever the camera is turned off, so a permission prompt answered later is dropped. */
  gen: 0,
  /** A permission prompt is open. */
  asking: false,
  recorder: null,
  running: false,
  cancelled: false,
  raf: 0,
  stopTimer: 0,
  urls: [],
};

function status(text) { $('rec-status').textContent = text; }

function buttons() {
  $('rec-start').disabled = !rec.stream || rec.running;
  $('rec-cancel').hidden = !rec.running;
  $('cam-retry').hidden = Boolean(rec.stream) || rec.running || rec.asking;
}

/** [short text for the picture, full message] for a getUserMedia failure. */
function cameraMessage(e) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return ['Camera access denied', 'Camera access was denied. Allow the camera for this page (the camera icon in the address bar or the site settings), then press “Turn on camera”.'];
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return ['No camera found', 'No camera was found. Connect one, then press “Turn on camera”.'];
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return ['Camera busy', 'The camera could not be started: another application may be using it. Close it, then press “Turn on camera”.'];
    default:
      return ['Camera unavailable', `The camera could not be started (${(e && e.name) || 'error'}: ${(e && e.message) || 'unknown'}).`];
  }
}

/** Asks for the camera (video only) and shows it mirrored. Throws a CameraError. */
export async function cameraOn() {
  if (rec.stream || rec.asking) return;
  const gen = ++rec.gen;
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    $('cam-off').textContent = 'No camera here';
    throw new CameraError('This browser offers no camera here: the page must be opened over HTTPS or on localhost, in a browser with camera support.');
  }
  if (typeof MediaRecorder === 'undefined') {
    $('cam-off').textContent = 'Cannot record here';
    throw new CameraError('This browser cannot record video (it has no MediaRecorder).');
  }
  status('Asking for the camera…');
  $('cam-off').textContent = 'Waiting for permission to use the camera…';
  rec.asking = true;
  buttons();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' },
      audio: false,
    });
  } catch (e) {
    if (gen !== rec.gen) return;
    rec.asking = false;
    const [short, message] = cameraMessage(e);
    $('cam-off').textContent = short;
    status('');
    buttons();
    throw new CameraError(message);
  }
  if (gen === rec.gen) rec.asking = false;
  // The user left Record mode while the browser was asking: give the camera back.
  if (gen !== rec.gen) { for (const t of stream.getTracks()) t.stop(); return; }
  rec.stream = stream;
  const cam = $('cam');
  cam.srcObject = stream;
  $('rec-stage').classList.add('live');
  for (const t of stream.getVideoTracks()) {
    t.addEventListener('ended', () => {
      if (rec.stream !== stream) return;
      cameraOff();
      status('The camera stopped.');
    });
  }
  try { await cam.play(); } catch { /* autoplay of a muted stream is allowed; a later frame shows it */ }
  if (!cam.videoWidth) await new Promise((r) => cam.addEventListener('loadedmetadata', r, { once: true }));
  if (gen !== rec.gen) return;
  status('Camera ready: press Start, then follow the instructions on the picture.');
  buttons();
}

/** Stops any recording (discarding it) and releases the camera. */
export function cameraOff() {
  rec.gen++;
  rec.asking = false;
  cancelRecording();
  if (rec.stream) for (const t of rec.stream.getTracks()) t.stop();
  rec.stream = null;
  const cam = $('cam');
  cam.srcObject = null;
  $('rec-stage').classList.remove('live');
  $('cam-off').textContent = 'Camera off';
  status('');
  buttons();
}

export function cancelRecording() {
  if (!rec.running) return;
  rec.cancelled = true;
  if (rec.recorder && rec.recorder.state !== 'inactive') rec.recorder.stop();
}

function pickMimeType() {
  for (const t of ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm', 'video/mp4']) {
    if (MediaRecorder.isTypeSupported(t)) return t;
  }
  return '';
}

/** The preview's current frame as a JPEG, unmirrored (drawImage ignores the CSS mirror). */
function grabStill(video) {
  const w = video.videoWidth, hgt = video.videoHeight;
  if (!w || !hgt) return Promise.reject(new CameraError('The camera gives no picture yet: wait a moment and press Start again.'));
  const c = document.createElement('canvas');
  c.width = w; c.height = hgt;
  c.getContext('2d').drawImage(video, 0, 0, w, hgt);
  return new Promise((resolve, reject) => c.toBlob(
    (b) => (b ? resolve(b) : reject(new CameraError('Could not take a still from the camera.'))), 'image/jpeg', 0.92));
}

const ARROW = { turn_left: '← ', turn_right: '→ ', look_up: '↑ ', look_down: '↓ ' };
const RING = 2 * Math.PI * 28;

/** Where the recording is at `t` seconds from its start: the step due (if any), the text to
 *  show, and the window the ring counts down. */
function phaseAt(ch, t) {
  const steps = ch.steps;
  const i = steps.findIndex((st) => t >= st.start_s && t < st.end_s);
  if (i >= 0) {
    const st = steps[i];
    return { phase: 'step', index: i, of: `Step ${i + 1} of ${steps.length}`, text: `${ARROW[st.step] || ''}${st.instruction}`, from: st.start_s, to: st.end_s };
  }
  if (steps.length && t < steps[0].start_s) {
    return { phase: 'lead-in', index: -1, of: 'Get ready', text: 'Look straight at the camera', from: 0, to: steps[0].start_s };
  }
  const lastEnd = steps.length ? steps[steps.length - 1].end_s : 0;
  const gapStep = steps.findIndex((st) => t < st.start_s);
  if (gapStep >= 0) {
    // Windows are back to back; a gap between two would be shown as a short pause.
    return { phase: 'gap', index: -1, of: 'Next step soon', text: 'Look straight at the camera', from: t, to: steps[gapStep].start_s };
  }
  return { phase: 'tail', index: -1, of: 'Almost done', text: 'Look straight at the camera and hold still', from: lastEnd, to: ch.record_s };
}

/** Records `record_s` seconds from the stream while showing each step in its window. Resolves
 *  to the recording; rejects with Cancelled or a CameraError. */
function recordChallenge(stream, ch) {
  return new Promise((resolve, reject) => {
    const mimeType = pickMimeType();
    let recorder;
    try {
      recorder = new MediaRecorder(stream, mimeType ? { mimeType, videoBitsPerSecond: 2_500_000 } : undefined);
    } catch (e) {
      reject(new CameraError(`This browser cannot record the camera (${e.message}).`));
      return;
    }
    rec.recorder = recorder;
    const chunks = [];
    let t0 = 0;
    let failed = null;
    const overlay = $('rec-overlay');
    const ring = $('rec-ring-fill');
    ring.setAttribute('stroke-dasharray', RING.toFixed(2));
    let shown = '';
    const draw = () => {
      const t = (performance.now() - t0) / 1000;
      const p = phaseAt(ch, t);
      overlay.dataset.phase = p.phase;
      overlay.dataset.stepIndex = String(p.index);
      if (p.text !== shown) {
        shown = p.text;
        $('rec-instruction').textContent = p.text;
        $('rec-step-of').textContent = p.of;
      }
      const span = Math.max(0.001, p.to - p.from);
      const left = Math.max(0, p.to - t);
      ring.setAttribute('stroke-dashoffset', (RING * (1 - left / span)).toFixed(2));
      $('rec-countdown').textContent = String(Math.ceil(left));
      $('rec-clock').textContent = `${t.toFixed(1)} s`;
      $('rec-progress').value = Math.min(1, t / ch.record_s);
      rec.raf = requestAnimationFrame(draw);
    };
    recorder.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
    recorder.onerror = (e) => {
      failed = new CameraError(`Recording failed (${(e.error && e.error.message) || 'unknown error'}).`);
      if (recorder.state !== 'inactive') recorder.stop();
    };
    recorder.onstart = () => {
      // The windows count from the video's first frame, which is now.
      t0 = performance.now();
      overlay.hidden = false;
      $('rec-progress').hidden = false;
      draw();
      // A quarter second past the end, so the last frames are surely in.
      rec.stopTimer = setTimeout(() => { if (recorder.state !== 'inactive') recorder.stop(); }, ch.record_s * 1000 + 250);
    };
    recorder.onstop = () => {
      cancelAnimationFrame(rec.raf);
      clearTimeout(rec.stopTimer);
      overlay.hidden = true;
      $('rec-progress').hidden = true;
      rec.recorder = null;
      if (rec.cancelled) reject(new Cancelled('cancelled'));
      else if (failed) reject(failed);
      else if (!chunks.length) reject(new CameraError('The recording is empty.'));
      else resolve(new Blob(chunks, { type: recorder.mimeType || mimeType || 'video/webm' }));
    };
    // Data every half second: a tab closed mid-way loses little, and nothing waits on one chunk.
    recorder.start(500);
  });
}

/** Start pressed: a challenge from the server, a still, the recording with the steps shown on
 *  the picture, then `POST /liveness` with details and the result with its challenge timeline. */
export async function recordAndRun(form, resultEl) {
  if (rec.running || !rec.stream) return null;
  rec.running = true;
  rec.cancelled = false;
  buttons();
  resultEl.hidden = true;
  for (const u of rec.urls) URL.revokeObjectURL(u);
  rec.urls = [];
  try {
    status('Asking the server for a challenge…');
    const ch = await postForm('/v1/challenges');
    if (rec.cancelled || !rec.stream) throw new Cancelled('cancelled');
    if (!ch || !Array.isArray(ch.steps) || !ch.steps.length || typeof ch.record_s !== 'number') {
      throw new CameraError('The server sent a challenge this page does not understand.');
    }
    const still = await grabStill($('cam'));
    if (rec.cancelled || !rec.stream) throw new Cancelled('cancelled');
    status('Recording: follow the instructions on the picture.');
    const video = await recordChallenge(rec.stream, ch);
    status('Analysing…');
    const fd = new FormData();
    const ext = /mp4/.test(video.type) ? 'mp4' : 'webm';
    fd.append('video', video, `record.${ext}`);
    fd.append('image', still, 'still.jpg');
    fd.append('challenge_id', ch.challenge_id);
    // The tuning as set; details always, the timeline is drawn from them.
    for (const [k, v] of tuningFields(form)) if (k !== 'details') fd.append(k, v);
    fd.append('details', 'True');
    const { body, reason } = await postFormWithReason('/liveness', fd);
    if (rec.cancelled) throw new Cancelled('cancelled');
    const imageUrl = URL.createObjectURL(still);
    const videoUrl = URL.createObjectURL(video);
    rec.urls.push(imageUrl, videoUrl);
    renderLiveness(resultEl, body, { imageUrl, videoUrl, reason, challenge: ch });
    status('Done: press Start for a new challenge.');
    resultEl.scrollIntoView({ block: 'start', behavior: 'smooth' });
    return body;
  } catch (e) {
    if (e instanceof Cancelled) {
      // With the camera gone (mode left, device unplugged) its own message stays.
      if (rec.stream) status('Cancelled: press Start for a new challenge.');
      return null;
    }
    status('');
    throw e;
  } finally {
    rec.running = false;
    rec.recorder = null;
    $('rec-overlay').hidden = true;
    $('rec-progress').hidden = true;
    buttons();
  }
}
