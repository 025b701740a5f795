/**
 * The subset of SOQL the product uses, parsed and evaluated the way Salesforce does:
 * SELECT field list or COUNT(), FROM one object, WHERE with AND / OR / NOT and parentheses
 * (mixing AND and OR without parentheses is a MALFORMED_QUERY, as on a real org), operators
 * = != <> < <= > >= IN, NOT IN and LIKE, ORDER BY with ASC/DESC and NULLS FIRST/LAST, LIMIT and
 * OFFSET. Text comparisons ignore case; id comparisons use the 15-character case-sensitive
 * part. Errors carry Salesforce's error codes and its "ERROR at Row:1:Column:N" message form.
 */
import { normalizeId } from './ids.ts';
import type { FieldDef, SObjectDef } from './schema.ts';
import { findField, findSObject } from './schema.ts';

/** A SOQL error as the REST API reports it (HTTP 400). */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE' | 'INVALID_QUERY_FILTER_OPERATOR',
    message: string,
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

type Literal = string | number | boolean | null | { dateTime: number };

interface Comparison {
  kind: 'cmp';
  field: FieldDef;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'IN' | 'NOT IN' | 'LIKE';
  values: Literal[];
}
type Condition = Comparison | { kind: 'and' | 'or'; items: Condition[] } | { kind: 'not'; item: Condition };

/** A parsed query, ready to run against records of `object`. */
export interface ParsedQuery {
  object: SObjectDef;
  /** Selected fields in query order; empty for COUNT(). */
  fields: FieldDef[];
  count: boolean;
  where?: Condition;
  orderBy: { field: FieldDef; desc: boolean; nullsLast: boolean }[];
  limit?: number;
  offset?: number;
}

interface Token {
  kind: 'word' | 'string' | 'number' | 'datetime' | 'op' | ',' | '(' | ')' | 'eof';
  text: string;
  /** Literal value of a string, number or datetime token. */
  value?: string | number;
  pos: number;
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(?![\dT:])/;

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql.charAt(i);
    if (/\s/.test(c)) { i++; continue; }
    const rest = soql.slice(i);
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= soql.length) throw malformed(soql, i, 'line 1:' + i + ' mismatched character \'<EOF>\' expecting \'\'\'');
        const ch = soql.charAt(j);
        if (ch === '\\') {
          const next = soql.charAt(j + 1);
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\', _: '\\_', '%': '\\%' };
          const mapped = map[next];
          if (mapped === undefined) throw malformed(soql, j, `Invalid string literal '${soql.slice(i, j + 2)}'. Illegal character sequence '\\${next}' in string literal.`);
          value += mapped;
          j += 2;
          continue;
        }
        if (ch === "'") break;
        value += ch;
        j++;
      }
      tokens.push({ kind: 'string', text: soql.slice(i, j + 1), value, pos: i });
      i = j + 1;
      continue;
    }
    const dt = DATETIME_RE.exec(rest);
    if (dt) {
      const ms = Date.parse(dt[0].replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (Number.isNaN(ms)) throw malformed(soql, i, `line 1:${i} no viable alternative at character '${dt[0]}'`);
      tokens.push({ kind: 'datetime', text: dt[0], value: ms, pos: i });
      i += dt[0].length;
      continue;
    }
    const d = DATE_RE.exec(rest);
    if (d) {
      tokens.push({ kind: 'datetime', text: d[0], value: Date.parse(`${d[0]}T00:00:00Z`), pos: i });
      i += d[0].length;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(rest);
    if (num) {
      tokens.push({ kind: 'number', text: num[0], value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    const op = /^(?:!=|<>|<=|>=|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    if (c === ',' || c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, pos: i });
      i++;
      continue;
    }
    throw malformed(soql, i, `line 1:${i} no viable alternative at character '${c}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: soql.length });
  return tokens;
}

/** Salesforce's multi-line error text: the query, a caret under the column, then the reason. */
function located(soql: string, pos: number, reason: string): string {
  const flat = soql.replace(/\r?\n/g, ' ');
  return `\n${flat}\n${' '.repeat(pos)}^\nERROR at Row:1:Column:${pos + 1}\n${reason}`;
}

function malformed(soql: string, pos: number, reason: string): SoqlError {
  return new SoqlError('MALFORMED_QUERY', located(soql, pos, reason));
}

const KEYWORDS = new Set(['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'ORDER', 'BY', 'ASC', 'DESC', 'NULLS', 'FIRST', 'LAST', 'LIMIT', 'OFFSET', 'NULL', 'TRUE', 'FALSE', 'COUNT']);

/** What the querying user can see: an object or field it cannot read is reported as if it did not exist. */
export interface SoqlVisibility {
  object(obj: SObjectDef): boolean;
  field(obj: SObjectDef, field: FieldDef): boolean;
}

const SEE_ALL: SoqlVisibility = { object: () => true, field: () => true };

/**
 * Parses `soql` for a user who sees what `visible` allows (default everything); throws
 * SoqlError with Salesforce's code and message on any problem.
 */
export function parseSoql(soql: string, visible: SoqlVisibility = SEE_ALL): ParsedQuery {
  const tokens = tokenize(soql);
  let at = 0;
  const peek = (): Token => tokens[at] ?? tokens[tokens.length - 1]!;
  const next = (): Token => { const t = peek(); at = Math.min(at + 1, tokens.length - 1); return t; };
  const isWord = (t: Token, w: string): boolean => t.kind === 'word' && t.text.toUpperCase() === w;
  const unexpected = (t: Token): SoqlError => malformed(soql, t.pos, `unexpected token: ${t.kind === 'eof' ? '<EOF>' : t.text}`);
  const expectWord = (w: string): Token => {
    const t = next();
    if (!isWord(t, w)) throw unexpected(t);
    return t;
  };

  expectWord('SELECT');
  const selected: Token[] = [];
  let count = false;
  if (isWord(peek(), 'COUNT') && tokens[at + 1]?.kind === '(') {
    next(); next();
    const close = next();
    if (close.kind !== ')') throw unexpected(close);
    count = true;
  } else {
    for (;;) {
      const t = next();
      if (t.kind !== 'word' || (KEYWORDS.has(t.text.toUpperCase()) && t.text.toUpperCase() !== 'COUNT')) throw unexpected(t);
      selected.push(t);
      if (peek().kind !== ',') break;
      next();
    }
  }
  expectWord('FROM');
  const fromTok = next();
  if (fromTok.kind !== 'word') throw unexpected(fromTok);
  const found = findSObject(fromTok.text);
  const object = found && visible.object(found) ? found : undefined;
  if (!object) {
    throw new SoqlError('INVALID_TYPE', located(soql, fromTok.pos,
      `sObject type '${fromTok.text}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`));
  }
  const fieldAt = (t: Token): FieldDef => {
    if (t.text.includes('.')) {
      const rel = t.text.split('.')[0] ?? t.text;
      throw new SoqlError('INVALID_FIELD', located(soql, t.pos, `Didn't understand relationship '${rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`));
    }
    const known = findField(object, t.text);
    const f = known && visible.field(object, known) ? known : undefined;
    if (!f) {
      throw new SoqlError('INVALID_FIELD', located(soql, t.pos,
        `No such column '${t.text}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`));
    }
    return f;
  };
  const fields: FieldDef[] = [];
  for (const t of selected) {
    const f = fieldAt(t);
    if (fields.includes(f)) throw new SoqlError('MALFORMED_QUERY', located(soql, t.pos, `duplicate field selected: ${f.name}`));
    fields.push(f);
  }

  const literal = (field: FieldDef): Literal => {
    const t = next();
    const kindOf = (): string => {
      switch (field.type) {
        case 'double': return 'double';
        case 'datetime': return 'dateTime';
        case 'boolean': return 'boolean';
        case 'id': case 'reference': return 'id';
        default: return 'string';
      }
    };
    if (isWord(t, 'NULL')) return null;
    const wanted = kindOf();
    const mismatch = (quoted: boolean): SoqlError => new SoqlError('INVALID_FIELD', located(soql, t.pos,
      `value of filter criterion for field '${field.name}' must be of type ${wanted} and should ${quoted ? '' : 'not '}be enclosed in quotes`));
    if (t.kind === 'string') {
      if (wanted === 'string') return t.value as string;
      if (wanted === 'id') {
        const id = normalizeId(t.value as string);
        if (!id) throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', located(soql, t.pos, `invalid ID field: ${String(t.value)}`));
        return id;
      }
      throw mismatch(false);
    }
    if (t.kind === 'number') {
      if (wanted === 'double') return t.value as number;
      throw mismatch(wanted === 'string' || wanted === 'id');
    }
    if (t.kind === 'datetime') {
      if (wanted === 'dateTime') return { dateTime: t.value as number };
      throw mismatch(wanted === 'string' || wanted === 'id');
    }
    if (isWord(t, 'TRUE') || isWord(t, 'FALSE')) {
      if (wanted === 'boolean') return isWord(t, 'TRUE');
      throw mismatch(wanted === 'string' || wanted === 'id');
    }
    throw unexpected(t);
  };

  const comparison = (): Condition => {
    const ft = next();
    if (ft.kind !== 'word' || KEYWORDS.has(ft.text.toUpperCase())) throw unexpected(ft);
    const field = fieldAt(ft);
    const opTok = next();
    let op: Comparison['op'];
    if (opTok.kind === 'op') op = opTok.text === '<>' ? '!=' : (opTok.text as Comparison['op']);
    else if (isWord(opTok, 'IN')) op = 'IN';
    else if (isWord(opTok, 'LIKE')) op = 'LIKE';
    else if (isWord(opTok, 'NOT') && isWord(peek(), 'IN')) { next(); op = 'NOT IN'; }
    else throw unexpected(opTok);
    if (op === 'IN' || op === 'NOT IN') {
      const open = next();
      if (open.kind !== '(') throw unexpected(open);
      const values: Literal[] = [];
      for (;;) {
        values.push(literal(field));
        const sep = next();
        if (sep.kind === ')') break;
        if (sep.kind !== ',') throw unexpected(sep);
      }
      return { kind: 'cmp', field, op, values };
    }
    if (op === 'LIKE' && !['string', 'textarea', 'picklist', 'url'].includes(field.type)) {
      throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', located(soql, opTok.pos, `invalid operator on ${field.type} field: ${field.name}`));
    }
    if (field.type === 'textarea' && op !== 'LIKE') {
      throw new SoqlError('INVALID_FIELD', located(soql, ft.pos, `field '${field.name}' can not be filtered in a query call`));
    }
    const value = literal(field);
    if (value === null && op !== '=' && op !== '!=') throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', located(soql, opTok.pos, `invalid operator on null value: ${op}`));
    return { kind: 'cmp', field, op, values: [value] };
  };

  const primary = (): Condition => {
    if (isWord(peek(), 'NOT')) { next(); return { kind: 'not', item: primary() }; }
    if (peek().kind === '(') {
      next();
      const inner = orAnd();
      const close = next();
      if (close.kind !== ')') throw unexpected(close);
      return inner;
    }
    return comparison();
  };

  // AND and OR may not be mixed at one level without parentheses (Salesforce rejects it).
  const orAnd = (): Condition => {
    const first = primary();
    const joinTok = peek();
    const join = isWord(joinTok, 'AND') ? 'and' : isWord(joinTok, 'OR') ? 'or' : undefined;
    if (!join) return first;
    const items = [first];
    while (isWord(peek(), join.toUpperCase())) {
      next();
      items.push(primary());
    }
    const other = peek();
    if (isWord(other, 'AND') || isWord(other, 'OR')) throw unexpected(other);
    return { kind: join, items };
  };

  const query: ParsedQuery = { object, fields, count, orderBy: [] };
  if (isWord(peek(), 'WHERE')) {
    next();
    query.where = orAnd();
  }
  if (isWord(peek(), 'ORDER')) {
    next();
    expectWord('BY');
    for (;;) {
      const ft = next();
      if (ft.kind !== 'word') throw unexpected(ft);
      const field = fieldAt(ft);
      let desc = false;
      if (isWord(peek(), 'ASC')) next();
      else if (isWord(peek(), 'DESC')) { next(); desc = true; }
      let nullsLast = desc;
      if (isWord(peek(), 'NULLS')) {
        next();
        const which = next();
        if (isWord(which, 'FIRST')) nullsLast = false;
        else if (isWord(which, 'LAST')) nullsLast = true;
        else throw unexpected(which);
      }
      query.orderBy.push({ field, desc, nullsLast });
      if (peek().kind !== ',') break;
      next();
    }
  }
  for (const clause of ['LIMIT', 'OFFSET'] as const) {
    if (isWord(peek(), clause)) {
      next();
      const n = next();
      if (n.kind !== 'number' || !Number.isInteger(n.value) || (n.value as number) < 0) throw unexpected(n);
      if (clause === 'LIMIT') query.limit = n.value as number;
      else {
        if ((n.value as number) > 2000) throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', 'Maximum SOQL offset allowed is 2000');
        query.offset = n.value as number;
      }
    }
  }
  const end = peek();
  if (end.kind !== 'eof') throw unexpected(end);
  return query;
}

/** A stored record: field API name → JSON value (datetimes as Salesforce strings). */
export type StoredRecord = Record<string, unknown>;

function comparable(field: FieldDef, v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case 'datetime': return Date.parse(String(v).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    case 'double': return Number(v);
    case 'boolean': return Boolean(v);
    case 'id': case 'reference': return String(v).slice(0, 15);
    default: return String(v).toLowerCase();
  }
}

function literalComparable(field: FieldDef, v: Literal): string | number | boolean | null {
  if (v === null) return null;
  if (typeof v === 'object') return v.dateTime;
  if (field.type === 'id' || field.type === 'reference') return String(v).slice(0, 15);
  if (typeof v === 'string') return v.toLowerCase();
  return v;
}

function likeRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\' && (pattern.charAt(i + 1) === '%' || pattern.charAt(i + 1) === '_')) { re += `\\${pattern.charAt(i + 1)}`; i++; }
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function matches(cond: Condition, rec: StoredRecord): boolean {
  switch (cond.kind) {
    case 'and': return cond.items.every((c) => matches(c, rec));
    case 'or': return cond.items.some((c) => matches(c, rec));
    case 'not': return !matches(cond.item, rec);
    case 'cmp': {
      const left = comparable(cond.field, rec[cond.field.name]);
      const rights = cond.values.map((v) => literalComparable(cond.field, v));
      switch (cond.op) {
        case '=': return left === rights[0];
        case '!=': return left !== rights[0];
        case 'IN': return left !== null && rights.includes(left);
        case 'NOT IN': return left === null || !rights.includes(left);
        case 'LIKE': return typeof left === 'string' && likeRegex(String(cond.values[0])).test(left);
        default: {
          const right = rights[0];
          if (left === null || right === null || right === undefined) return false;
          if (cond.op === '<') return left < right;
          if (cond.op === '<=') return left <= right;
          if (cond.op === '>') return left > right;
          return left >= right;
        }
      }
    }
  }
}

/**
 * Runs `q` over `records` (all records of q.object): filters, sorts, applies OFFSET and
 * LIMIT. Returns the matching records (whole) and the total count before LIMIT/OFFSET would
 * matter for COUNT().
 */
export function runQuery(q: ParsedQuery, records: Iterable<StoredRecord>): StoredRecord[] {
  let rows = [...records];
  if (q.where) {
    const where = q.where;
    rows = rows.filter((r) => matches(where, r));
  }
  if (q.orderBy.length > 0) {
    rows.sort((a, b) => {
      for (const o of q.orderBy) {
        const x = comparable(o.field, a[o.field.name]);
        const y = comparable(o.field, b[o.field.name]);
        if (x === y) continue;
        if (x === null) return o.nullsLast ? 1 : -1;
        if (y === null) return o.nullsLast ? -1 : 1;
        const c = x < y ? -1 : 1;
        return o.desc ? -c : c;
      }
      return 0;
    });
  }
  const start = q.offset ?? 0;
  return rows.slice(start, q.limit === undefined ? undefined : start + q.limit);
}
