import { AppError } from '../core/errors.js';

/** One of Ajv's errors, as Fastify hands them over (`error.validation`). */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The value the issue is about (Ajv's `verbose`). */
  data?: unknown;
}

/**
 * Where in the input the issue is, as a client would write it: `contacts[0].phones`, not the
 * top-level field alone (a contact without a name is not a missing `contacts`).
 */
function parameterPath(issue: ValidationIssue): string {
  const segments = issue.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const child = issue.keyword === 'required' ? issue.params.missingProperty : issue.keyword === 'additionalProperties' ? issue.params.additionalProperty : undefined;
  if (child !== undefined) segments.push(String(child));
  if (segments.length === 0) return 'request';
  return segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

const entries = (n: unknown) => `${String(n)} ${Number(n) === 1 ? 'entry' : 'entries'}`;

const isUnion = (i: ValidationIssue) => i.keyword === 'anyOf' || i.keyword === 'oneOf';

/**
 * A value that fits no branch of a union (`null` or a URL; one of three words). Ajv reports each
 * branch's failure before the union's own, so the first issue is only the first branch's: a
 * branch of the right type that failed a rule (too long, too small) says what is wrong; otherwise
 * every branch's type or constant together says what the value may be.
 */
function unionProblem(issues: ValidationIssue[], path: string): string {
  const branches = issues.filter((i) => i.instancePath === path && !isUnion(i));
  const ruleBroken = branches.find((i) => i.keyword !== 'type' && i.keyword !== 'const');
  if (ruleBroken) return problem(ruleBroken, []);
  const constants = branches.filter((i) => i.keyword === 'const').map((i) => String(i.params.allowedValue));
  const types = branches.filter((i) => i.keyword === 'type').map((i) => typeName(i.params.type));
  if (types.length === 0) return constants.length > 0 ? `must be one of ${constants.join(', ')}` : 'is not valid';
  return `must be ${[...constants, ...types].join(' or ')}`;
}

function typeName(type: unknown): string {
  return String(type ?? 'of another type')
    .split(',')
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(' or ');
}

/** What is wrong with the value, as the end of "Invalid parameter: <name> …". */
function problem(issue: ValidationIssue, issues: ValidationIssue[]): string {
  if (issues.some((i) => isUnion(i) && i.instancePath === issue.instancePath)) return unionProblem(issues, issue.instancePath);
  const { params } = issue;
  switch (issue.keyword) {
    case 'type':
      // A query field given twice (`text=a&text=b`) arrives as a list.
      if (Array.isArray(issue.data) && !String(params.type).includes('array')) return 'was given more than once; give it once';
      return `must be ${typeName(params.type)}`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters long`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`;
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
      return `must be at most ${String(params.limit)}`;
    case 'minItems':
      return `must have at least ${entries(params.limit)}`;
    case 'maxItems':
      return `must have at most ${entries(params.limit)}`;
    case 'uniqueItems':
      return 'must not repeat an entry';
    case 'enum':
      return `must be one of ${((params.allowedValues as unknown[]) ?? []).join(', ')}`;
    case 'const':
      return `must be ${String(params.allowedValue)}`;
    case 'pattern':
      return 'has the wrong format';
    case 'format':
      return `must be a valid ${String(params.format)}`;
    default:
      return 'is not valid';
  }
}

/** A schema validation failure as one of our codes, naming the parameter and what it must be. */
export function fromValidation(issues: ValidationIssue[]): AppError {
  const issue = issues[0]!;
  const name = parameterPath(issue);
  if (issue.keyword === 'required') return new AppError('missing_parameter', `Missing required parameter: ${name}`);
  if (issue.keyword === 'additionalProperties') return new AppError('invalid_parameter', `Unknown parameter: ${name} is not a field this endpoint takes.`);
  return new AppError('invalid_parameter', `Invalid parameter: ${name} ${problem(issue, issues)}.`);
}
