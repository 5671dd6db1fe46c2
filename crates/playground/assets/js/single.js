// Single mode: one `POST /liveness` or `POST /facematch` built from the form, rendered for people.

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
