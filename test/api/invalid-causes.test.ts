// errors.invalid: each StatusCause carries the path in `field` and the body without it in `message`
// (Kubernetes' NewInvalid: ErrorBody()), for every FieldError type, so kubectl, which prints
// `<field>: <message>`, shows the path once; the top-level message keeps `path: body` as Kubernetes does.
import t from 'tap';
import { errors } from '../../api/errors.js';
import { Path, fieldError, formatFieldError } from '../../api/field.js';

t.test('causes name the field once', async (t) => {
  const p = Path.root('spec').child('http').index(0).child('route');
  const errs = [
    fieldError.invalid(p, 110, 'total destination weight 110 != 100'),
    fieldError.required(Path.root('spec').child('hosts')),
    fieldError.notSupported(Path.root('spec').child('mode'), 'X', ['A', 'B']),
    fieldError.duplicate(Path.root('spec').child('subsets').index(1).child('name'), 'v1'),
    fieldError.forbidden(Path.root('spec').child('x'), 'may not be set'),
    fieldError.notFound(Path.root('spec').child('y'), 'z'),
  ];
  const e = errors.invalid('VirtualService', 'networking.istio.io', 'reviews', errs);
  t.equal(e.causes.length, errs.length);
  e.causes.forEach((c, i) => {
    t.equal(c.field, errs[i]!.field);
    t.notOk(c.message!.startsWith(`${errs[i]!.field}:`), `no path in the message: ${c.message}`);
    t.equal(`${c.field}: ${c.message}`, formatFieldError(errs[i]!), 'field + message is the formatted error');
  });
  t.equal(e.causes[0]!.message, 'Invalid value: 110: total destination weight 110 != 100');
  t.equal(e.causes[1]!.message, 'Required value');
  t.match(e.message, /^VirtualService.networking.istio.io "reviews" is invalid: \[spec\.http\[0\]\.route: Invalid value: 110/);
});
