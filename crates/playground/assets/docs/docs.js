// Renders /openapi.json as a readable page, from this server alone (no CDN, no framework):
// one card per operation, then every schema, with examples where the document has them.

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
};

// `append` and `replaceChildren` neither flatten arrays nor skip null: do both here.
const put = (node, ...children) => {
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return node;
};

const refName = (ref) => ref.split('/').pop();

// Descriptions mark code with backticks, as Markdown does: shown as code, never as HTML.
const prose = (text) => (text || '').split('`').map((part, i) => (i % 2 ? el('code', {}, part) : part));

// A short type for a schema: a link for a reference, `array of …`, `a | b` for oneOf.
function typeOf(schema) {
  if (!schema) return '';
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return el('a', { href: `#schema-${name}` }, name);
  }
  const alts = schema.oneOf || schema.anyOf;
  if (alts) {
    const parts = alts.map(typeOf);
    return el('span', {}, ...parts.flatMap((p, i) => (i ? [' | ', p] : [p])));
  }
  if (schema.type === 'array') return el('span', {}, 'array of ', typeOf(schema.items));
  const t = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type || 'object';
  return schema.format ? `${t} (${schema.format})` : t;
}

function constraints(schema) {
  const out = [];
  if (!schema) return '';
  if (schema.default !== undefined) out.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.pattern) out.push(`pattern ${schema.pattern}`);
  if (schema.maxLength !== undefined) out.push(`≤ ${schema.maxLength} chars`);
  if (schema.minimum !== undefined) out.push(`≥ ${schema.minimum}`);
  if (schema.contentMediaType) out.push(schema.contentMediaType);
  return out.join(' · ');
}

function fieldsTable(schema) {
  const props = schema && schema.properties;
  if (!props) return null;
  const required = new Set(schema.required || []);
  const rows = Object.entries(props).map(([name, s]) =>
    el('tr', {},
      el('td', {}, el('code', {}, name), required.has(name) ? el('span', { class: 'req' }, ' required') : null),
      el('td', {}, typeOf(s)),
      el('td', {}, prose(s.description), s.description && constraints(s) ? el('br') : null,
        el('span', { class: 'muted' }, constraints(s)))));
  return el('table', {}, el('tr', {}, el('th', {}, 'field'), el('th', {}, 'type'), el('th', {}, 'meaning')), rows);
}

function example(media) {
  const ex = media.example ?? media.schema?.example;
  if (ex === undefined) return null;
  return el('details', {}, el('summary', {}, 'example'),
    el('pre', {}, typeof ex === 'string' ? ex : JSON.stringify(ex, null, 2)));
}

function operation(path, method, op) {
  const id = `op-${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`;
  const card = el('section', { class: 'op', id },
    el('h3', {}, el('span', { class: `method ${method}` }, method.toUpperCase()), el('code', {}, path)),
    op.summary ? el('p', {}, el('strong', {}, prose(op.summary))) : null,
    op.description ? el('p', {}, prose(op.description)) : null,
    el('p', { class: 'muted' }, op.security && op.security.length ? 'Needs a Bearer token.' : 'No token needed.'));
  if (op.parameters && op.parameters.length) {
    put(card, el('h4', {}, 'Parameters'), el('table', {},
      el('tr', {}, el('th', {}, 'name'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'meaning')),
      op.parameters.map((p) => el('tr', {},
        el('td', {}, el('code', {}, p.name), p.required ? el('span', { class: 'req' }, ' required') : null),
        el('td', {}, p.in), el('td', {}, typeOf(p.schema)), el('td', {}, prose(p.description))))));
  }
  if (op.requestBody) {
    put(card, el('h4', {}, 'Request body'));
    for (const [type, media] of Object.entries(op.requestBody.content || {})) {
      put(card, el('p', {}, el('code', {}, type), ': ', typeOf(media.schema)), example(media));
    }
  }
  put(card, el('h4', {}, 'Responses'));
  const rows = Object.entries(op.responses || {}).map(([status, r]) => {
    const content = Object.entries(r.content || {});
    return el('tr', {},
      el('td', {}, el('code', {}, status)),
      el('td', {}, prose(r.description),
        content.map(([type, media]) => el('div', { class: 'muted' }, type, media.schema ? ': ' : '', typeOf(media.schema))),
        content.map(([, media]) => example(media))));
  });
  put(card, el('table', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'meaning')), rows));
  return card;
}

async function main() {
  const root = document.getElementById('docs');
  let doc;
  try {
    const res = await fetch('/openapi.json');
    if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
    doc = await res.json();
  } catch (e) {
    root.replaceChildren(el('p', { role: 'alert' }, `Cannot load the API description: ${e.message}`));
    return;
  }
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      if (item[method]) ops.push([path, method, item[method]]);
    }
  }
  const schemas = Object.entries(doc.components?.schemas || {});
  root.replaceChildren();
  put(root,
    el('p', {}, prose(doc.info?.description), ` — version ${doc.info?.version || ''}, OpenAPI ${doc.openapi}.`),
    el('p', {}, 'Send a token as ', el('code', {}, 'Authorization: Bearer <JWT>'),
      '. Every error has the same envelope: ', el('a', { href: '#schema-ErrorEnvelope' }, 'ErrorEnvelope'), '.'),
    el('h2', {}, 'Operations'),
    el('ul', { class: 'toc' }, ops.map(([p, m, op]) => el('li', {},
      el('a', { href: `#op-${m}-${p.replace(/[^a-z0-9]+/gi, '-')}` }, `${m.toUpperCase()} ${p}`),
      op.summary ? el('span', { class: 'muted' }, ' — ', prose(op.summary)) : null))),
    ops.map(([p, m, op]) => operation(p, m, op)),
    el('h2', {}, 'Schemas'),
    schemas.map(([name, s]) => el('section', { class: 'op schema', id: `schema-${name}` },
      el('h3', {}, name),
      s.description ? el('p', {}, prose(s.description)) : null,
      fieldsTable(s) || el('p', { class: 'muted' }, 'one of: ', typeOf(s)),
      example({ schema: s }))));
  root.setAttribute('aria-busy', 'false');
  // A link into the reference (`/docs#op-post--liveness`) names an element that exists only
  // now: the browser's own jump happened before, on an empty page.
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.scrollIntoView();
}

main();
