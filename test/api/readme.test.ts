// Keeps api/README.md and api/schema/README.md honest: the messages they quote are the ones the code
// produces, and every FieldError type has its documented form.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { admit } from '../../api/admit.js';
import { fieldError, formatFieldError } from '../../api/field.js';
import { parseFieldSelectorFor } from '../../api/fields.js';
import { parseSelector } from '../../api/labels.js';
import { arr, enm, int, obj, str } from '../../api/schema/schema.js';
import { walk } from '../../api/schema/walk.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(`${root}api/README.md`, 'utf8');
const schemaReadme = readFileSync(`${root}api/schema/README.md`, 'utf8');

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

t.test('quoted Status messages are real', async (t) => {
  const quoted = [
    message(() => parseSelector('e in )')),
    message(() => parseFieldSelectorFor('spec.containers=x', '', 'Pod')),
    message(() => parseFieldSelectorFor('x', '', 'Pod')),
  ];
  const unknown = admit({ apiVersion: 'v1', kind: 'Widget', metadata: {} });
  if (!unknown.ok) quoted.push(unknown.error.message);
  for (const q of quoted) t.ok(readme.includes(q), `README quotes: ${q}`);
});

t.test('every FieldError type has its documented form', async (t) => {
  const samples = [
    fieldError.required('spec.x'),
    fieldError.duplicate('spec.x', 'a'),
    fieldError.notFound('spec.x', 'a'),
    fieldError.forbidden('spec.x', 'why'),
    fieldError.tooLong('spec.x', '', 5),
    fieldError.tooMany('spec.x', 3, 2),
    fieldError.notSupported('spec.x', 'C', ['A', 'B']),
    fieldError.invalid('spec.x', 1, 'why'),
  ];
  const forms = samples.map((e) => formatFieldError(e).replace(/^spec\.x: (Invalid value|Unsupported value|Required value|Duplicate value|Forbidden|Not found|Too long|Too many).*$/, '$1'));
  for (const f of forms) t.ok(readme.includes(`\`<path>: ${f}`), `README documents "${f}"`);
});

t.test('schema README example is what the walker says', async (t) => {
  const port = obj({ name: str, containerPort: int, protocol: enm('TCP', 'UDP', 'SCTP') }, ['containerPort']);
  const errs = walk(obj({ ports: arr(port) }), { ports: [{ containerPort: '80', protocl: 'TCP' }] }, 'spec').errors.map(formatFieldError);
  t.equal(errs.length, 2);
  for (const e of errs) t.ok(schemaReadme.includes(`// ${e}`), e);
});
