// Field paths and field errors in the style of Kubernetes' field.ErrorList:
// `spec.ports[2].port: Invalid value: 70000: must be between 1 and 65535`.

/** The kinds of field error Kubernetes reports, with the StatusCause reason each maps to. */
export type FieldErrorType = 'Required' | 'Invalid' | 'NotSupported' | 'Duplicate' | 'Forbidden' | 'TooLong' | 'TooMany' | 'NotFound';

const causeReason: Record<FieldErrorType, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  NotFound: 'FieldValueNotFound',
};

/** One problem with one field. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  detail: string;
  value?: unknown;
}

/** An immutable path into an object: `new Path('spec').child('ports').index(2).child('port')`. */
export class Path {
  private constructor(private readonly text: string) {}
  static root(name = ''): Path {
    return new Path(name);
  }
  child(...names: string[]): Path {
    let t = this.text;
    for (const n of names) t = t === '' ? n : `${t}.${n}`;
    return new Path(t);
  }
  index(i: number): Path {
    return new Path(`${this.text}[${i}]`);
  }
  key(k: string): Path {
    return new Path(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }
}

function mk(type: FieldErrorType, path: Path | string, detail: string, value?: unknown): FieldError {
  return { type, field: String(path), detail, ...(value === undefined ? {} : { value }) };
}

/** Constructors for field errors, named after Kubernetes' field.Required/Invalid/... */
export const fieldError = {
  required: (p: Path | string, detail = 'Required value') => mk('Required', p, detail),
  invalid: (p: Path | string, value: unknown, detail: string) => mk('Invalid', p, detail, value),
  notSupported: (p: Path | string, value: unknown, allowed: readonly string[]) =>
    mk('NotSupported', p, `supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value),
  duplicate: (p: Path | string, value: unknown) => mk('Duplicate', p, 'Duplicate value', value),
  forbidden: (p: Path | string, detail: string) => mk('Forbidden', p, detail),
  tooLong: (p: Path | string, value: unknown, max: number) => mk('TooLong', p, `may not be more than ${max} bytes`, value),
  tooMany: (p: Path | string, n: number, max: number) => mk('TooMany', p, `must have at most ${max} items`, n),
  /** A reference to something that does not exist (e.g. a volumeMount naming no volume). */
  notFound: (p: Path | string, value: unknown) => mk('NotFound', p, '', value),
};

/** `spec.ports[2].port: Invalid value: 70000: must be between 1 and 65535` */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/**
 * The error without its field path (`Invalid value: 70000: must be between 1 and 65535`): Kubernetes'
 * `field.Error.ErrorBody()`, the `message` of a StatusCause whose `field` carries the path (kubectl prints
 * `<field>: <message>`, so a message with the path in it would show it twice).
 */
export function fieldErrorBody(e: FieldError): string {
  const label: Record<FieldErrorType, string> = {
    Required: 'Required value',
    Invalid: 'Invalid value',
    NotSupported: 'Unsupported value',
    Duplicate: 'Duplicate value',
    Forbidden: 'Forbidden',
    TooLong: 'Too long',
    TooMany: 'Too many',
    NotFound: 'Not found',
  };
  // As Kubernetes' ErrorBody: Required/Forbidden/TooLong print no value; a detail is appended
  // unless it is empty or just repeats the type's label.
  const tail = e.detail && e.detail !== label[e.type] ? `: ${e.detail}` : '';
  if (e.type === 'Required' || e.type === 'TooLong') return `${label[e.type]}${tail}`;
  if (e.type === 'Forbidden') return `Forbidden: ${e.detail}`;
  if (e.type === 'NotFound') return `Not found: ${JSON.stringify(e.value)}`;
  const v = e.value === undefined ? '' : `: ${JSON.stringify(e.value)}`;
  return `${label[e.type]}${v}${tail}`;
}

/** The StatusCause reason for a field error. */
export function causeReasonOf(e: FieldError): string {
  return causeReason[e.type];
}
