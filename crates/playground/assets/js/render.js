// Showing results to people: verdict badges, confidences, the face box on the still, the
// per-frame timeline, findings and the raw JSON. Everything is built with DOM nodes and
// textContent, never innerHTML, because file names and messages come from users.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    // Through the CSSOM: the page's CSP forbids style attributes.
    else if (k === 'style') el.style.cssText = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : '–');

function badge(label, value, good, id) {
  const cls = good === null ? 'badge' : good ? 'badge ok' : 'badge bad';
  return h('span', { class: cls, id, 'data-value': String(value) }, `${label}: ${value}`);
}

function bar(label, value) {
  const v = typeof value === 'number' ? Math.max(0, Math.min(1, value)) : 0;
  const fill = h('i');
  fill.style.width = `${v * 100}%`;
  return h('div', { class: 'conf' }, h('div', {}, h('code', {}, label), ' ', pct(value)), h('div', { class: 'bar' }, fill));
}

function kvTable(body) {
  const rows = Object.entries(body)
    .filter(([k]) => k !== 'details')
    .map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))));
  return h('table', { class: 'kv' }, h('tbody', {}, rows));
}

function rawJson(body) {
  const text = JSON.stringify(body, null, 2);
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(text));
  return h('details', { class: 'raw' }, h('summary', { id: 'raw-toggle' }, 'Raw JSON'), copy, h('pre', { id: 'raw-json' }, text));
}

/** Plain words for the server's `X-Livegate-Reason` codes. */
export function reasonText(code) {
  const words = {
    no_face: 'no face was found in the image',
    multiple_faces: 'more than one person is in the image',
    face_too_small: 'the face in the image is too small to judge',
    no_usable_face_in_image: 'the image has no usable face',
    no_usable_face_in_video: 'no analysed video frame has a usable face',
    attack_in_image: 'the image is a presentation attack beyond doubt, whatever the video shows',
    no_blink: 'no blink in the video (the legacy mode requires one)',
    challenge_failed: 'the video did not perform the challenge\'s steps in their time windows',
    challenge_expired: 'the challenge had expired',
    challenge_reused: 'the challenge was already answered (each works once)',
    challenge_foreign: 'the challenge was not issued to this client',
    challenge_invalid: 'the challenge id was not issued by this server (edited or forged)',
    challenge_face_changed: 'the face changed during the challenge (not one person throughout)',
  };
  return words[code] || code;
}

/** What each quality finding means (`liveness::findings::Finding`), beside its code. */
const FINDING_WORDS = {
  no_face: 'no face found',
  multiple_faces: 'more than one face',
  face_too_small: 'the face is too small to judge',
  blur: 'the face is blurred',
  underexposed: 'too dark',
  overexposed: 'too bright',
  low_resolution: 'too few pixels behind the face: the verdict is a guess',
  face_rotated: 'the face is not upright (the model judges it as it lies)',
  damaged_data: 'the file is damaged and was partly repaired (the verdict may judge garbage)',
};

function findingText(f) {
  const code = typeof f === 'string' ? f
    : f && typeof f === 'object' ? f.kind || f.code || f.reason || JSON.stringify(f) : String(f);
  return FINDING_WORDS[code] ? `${FINDING_WORDS[code]} (${code})` : code;
}

/** Draws `url` on a canvas with the face box; bbox is in pixels of the analysed image, which is
 *  the upright original scaled by `scale`. */
function stillWithFace(url, still, id) {
  const canvas = h('canvas', { id, 'aria-label': 'still with the detected face' });
  const img = new Image();
  img.onload = () => {
    const w = img.naturalWidth, hgt = img.naturalHeight;
    const maxSide = 640, s = Math.min(1, maxSide / Math.max(w, hgt));
    canvas.width = Math.round(w * s);
    canvas.height = Math.round(hgt * s);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const face = still && still.face;
    if (!face || !face.bbox) return;
    // Analysed pixels → original pixels → canvas pixels. The browser applies EXIF orientation
    // to <img>, and the server reports the upright size, so only scales differ.
    const toOrig = 1 / (still.analysed_scale || 1);
    const toCanvas = (canvas.width / (still.width || w));
    const k = toOrig * toCanvas;
    const b = face.bbox;
    const lw = Math.max(2, canvas.width / 200);
    // The detector's box may extend past the image when the face touches its edge: clip it to
    // the image, and draw the stroke inside that rectangle so no side is cut in half.
    const x0 = Math.max(0, b.x * k), y0 = Math.max(0, b.y * k);
    const x1 = Math.min(canvas.width, (b.x + b.w) * k), y1 = Math.min(canvas.height, (b.y + b.h) * k);
    ctx.lineWidth = lw;
    ctx.strokeStyle = still.usable === false ? '#f79009' : '#12b76a';
    ctx.strokeRect(x0 + lw / 2, y0 + lw / 2, Math.max(0, x1 - x0 - lw), Math.max(0, y1 - y0 - lw));
    // The drawn box in canvas pixels, for tests and for anyone inspecting the page.
    canvas.dataset.box = [x0, y0, x1, y1].map((v) => v.toFixed(1)).join(',');
    canvas.dataset.lineWidth = String(lw);
    canvas.dataset.clipped = String(x0 > b.x * k || y0 > b.y * k || x1 < (b.x + b.w) * k || y1 < (b.y + b.h) * k);
    ctx.fillStyle = '#2453d6';
    for (const p of face.keypoints || []) ctx.fillRect(p.x * k - 2, p.y * k - 2, 4, 4);
    canvas.dataset.face = 'drawn';
  };
  img.src = url;
  return canvas;
}

/** PAD score and eye openness per analysed frame over time, the dense stream's eye change,
 *  blinks shaded, and the motion summary. */
function timeline(video) {
  const frames = (video && video.frames) || [];
  if (!frames.length) return null;
  const W = 720, H = 200, pad = 28;
  const canvas = h('canvas', { id: 'timeline', width: W, height: H, 'aria-label': 'per-frame timeline' });
  const ctx = canvas.getContext('2d');
  const t0 = frames[0].time_s || 0;
  const dense = (video.blinks && video.blinks.series) || [];
  const lastDense = dense.length ? dense[dense.length - 1].time_s || 0 : 0;
  const t1 = Math.max(frames[frames.length - 1].time_s || 0, lastDense, t0 + 0.001);
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (W - 2 * pad);
  const y = (v) => H - pad - Math.max(0, Math.min(1, v)) * (H - 2 * pad);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = 'rgba(36,83,214,.12)';
  for (const b of (video.blinks && video.blinks.blinks) || []) {
    ctx.fillRect(x(b.start_s), pad, Math.max(2, x(b.end_s) - x(b.start_s)), H - 2 * pad);
  }
  ctx.strokeStyle = '#d9dee7'; ctx.fillStyle = '#667085'; ctx.font = '11px system-ui';
  for (const v of [0, 0.5, 1]) {
    ctx.beginPath(); ctx.moveTo(pad, y(v)); ctx.lineTo(W - pad, y(v)); ctx.stroke();
    ctx.fillText(String(v), 4, y(v) + 4);
  }
  ctx.fillText(`${t0.toFixed(1)} s`, pad, H - 8);
  ctx.fillText(`${t1.toFixed(1)} s`, W - pad - 30, H - 8);
  const series = (items, get, colour, dots) => {
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = dots ? 2 : 1; ctx.beginPath();
    let started = false;
    for (const f of items) {
      const v = get(f);
      if (typeof v !== 'number') { started = false; continue; }
      if (!started) { ctx.moveTo(x(f.time_s), y(v)); started = true; } else ctx.lineTo(x(f.time_s), y(v));
      if (dots) ctx.fillRect(x(f.time_s) - 2, y(v) - 2, 4, 4);
    }
    ctx.stroke();
  };
  series(dense, (s) => s.change, '#7a5af8', false);
  series(frames, (f) => f.pad, '#12b76a', true);
  series(frames, (f) => (f.eyes ? (f.eyes.left + f.eyes.right) / 2 : undefined), '#f79009', true);
  const legend = h('div', { class: 'legend' }, 'Per analysed frame:',
    h('i', { style: 'background:#12b76a' }), 'PAD live score',
    h('i', { style: 'background:#f79009' }), 'eye openness',
    h('i', { style: 'background:#7a5af8' }), 'eye change (every dense frame)',
    h('i', { style: 'background:rgba(36,83,214,.3)' }), 'blink');
  const m = video.motion;
  const motion = m ? h('p', { id: 'motion' }, m.residual == null
    ? `Motion: no depth to judge (${m.moving_pairs} of ${m.pairs} mesh pairs moved).`
    : `Motion: mesh residual off the best plane ${m.residual.toFixed(3)} inter-ocular distances over ${m.moving_pairs} moving pairs (a photo stays under 0.08).`) : null;
  const findings = frames.filter((f) => f.finding).map((f) => `${(f.time_s || 0).toFixed(2)} s: ${findingText(f.finding)}`);
  return h('div', {}, h('h3', {}, 'Timeline'), canvas, legend, motion,
    findings.length ? h('p', { class: 'findings' }, findings.slice(0, 12).join(' · ')) : null);
}

// ---- Active challenge (Record mode): per-step results and the pose curves ----

/** What the person was asked to do, by step code (the server sends the same words with the
 *  challenge; these are for a response shown without it). */
export const STEP_WORDS = {
  turn_left: 'Turn your head to your left',
  turn_right: 'Turn your head to your right',
  look_up: 'Look up',
  look_down: 'Look down',
  blink: 'Blink',
  move_closer: 'Move closer to the camera',
};
const STEP_SHORT = {
  turn_left: 'turn left', turn_right: 'turn right', look_up: 'look up', look_down: 'look down',
  blink: 'blink', move_closer: 'closer',
};

/** The SVG namespace, taken from a parsed element: the page's assets spell no URL. */
const SVG_NS = (() => {
  const t = document.createElement('template');
  t.innerHTML = '<svg></svg>';
  return t.content.firstChild.namespaceURI;
})();

/** An SVG element; attributes only (presentation attributes are not CSS, so the CSP allows them). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

const secs = (t) => `${Number(t).toFixed(1)} s`;

/** A step's strongest movement in its unit: the face size ratio, or inter-ocular distances. */
function peak(st) {
  const v = Number(st.peak || 0).toFixed(2);
  return st.step === 'move_closer' ? `${v} × the neutral size` : `${v} inter-ocular distances`;
}

/** One sentence per step: what happened, in words (the colour only repeats it). */
function stepDetail(st) {
  if (st.passed) {
    if (st.step === 'blink') return typeof st.seen_at_s === 'number' ? `blink at ${secs(st.seen_at_s)}` : 'blink seen';
    const at = typeof st.seen_at_s === 'number' ? `seen at ${secs(st.seen_at_s)}` : 'seen';
    return `${at}; strongest movement ${peak(st)}`;
  }
  if (st.step === 'blink') return 'no blink started in this window';
  if (!st.frames) return 'no usable face in this window';
  const away = st.step !== 'move_closer' && (st.peak || 0) < 0 ? ' (never towards the side asked)' : '';
  return `not seen in ${st.frames} frame${st.frames === 1 ? '' : 's'}: strongest movement ${peak(st)}${away}`;
}

/** Yaw, pitch and size over time relative to the neutral pose, the step windows shaded (with
 *  their number and ✓/✗), where each step was seen, and the blinks. Inline SVG built with DOM
 *  calls; its colours come from style.css, so dark mode applies. */
function poseChart(ch, video, recordS) {
  const check = ch.check || {};
  const steps = check.steps || [];
  const poses = ch.poses || [];
  const blinks = (video && video.blinks && video.blinks.blinks) || [];
  const n = check.neutral || (poses.length ? poses[0] : null);
  // Drawn at about the width it is shown at, so the labels stay readable on a phone.
  const W = Math.round(Math.max(360, Math.min(720, (document.documentElement.clientWidth || 720) - 48)));
  const H = W < 500 ? 220 : 240, L = 40, R = 12, T = 30, B = 34;
  const lastPose = poses.length ? poses[poses.length - 1].time_s : 0;
  const lastStep = steps.length ? steps[steps.length - 1].end_s : 0;
  const lastBlink = blinks.reduce((m, b) => Math.max(m, b.end_s || 0), 0);
  const t1 = Math.max(recordS || 0, lastPose, lastStep, lastBlink, 1);
  const x = (t) => L + (Math.max(0, Math.min(t1, t)) / t1) * (W - L - R);
  const series = [
    { key: 'yaw', label: 'yaw', get: (p) => p.yaw - n.yaw },
    // The server's pitch grows looking down; drawn the other way so up on the chart is up.
    { key: 'pitch', label: 'pitch', get: (p) => n.pitch - p.pitch },
    { key: 'scale', label: 'size', get: (p) => p.scale / Math.max(1, n.scale) - 1 },
  ];
  let m = 0.4;
  if (n) for (const p of poses) for (const sr of series) m = Math.max(m, Math.abs(sr.get(p)));
  m = Math.min(2, m * 1.1);
  const y = (v) => T + (1 - (Math.max(-m, Math.min(m, v)) + m) / (2 * m)) * (H - T - B);

  const svg = s('svg', {
    id: 'challenge-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Head pose over the recording with ${steps.length} step windows`,
    'data-points': poses.length,
  });
  svg.append(s('rect', { class: 'chart-bg', x: 0, y: 0, width: W, height: H }));
  // Step windows first, so curves draw over them.
  steps.forEach((st, i) => {
    const cls = st.passed ? 'passed' : 'failed';
    svg.append(s('rect', {
      class: `win ${cls}`, x: x(st.start_s), y: T, width: Math.max(1, x(st.end_s) - x(st.start_s)), height: H - T - B,
      'data-step': st.step,
    }, s('title', { text: `${i + 1}. ${STEP_WORDS[st.step] || st.step}: ${st.passed ? 'passed' : 'failed'}` })));
    // On a narrow chart only the number and the mark fit above a window.
    const wide = x(st.end_s) - x(st.start_s) > 90;
    svg.append(s('text', {
      class: `win-label ${cls}`, x: (x(st.start_s) + x(st.end_s)) / 2, y: T - 9, 'text-anchor': 'middle',
      text: `${i + 1}${wide ? ` ${STEP_SHORT[st.step] || st.step}` : ''} ${st.passed ? '✓' : '✗'}`,
    }));
    // Windows are back to back: a line marks where each begins and ends.
    for (const edge of [st.start_s, st.end_s]) {
      svg.append(s('line', { class: 'win-edge', x1: x(edge), x2: x(edge), y1: T - 4, y2: H - B }));
    }
    if (typeof st.seen_at_s === 'number') {
      svg.append(s('line', { class: 'seen', x1: x(st.seen_at_s), x2: x(st.seen_at_s), y1: T, y2: H - B }));
    }
  });
  // Grid: zero (the neutral pose) and ±m/2, with values.
  for (const v of [m / 2, 0, -m / 2]) {
    svg.append(s('line', { class: v === 0 ? 'axis zero' : 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(s('text', { class: 'tick', x: L - 6, y: y(v) + 4, 'text-anchor': 'end', text: v === 0 ? '0' : v.toFixed(2) }));
  }
  const every = t1 > 12 ? 2 : 1;
  for (let t = 0; t <= t1 + 1e-6; t += every) {
    svg.append(s('line', { class: 'axis', x1: x(t), x2: x(t), y1: H - B, y2: H - B + 4 }));
    svg.append(s('text', { class: 'tick', x: x(t), y: H - B + 16, 'text-anchor': 'middle', text: `${t} s` }));
  }
  // Blinks: marks along the bottom of the plot.
  for (const b of blinks) {
    svg.append(s('rect', {
      class: 'blink-mark', x: x(b.start_s), y: H - B - 8, width: Math.max(3, x(b.end_s) - x(b.start_s)), height: 8,
    }, s('title', { text: `blink ${secs(b.start_s)}–${secs(b.end_s)}` })));
  }
  // The curves.
  if (n && poses.length) {
    for (const sr of series) {
      const d = poses.map((p, i) => `${i ? 'L' : 'M'}${x(p.time_s).toFixed(1)},${y(sr.get(p)).toFixed(1)}`).join('');
      svg.append(s('path', { class: `curve ${sr.key}`, d, 'data-series': sr.key }));
      if (sr.key !== 'scale') {
        for (const p of poses) svg.append(s('circle', { class: `dot ${sr.key}`, cx: x(p.time_s).toFixed(1), cy: y(sr.get(p)).toFixed(1), r: 2 }));
      }
    }
  } else {
    svg.append(s('text', { class: 'tick', x: W / 2, y: H / 2, 'text-anchor': 'middle', text: 'no face was tracked, so no pose to draw' }));
  }
  return svg;
}

/** The challenge's result: a sentence, one row per step with passed/failed in words, the pose
 *  chart, and the recording itself when the page has it. */
function challengeSection(ch, video, media) {
  const check = ch.check;
  const steps = (check && check.steps) || [];
  const issued = (media.challenge && media.challenge.steps) || [];
  const seen = steps.filter((st) => st.passed).length;
  let summary;
  if (ch.passed) summary = `Challenge passed: all ${steps.length} steps were seen in their windows.`;
  else if (ch.failure === 'steps_not_seen' || (!ch.failure && check)) summary = `Challenge failed: ${seen} of ${steps.length} steps were seen in their windows.`;
  else summary = `Challenge failed: ${reasonText(`challenge_${ch.failure}`)}.`;
  const parts = [h('h3', {}, 'Challenge'), h('p', { id: 'challenge-summary', class: ch.passed ? 'ok-text' : 'bad-text' }, summary)];
  if (steps.length) {
    parts.push(h('ol', { id: 'challenge-steps', class: 'steps' }, steps.map((st, i) => {
      const words = (issued[i] && issued[i].step === st.step && issued[i].instruction) || STEP_WORDS[st.step] || st.step;
      return h('li', { class: `step ${st.passed ? 'passed' : 'failed'}`, 'data-step': st.step, 'data-passed': String(Boolean(st.passed)) },
        h('span', { class: 'step-name' }, words),
        h('span', { class: 'step-window' }, `${Number(st.start_s).toFixed(1)}–${secs(st.end_s)}`),
        h('strong', { class: 'step-result' }, st.passed ? '✓ passed' : '✗ failed'),
        h('span', { class: 'step-detail' }, stepDetail(st)));
    })));
  }
  const sf = ch.same_face;
  const unchecked = (sf && Array.isArray(sf.unchecked_windows)) ? sf.unchecked_windows : [];
  if (sf && unchecked.length) {
    // A window with no face to compare: the check cannot vouch for it, so it failed.
    parts.push(h('p', { id: 'challenge-same-face', class: 'bad-text' },
      `Not checked: step ${unchecked.map((w) => w + 1).join(', ')} had no usable face to compare with the first one.`));
  } else if (sf && Array.isArray(sf.distances) && sf.distances.length) {
    parts.push(h('p', { id: 'challenge-same-face', class: sf.same ? '' : 'bad-text' }, sf.same
      ? `One face throughout: every window's face is within ${num(sf.max_distance)} of the first one.`
      : `The face changed: a window's face is ${num(Math.max(...sf.distances))} from the first one (a match is under ${num(sf.max_distance)}).`));
  }
  if (check) {
    parts.push(poseChart(ch, video, media.challenge && media.challenge.record_s));
    parts.push(h('div', { class: 'legend' }, 'Relative to the neutral pose (the lead-in):',
      h('i', { class: 'key yaw' }), 'yaw (up = towards the person\u2019s left)',
      h('i', { class: 'key pitch' }), 'pitch (up = looking up)',
      h('i', { class: 'key scale' }), 'face size − 1',
      h('i', { class: 'key win-ok' }), 'step window, passed ✓',
      h('i', { class: 'key win-bad' }), 'step window, failed ✗',
      h('i', { class: 'key blink' }), 'blink'));
  }
  if (media.videoUrl) {
    parts.push(h('details', { class: 'recording' }, h('summary', {}, 'Your recording (as sent, not mirrored)'),
      h('video', { id: 'recording', class: 'preview', src: media.videoUrl, controls: true, muted: true, playsinline: true })));
  }
  return h('section', { id: 'challenge', class: 'challenge' }, parts);
}

/** A threshold or score as people read it: at most 4 decimals (0.5075, not 0.5074999928). */
const num = (x) => String(Number(x.toFixed(4)));

/** Near the verdict: what `confidence` means (sureness of the verdict shown, not of "real"),
 *  the threshold that applied (from `details.rules`) and, when a rule decided, why. */
function meaning(body, reason) {
  const d = body.details;
  const rules = d && d.rules;
  const mode = d && d.mode;
  const conf = typeof body.confidence === 'number' ? num(body.confidence) : '–';
  const lines = [];
  if (reason) {
    lines.push(h('p', { class: 'reason', id: 'verdict-reason' },
      `Why ${body.result}: ${reasonText(reason)}.`));
  }
  // The score behind `result`: the fused score for a video, the still's live score otherwise.
  const score = body.video_input ? 'fused score' : 'live score';
  let how;
  if (reason) how = 'it is 1 because a rule decided, whatever the scores.';
  else if (body.result === 'fake' && typeof body.confidence === 'number') {
    how = `it is not the chance of “real”: 1 − ${conf} = ${num(1 - body.confidence)} is the ${score}.`;
  } else how = `for “real” it is the ${score} itself.`;
  lines.push(h('p', { id: 'verdict-confidence' },
    `confidence ${conf} is how sure the service is of the verdict shown, “${body.result}”; ${how}`));
  // The threshold that applied, quoted from details.rules (absent without details, or from a
  // server that predates it: then nothing is guessed).
  let threshold = d ? null : 'Turn on details to see the threshold that applied.';
  if (rules && (mode === 'image' || (!mode && !body.video_input))) {
    const pad = d.image && d.image.pad;
    threshold = `A still is real when its live score ≥ ${num(rules.image_real_threshold)}`
      + (pad && typeof pad.fused === 'number' ? `; this one scored ${num(pad.fused)}.` : '.');
  } else if (rules && mode === 'legacy') {
    threshold = `Legacy mode: real when the still's live score ≥ ${num(rules.image_real_threshold)} and the video shows a blink.`;
  } else if (rules) {
    const f = d.fusion;
    threshold = `A video is real when its fused score (PAD, motion, blink) ≥ ${num(rules.result_real_threshold)}`
      + (f && typeof f.score === 'number' ? `; this one fused to ${num(f.score)}.` : '.')
      + (body.image_input ? ` The still alone (image_result) is real when its live score ≥ ${num(rules.image_real_threshold)}.` : '');
    // A still refused beside a video passed (or the other way round) reads like a
    // contradiction: say how much the still weighs.
    if (body.image_input && body.image_result !== body.result && typeof rules.image_in_video === 'number') {
      threshold += ` The still and the video disagree: with a video, the still's PAD counts for ${Math.round(rules.image_in_video * 100)} % of the PAD signal and the frames' for the rest, so the video decides.`;
    }
  }
  if (threshold) lines.push(h('p', { id: 'verdict-threshold' }, threshold));
  // details.review: a still scored close to its threshold is where most errors sit.
  const review = d && d.review;
  if (review && review.image_near_threshold) {
    lines.push(h('p', { id: 'verdict-review' },
      `The still's live score is within ${num(review.margin)} of the threshold: a verdict of the kind worth a person's look.`));
  }
  return h('div', { class: 'meaning', id: 'verdict-meaning' }, lines);
}

export function renderLiveness(el, body, media) {
  el.replaceChildren();
  const both = body.image_input && body.video_input;
  const badges = h('div', { class: 'badges' },
    badge('liveness', body.result, body.result === 'real', 'verdict-result'),
    badge('overall', body.overall_result, body.overall_result === 'True', 'verdict-overall'),
    body.image_input ? badge('image', body.image_result, body.image_result === 'real', 'verdict-image') : null,
    both ? badge('facematch', body.facematch_result, body.facematch_result === 'True', 'verdict-facematch') : null,
    body.video_input ? badge('blink', body.blink_detection ? 'seen' : 'none', body.blink_detection, 'verdict-blink') : null,
  );
  const confs = h('div', {},
    bar('confidence', body.confidence),
    bar('overall_confidence', body.overall_confidence),
    body.image_input ? bar('image_confidence', body.image_confidence) : null,
    both ? bar('facematch_confidence', body.facematch_confidence) : null,
    body.video_input ? h('p', {}, `${body.real_video_frames} of ${body.video_frames_analyzed} analysed frames judged real; ${body.total_video_frames} frames in the video; facematch tested on ${body.facematch_frames_tested}.`) : null,
  );
  const d = body.details;
  const visuals = h('div', {});
  if (media.imageUrl && body.image_input) {
    visuals.append(h('h3', {}, 'Still'), stillWithFace(media.imageUrl, d && d.image, 'still-canvas'));
    const f = d && d.image && d.image.findings;
    if (f && f.length) visuals.append(h('p', { class: 'findings', id: 'still-findings' }, f.map(findingText).join(' · ')));
  }
  const ch = d && d.challenge;
  if (ch) badges.append(badge('challenge', ch.passed ? 'passed' : 'failed', Boolean(ch.passed), 'verdict-challenge'));
  const tl = d && timeline(d.video);
  el.append(badges, meaning(body, media.reason));
  if (ch) el.append(challengeSection(ch, d.video, media));
  el.append(h('div', { class: 'grid' }, h('div', {}, confs, kvTable(body)), visuals));
  if (tl) el.append(tl);
  el.append(rawJson(body));
  el.hidden = false;
}

export function renderFacematch(el, body, media) {
  el.replaceChildren();
  const d = body.details || {};
  el.append(
    h('div', { class: 'badges' }, badge('facematch', body.facematch_result, body.facematch_result === 'True', 'verdict-facematch')),
    bar('confidence_score', body.confidence_score),
    h('div', { class: 'grid' },
      media.image1Url ? h('div', {}, h('h3', {}, 'Image 1'), stillWithFace(media.image1Url, d.image1, 'image1-canvas')) : null,
      media.image2Url ? h('div', {}, h('h3', {}, 'Image 2'), stillWithFace(media.image2Url, d.image2, 'image2-canvas')) : null),
    rawJson(body),
  );
  el.hidden = false;
}

export function renderError(el, err) {
  el.replaceChildren();
  // `title` names a failure that is not an HTTP answer (the camera, the recorder).
  const status = err.status ? `HTTP ${err.status}` : (err.title || 'Request failed');
  el.append(h('strong', {}, `${status}: ${err.message}`));
  const fields = typeof err.fieldMessages === 'function' ? err.fieldMessages() : [];
  if (fields.length) {
    el.append(h('ul', {}, fields.map(([loc, field, msg]) => h('li', {}, h('code', {}, `${loc}.${field}`), ` ${msg}`))));
  }
  if (err.status === 401) el.append(h('p', {}, 'Paste a valid token above: on the server, `scripts/token.sh <name>` mints one (or `livegate token --sub <name>` with the server\'s secret).'));
  if (err.requestId) el.append(h('p', { class: 'hint' }, `request id ${err.requestId}`));
  el.hidden = false;
}
