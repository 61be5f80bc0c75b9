'use strict';
// Renders the gateway's merged OpenAPI document: tags, their operations (method, path, summary),
// and for each operation its parameters, request body and responses with their schemas.
// Everything is built with DOM calls and text nodes, so nothing in a document can inject markup;
// operation details and nested schemas render when opened, which keeps recursive schemas finite.

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];
let doc = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

// Descriptions are Markdown; `code` spans show as code, everything else as plain text.
function prose(text, cls) {
  const p = el('p', { class: cls || 'prose' });
  String(text || '').split('`').forEach((part, i) => p.append(i % 2 ? el('code', {}, part) : part));
  return p;
}

function target(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  return ref.slice(2).split('/')
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, key) => (node ? node[key] : undefined), doc);
}

// Follows `$ref`s (a few levels at most).
function resolve(item) {
  let node = item || {};
  for (let i = 0; node.$ref && i < 16; i += 1) node = target(node.$ref) || {};
  return node;
}

// A one-line type: `string (uuid)`, `UserView`, `array of RoleRef`, `string | null`.
function typeLabel(schema) {
  if (!schema) return 'any';
  if (schema.$ref) return schema.$ref.split('/').pop();
  if (schema.oneOf || schema.anyOf) return (schema.oneOf || schema.anyOf).map(typeLabel).join(' | ');
  if (schema.allOf) return schema.allOf.map(typeLabel).join(' & ');
  const types = [].concat(schema.type || []);
  let label = types.map((t) => (t === 'array' ? `array of ${typeLabel(schema.items)}` : t)).join(' | ');
  if (!label) label = schema.properties ? 'object' : 'any';
  if (schema.format) label += ` (${schema.format})`;
  if (schema.enum) label += `: ${schema.enum.join(', ')}`;
  return label;
}

// Properties and required names of an object schema, through `$ref` and `allOf`.
function fields(schema) {
  const node = resolve(schema);
  const props = {};
  const required = new Set(node.required || []);
  for (const part of node.allOf || []) {
    const inner = fields(part);
    Object.assign(props, inner.props);
    inner.required.forEach((name) => required.add(name));
  }
  Object.assign(props, node.properties || {});
  return { props, required };
}

function isStructured(schema) {
  if (!schema) return false;
  if (schema.$ref) return true;
  if (schema.properties || schema.allOf || schema.oneOf || schema.anyOf) return true;
  return Boolean(schema.items && isStructured(schema.items));
}

// A schema, closed, that renders when opened.
function expander(schema) {
  const details = el('details', { class: 'expander' }, el('summary', {}, typeLabel(schema)));
  details.addEventListener('toggle', () => {
    if (details.open && details.children.length === 1) details.append(schemaView(schema));
  });
  return details;
}

function schemaView(schema) {
  const box = el('div', { class: 'schema' });
  const node = resolve(schema);
  if (node.description) box.append(prose(node.description, 'note'));
  const alternatives = node.oneOf || node.anyOf;
  if (alternatives) {
    box.append(el('div', { class: 'note' }, 'One of:'));
    alternatives.forEach((alternative) => box.append(isStructured(alternative)
      ? expander(alternative) : el('div', {}, el('code', {}, typeLabel(alternative)))));
    return box;
  }
  if ([].concat(node.type || []).includes('array') && node.items) {
    box.append(el('div', { class: 'note' }, 'Array of:'), expander(node.items));
    return box;
  }
  const { props, required } = fields(schema);
  const names = Object.keys(props);
  if (!names.length) {
    box.append(el('code', {}, typeLabel(node)));
    return box;
  }
  const table = el('table', { class: 'fields' });
  for (const name of names) {
    const prop = props[name];
    const description = prop.description || resolve(prop).description;
    table.append(el('tr', {},
      el('td', { class: 'name' }, el('code', {}, name),
        required.has(name) ? el('span', { class: 'req', title: 'required' }, '*') : null),
      el('td', { class: 'type' }, typeLabel(prop)),
      el('td', {}, description ? prose(description) : '')));
    if (isStructured(prop)) table.append(el('tr', { class: 'nested' }, el('td', { colspan: '3' }, expander(prop))));
  }
  box.append(table);
  return box;
}

function parametersView(parameters) {
  const table = el('table', {}, el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'In'), el('th', {}, 'Type'),
    el('th', {}, 'Description')));
  for (const item of parameters) {
    const p = resolve(item);
    table.append(el('tr', {},
      el('td', { class: 'name' }, el('code', {}, p.name), p.required ? el('span', { class: 'req', title: 'required' }, '*') : null),
      el('td', {}, p.in),
      el('td', { class: 'type' }, typeLabel(p.schema)),
      el('td', {}, p.description ? prose(p.description) : '')));
  }
  return table;
}

function contentView(content) {
  const box = el('div', {});
  for (const [mediaType, media] of Object.entries(content || {})) {
    box.append(el('div', { class: 'note' }, mediaType), media.schema ? schemaView(media.schema) : '');
  }
  return box;
}

function operationBody(op) {
  const body = el('div', { class: 'op-body' });
  if (op.description) op.description.split(/\n\n+/).forEach((para) => body.append(prose(para)));
  const security = (op.security || []).flatMap((requirement) => Object.keys(requirement));
  body.append(el('p', { class: 'note' }, security.length ? `Authentication: ${security.join(' or ')}` : 'No token needed.'));
  if (op.parameters && op.parameters.length) body.append(el('h3', {}, 'Parameters'), parametersView(op.parameters));
  if (op.requestBody) {
    const request = resolve(op.requestBody);
    body.append(el('h3', {}, request.required ? 'Request body' : 'Request body (optional)'));
    if (request.description) body.append(prose(request.description, 'note'));
    body.append(contentView(request.content));
  }
  body.append(el('h3', {}, 'Responses'));
  const statuses = Object.keys(op.responses || {}).sort();
  for (const status of statuses) {
    const response = resolve(op.responses[status]);
    body.append(el('div', {}, el('span', { class: 'status' }, status), ' ', response.description || ''));
    if (response.headers) body.append(el('div', { class: 'note' }, `Headers: ${Object.keys(response.headers).join(', ')}`));
    body.append(contentView(response.content));
  }
  return body;
}

function operationView(path, method, op) {
  const details = el('details', { class: 'op' },
    el('summary', {},
      el('span', { class: `method ${method}` }, method.toUpperCase()),
      el('code', { class: 'path' }, path),
      el('span', { class: 'summary' }, op.summary || ''),
      (op.security || []).length ? null : el('span', { class: 'badge' }, 'public')));
  details.dataset.search = [method, path, op.summary, op.operationId, ...(op.tags || [])].join(' ').toLowerCase();
  if (op.operationId) details.id = op.operationId;
  details.addEventListener('toggle', () => {
    if (details.open && details.children.length === 1) details.append(operationBody(op));
    // An open operation's address can be shared: /docs#users.get opens it.
    if (details.open && details.id) history.replaceState(null, '', `#${details.id}`);
  });
  return details;
}

function render() {
  const byTag = new Map((doc.tags || []).map((tag) => [tag.name, []]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ['other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationView(path, method, item[method]));
    }
  }
  const main = document.getElementById('tags');
  main.replaceChildren();
  for (const [name, operations] of byTag) {
    if (!operations.length) continue;
    const tag = (doc.tags || []).find((t) => t.name === name) || {};
    main.append(el('section', { class: 'tag' }, el('h2', {}, name), tag.description ? prose(tag.description) : null,
      ...operations));
  }
  const count = main.querySelectorAll('details.op').length;
  document.getElementById('status').textContent = `${count} operations`;
}

function header() {
  const info = doc.info || {};
  document.getElementById('title').textContent = info.title || 'API';
  document.title = info.title || 'API';
  const services = (doc['x-services'] || []).map((s) => `${s.name} ${s.version || ''}`.trim());
  document.getElementById('services').textContent = services.length
    ? `Services: ${services.join(', ')}` : (info.version ? `Version ${info.version}` : '');
  const unavailable = doc['x-unavailable-services'] || [];
  const warning = document.getElementById('unavailable');
  warning.hidden = !unavailable.length;
  warning.textContent = `Not available right now, so not listed: ${unavailable.join(', ')}`;
}

function filter() {
  const words = document.getElementById('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const section of document.querySelectorAll('section.tag')) {
    let shown = 0;
    for (const op of section.querySelectorAll('details.op')) {
      const tag = section.querySelector('h2').textContent.toLowerCase();
      op.hidden = !words.every((word) => op.dataset.search.includes(word) || tag.includes(word));
      if (!op.hidden) shown += 1;
    }
    section.hidden = shown === 0;
  }
}

async function load() {
  const status = document.getElementById('status');
  try {
    const response = await fetch('/openapi.json', { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    doc = await response.json();
    header();
    render();
    filter();
    const linked = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (linked) {
      linked.open = true;
      linked.scrollIntoView();
    }
  } catch (error) {
    status.textContent = `Could not load /openapi.json: ${error.message}`;
    status.className = 'warning';
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('filter').addEventListener('input', filter);
  load();
});
