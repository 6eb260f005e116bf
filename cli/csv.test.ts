import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ByteInterner,
  CsvFatalError,
  CsvScanner,
  FingerprintSet,
  type CsvScannerOptions,
} from './csv';

const dir = mkdtempSync(join(tmpdir(), 'laurel-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `f${fileCounter++}.csv`);
  writeFileSync(path, content);
  return path;
}

interface Scanned {
  line: number;
  fields: string[];
  error: string | null;
}

function scan(content: string | Buffer, options: CsvScannerOptions = {}): Scanned[] {
  const scanner = new CsvScanner(file(content), options);
  const records: Scanned[] = [];
  try {
    while (scanner.next())
      records.push({ line: scanner.line, fields: scanner.fields(), error: scanner.error });
  } finally {
    scanner.close();
  }
  return records;
}

const CHUNKS = [1, 2, 3, 5, 7, 64, 1 << 20];

describe('CsvScanner', () => {
  it.each(CHUNKS)('reads LF, CRLF, quotes and embedded line breaks (chunk %i)', (chunkSize) => {
    const records = scan('a,b,c\r\n1,"x,y",3\n"multi\nline","say ""hi""",\r\n"",end,"\r\n"\n', {
      chunkSize,
    });
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'], error: null },
      { line: 2, fields: ['1', 'x,y', '3'], error: null },
      { line: 3, fields: ['multi\nline', 'say "hi"', ''], error: null },
      { line: 5, fields: ['', 'end', '\r\n'], error: null },
    ]);
  });

  it.each(CHUNKS)(
    'skips a UTF-8 BOM and blank lines; the last line may lack a line end (chunk %i)',
    (chunkSize) => {
      const records = scan(
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('h1,h2\n\n1,é\r\n\r\n2,"ü"')]),
        {
          chunkSize,
        },
      );
      expect(records).toEqual([
        { line: 1, fields: ['h1', 'h2'], error: null },
        { line: 3, fields: ['1', 'é'], error: null },
        { line: 5, fields: ['2', 'ü'], error: null },
      ]);
    },
  );

  it('reads an empty file as no records', () => {
    expect(scan('')).toEqual([]);
    expect(scan('\n\n')).toEqual([]);
  });

  it.each(CHUNKS)('flags malformed records but keeps going (chunk %i)', (chunkSize) => {
    const records = scan('a,b\n5" screen,x\n"ok"junk,y\ngood,1\n"never closed,2\nlast,3\n', {
      chunkSize,
    });
    expect(records.map((r) => [r.line, r.error])).toEqual([
      [1, null],
      [2, 'unexpected " inside an unquoted field (quote the whole field)'],
      [3, 'unexpected text after a closing quote'],
      [4, null],
      [5, 'unterminated quoted field (a " is never closed)'],
    ]);
    expect(records[3]!.fields).toEqual(['good', '1']);
  });

  it('stops with a fatal error when a record outgrows the limit', () => {
    const path = file(`a,b\n"${'x'.repeat(5000)}`);
    const scanner = new CsvScanner(path, { chunkSize: 64, maxRecordBytes: 1024 });
    try {
      expect(scanner.next()).toBe(true);
      expect(() => scanner.next()).toThrow(CsvFatalError);
    } finally {
      scanner.close();
    }
  });

  it('exposes fields as byte ranges into its buffer', () => {
    const scanner = new CsvScanner(file('id,amount\nT1,120.10\n'));
    try {
      scanner.next();
      scanner.next();
      expect(scanner.count).toBe(2);
      expect(scanner.buf.toString('latin1', scanner.starts[1]!, scanner.ends[1]!)).toBe('120.10');
    } finally {
      scanner.close();
    }
  });

  it('reads back any table written per RFC 4180, at any chunk size, with the right line numbers', () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('', ',', '"', '""', '\n', '\r\n', 'a"b', ' x ', 'é', '😀'),
    );
    const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.array(fc.array(cell, { minLength: width, maxLength: width }), {
        minLength: 1,
        maxLength: 12,
      }),
    );
    fc.assert(
      fc.property(
        table,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(...CHUNKS),
        (rows, crlf, quoteAll, trailingNewline, chunkSize) => {
          const eol = crlf ? '\r\n' : '\n';
          const encode = (value: string) =>
            quoteAll || /[",\r\n]/.test(value) || value === ''
              ? `"${value.replaceAll('"', '""')}"`
              : value;
          const lines = rows.map((r) => r.map(encode).join(','));
          const content = lines.join(eol) + (trailingNewline ? eol : '');
          const expectedLines: number[] = [];
          let line = 1;
          for (const l of lines) {
            expectedLines.push(line);
            line += l.split('\n').length;
          }
          const records = scan(content, { chunkSize });
          expect(records.map((r) => r.fields)).toEqual(rows);
          expect(records.map((r) => r.line)).toEqual(expectedLines);
          expect(records.every((r) => r.error === null)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ByteInterner', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  it('gives dense indexes in order of first appearance', () => {
    const interner = new ByteInterner(4);
    const ids = ['T1', 'T2', 'T1', '', 'T3', 'T2'].map((id) => {
      const b = bytes(id);
      return interner.intern(b, 0, b.length);
    });
    expect(ids).toEqual([0, 1, 0, 2, 3, 1]);
    expect(interner.size).toBe(4);
  });

  it('compares bytes, not just hashes, through growth and rehashing', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 3000 }), (keys) => {
        const interner = new ByteInterner(2);
        const reference = new Map<string, number>();
        for (const key of keys) {
          const buf = bytes(`..${key}..`); // keys live mid-buffer, like CSV fields
          if (!reference.has(key)) reference.set(key, reference.size);
          expect(interner.intern(buf, 2, buf.length - 2)).toBe(reference.get(key));
        }
        expect(interner.size).toBe(reference.size);
      }),
      { numRuns: 40 },
    );
  });
});

describe('FingerprintSet', () => {
  const fingerprint = (text: string) => {
    const b = Buffer.from(`<${text}>`, 'utf8');
    return FingerprintSet.of(b, 1, b.length - 1);
  };

  it('reports repeats and gives equal bytes equal fingerprints wherever they sit', () => {
    const set = new FingerprintSet();
    expect(set.add(fingerprint('T1'))).toBe(true);
    expect(set.add(fingerprint('T2'))).toBe(true);
    expect(set.add(fingerprint('T1'))).toBe(false);
    expect(fingerprint('')).toBeGreaterThan(0);
    expect(Number.isSafeInteger(fingerprint('any id'))).toBe(true);
  });

  it('keeps 200,000 distinct sequential ids apart through growth', () => {
    const set = new FingerprintSet();
    let repeats = 0;
    for (let i = 0; i < 200_000; i++)
      if (!set.add(fingerprint(`T${String(i).padStart(7, '0')}`))) repeats++;
    expect(repeats).toBe(0);
    expect(set.size).toBe(200_000);
  });
});
