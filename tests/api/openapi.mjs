// Loads docs/openapi.yaml and checks HTTP answers against it.
//
// checkAnswer() finds the operation by method and path template, then the response by
// status, and returns a list of problems (empty when the answer matches): undocumented
// route/status, wrong Content-Type, body not matching the schema, required header missing
// or malformed. Schemas are compiled once, lazily, with Ajv's JSON Schema 2020-12 dialect
// (the dialect of OpenAPI 3.1).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SPEC_FILE = join(REPO, 'docs/openapi.yaml');
export const API_PREFIX = '/api/v1';

const BASE_ID = 'https://kehu.dev/openapi.json';
const SCHEMA_REF = '#/components/schemas/';

export const spec = YAML.parse(readFileSync(SPEC_FILE, 'utf8'));

// Rewrites "#/components/schemas/X" to an absolute reference into the registered $defs, so
// that any fragment of the document can be compiled on its own.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_REF)) {
      out[k] = `${BASE_ID}#/$defs/${v.slice(SCHEMA_REF.length)}`;
    } else if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) {
      throw new Error(`openapi.yaml: cannot use $ref ${v} inside a schema`);
    } else {
      out[k] = rewriteRefs(v);
    }
  }
  return out;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
addFormats(ajv);
ajv.addSchema({ $id: BASE_ID, $defs: rewriteRefs(spec.components?.schemas ?? {}) });

// Resolves a "#/components/..." reference of the document (responses, parameters, headers).
function deref(obj) {
  let seen = 0;
  while (obj && typeof obj.$ref === 'string') {
    if (++seen > 10) throw new Error(`openapi.yaml: $ref loop at ${obj.$ref}`);
    const parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur = spec;
    for (const p of parts) cur = cur?.[p];
    if (cur === undefined) throw new Error(`openapi.yaml: unresolved $ref ${obj.$ref}`);
    obj = cur;
  }
  return obj;
}

const validators = new Map();
export function compile(schema, key) {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(rewriteRefs(schema));
    validators.set(key, v);
  }
  return v;
}

export function schemaValidator(name) {
  return compile({ $ref: `${SCHEMA_REF}${name}` }, `schema:${name}`);
}

// Path templates -> regexps. "/healthz" is at the server root, the rest under /api/v1.
const routes = Object.entries(spec.paths).map(([template, item]) => {
  const root = item.servers?.[0]?.url === '/' ? '' : API_PREFIX;
  const names = [];
  const re = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, n) => {
    names.push(n);
    return '([^/]+)';
  });
  return { template, item, regex: new RegExp(`^${root}${re}$`), names };
});

export function findOperation(method, pathname) {
  // Prefer templates without parameters ("/tokens" over "/tokens/{id}") when both match.
  const matches = routes.filter((r) => r.regex.test(pathname));
  matches.sort((a, b) => a.names.length - b.names.length);
  const r = matches[0];
  if (!r) return null;
  const op = r.item[method.toLowerCase()];
  return { template: r.template, pathItem: r.item, op: op ?? null };
}

function formatErrors(errors) {
  return (errors ?? [])
    .slice(0, 8)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`)
    .join('; ');
}

// answer: {method, pathname, status, headers (a Headers), text}
// Returns {problems: string[], json: parsed body or undefined}.
export function checkAnswer({ method, pathname, status, headers, text }) {
  const problems = [];
  const ctype = (headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  let json;
  if (ctype === 'application/json' || ctype === 'application/problem+json') {
    try {
      json = JSON.parse(text);
    } catch (e) {
      problems.push(`body is not valid JSON (${e.message}): ${text.slice(0, 200)}`);
    }
  }
  if (status >= 400 && ctype !== 'application/problem+json') {
    problems.push(`error status ${status} with Content-Type "${headers.get('content-type')}", want application/problem+json`);
  }

  const found = findOperation(method, pathname);
  if (!found || !found.op) {
    // Unknown routes (and methods) may only answer with a problem.
    if (status < 400) {
      problems.push(`${method} ${pathname} is not in openapi.yaml but answered ${status}`);
    } else if (json !== undefined) {
      const v = schemaValidator('Problem');
      if (!v(json)) problems.push(`problem body does not match Problem: ${formatErrors(v.errors)}`);
      if (json.status !== status) problems.push(`problem.status ${json.status} != HTTP ${status}`);
    }
    return { problems, json };
  }
  const label = `${method.toUpperCase()} ${found.template} → ${status}`;
  const respRef = found.op.responses?.[String(status)];
  if (!respRef) {
    problems.push(`${label}: status not documented in openapi.yaml (body: ${text.slice(0, 300)})`);
    return { problems, json };
  }
  const resp = deref(respRef);

  for (const [name, hdrRef] of Object.entries(resp.headers ?? {})) {
    const hdr = deref(hdrRef);
    const value = name.toLowerCase() === 'set-cookie' ? headers.getSetCookie().join('\n') || null : headers.get(name);
    if (value === null) {
      if (hdr.required) problems.push(`${label}: required header ${name} missing`);
      continue;
    }
    if (hdr.schema && name.toLowerCase() !== 'set-cookie') {
      const v = compile(hdr.schema, `header:${found.template}:${method}:${status}:${name}`);
      if (!v(value)) problems.push(`${label}: header ${name}: ${JSON.stringify(value)} ${formatErrors(v.errors)}`);
    }
  }

  const content = resp.content;
  if (!content) {
    if (text.length > 0) problems.push(`${label}: expected no body, got ${JSON.stringify(text.slice(0, 200))}`);
    return { problems, json };
  }
  const media = content[ctype];
  if (!media) {
    problems.push(`${label}: Content-Type "${headers.get('content-type')}" not documented (want ${Object.keys(content).join(', ')})`);
    return { problems, json };
  }
  if (json === undefined) return { problems, json };
  if (media.schema) {
    const v = compile(media.schema, `body:${found.template}:${method}:${status}:${ctype}`);
    if (!v(json)) {
      problems.push(`${label}: body does not match openapi.yaml: ${formatErrors(v.errors)}\n  body: ${text.slice(0, 600)}`);
    }
  }
  if (status >= 400 && json && json.status !== status) problems.push(`${label}: problem.status ${json.status} != HTTP ${status}`);
  return { problems, json };
}

// Compiles every response schema and header of the document; throws on a broken reference.
export function compileAll() {
  let count = 0;
  for (const r of routes) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = r.item[method];
      if (!op) continue;
      for (const [status, respRef] of Object.entries(op.responses ?? {})) {
        const resp = deref(respRef);
        for (const [ctype, media] of Object.entries(resp.content ?? {})) {
          if (media.schema) {
            compile(media.schema, `body:${r.template}:${method}:${status}:${ctype}`);
            count++;
          }
        }
        for (const [name, hdrRef] of Object.entries(resp.headers ?? {})) {
          const hdr = deref(hdrRef);
          if (hdr.schema) compile(hdr.schema, `header:${r.template}:${method}:${status}:${name}`);
        }
      }
      for (const p of [...(r.item.parameters ?? []), ...(op.parameters ?? [])]) {
        const param = deref(p);
        if (param.schema) compile(param.schema, `param:${r.template}:${method}:${param.in}:${param.name}`);
      }
      const body = op.requestBody && deref(op.requestBody);
      for (const [ctype, media] of Object.entries(body?.content ?? {})) {
        if (media.schema) compile(media.schema, `request:${r.template}:${method}:${ctype}`);
      }
    }
  }
  return count;
}
