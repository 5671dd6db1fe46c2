// Talking to the Livegate API: the bearer token, JSON bodies and the contract's error envelope
// `{"detail": {"<location>": {"<field>": ["msg"]}}, "message": "..."}`.

const TOKEN_KEY = 'livegate.playground.token';

export function loadToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function saveToken(value) {
  try { localStorage.setItem(TOKEN_KEY, value); } catch { /* private mode: keep it in the field only */ }
}

function token() {
  return document.getElementById('token').value.trim();
}

function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** A non-2xx answer, carrying the envelope so the page can show every field message. */
export class ApiError extends Error {
  constructor(status, body, requestId) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.requestId = requestId;
  }

  /** [location, field, message] for every entry of `detail`. */
  fieldMessages() {
    const out = [];
    const detail = this.body && this.body.detail;
    if (detail && typeof detail === 'object') {
      for (const [loc, fields] of Object.entries(detail)) {
        if (fields && typeof fields === 'object') {
          for (const [field, msgs] of Object.entries(fields)) {
            for (const m of Array.isArray(msgs) ? msgs : [msgs]) out.push([loc, field, String(m)]);
          }
        }
      }
    }
    return out;
  }
}

async function parse(res) {
  const text = await res.text();
  let body;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: {}, message: text.slice(0, 500) || res.statusText }; }
  if (!res.ok) throw new ApiError(res.status, body, res.headers.get('x-request-id'));
  return body;
}

async function send(method, path, body) {
  let res;
  try {
    res = await fetch(path, { method, headers: authHeaders(), body });
  } catch (e) {
    throw new ApiError(0, { detail: {}, message: `network error: ${e.message}` });
  }
  return parse(res);
}

export const postForm = (path, form) => send('POST', path, form);

/** POST returning the body and the `X-Livegate-Reason` header (why a rule made it fake). */
export async function postFormWithReason(path, form) {
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers: authHeaders(), body: form });
  } catch (e) {
    throw new ApiError(0, { detail: {}, message: `network error: ${e.message}` });
  }
  const body = await parse(res);
  return { body, reason: res.headers.get('x-livegate-reason') };
}
export const getJson = (path) => send('GET', path);
export const del = (path) => send('DELETE', path);

export async function getBlob(path) {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) await parse(res);
  return res.blob();
}

/** POST with upload progress (fetch has none): `onProgress(fraction)`. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, { detail: {}, message: 'network error during upload' }));
    xhr.onload = () => {
      let body;
      try { body = JSON.parse(xhr.responseText); } catch { body = { detail: {}, message: xhr.responseText.slice(0, 500) }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body, xhr.getResponseHeader('x-request-id')));
    };
    xhr.send(form);
  });
}
