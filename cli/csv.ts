/**
 * A streaming RFC 4180 CSV scanner over bytes: reads a file through one reused Buffer (fs.readSync),
 * never holding more than the largest record plus one chunk. Fields are exposed as byte ranges into
 * the buffer so hot loops can parse numbers and dates without building strings.
 *
 * Accepted: `,` separator; LF or CRLF line ends; a UTF-8 BOM; quoted fields with `""` escapes,
 * commas and line breaks inside; a last record without a line end. Blank lines are skipped.
 * Malformed records (a stray `"` in an unquoted field, text after a closing quote, an unterminated
 * quote) are still delivered with `error` set, so the caller can report them by line and go on.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface CsvScannerOptions {
  /** Bytes per read. Default 1 MiB; tests use tiny chunks to exercise every boundary. */
  chunkSize?: number;
  /** Longest record accepted; beyond it the scanner throws CsvFatalError. Default 64 MiB. */
  maxRecordBytes?: number;
}

/** A problem that stops scanning (a record too long to hold — almost always an unclosed quote). */
export class CsvFatalError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvFatalError';
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const NEED_MORE = -1;

export class CsvScanner {
  /** Holds the current record; field ranges index into it and are valid until the next `next()`. */
  buf: Buffer;
  /** Field i of the current record is `buf[starts[i]..ends[i])`, quotes removed and `""` unescaped. */
  starts: Int32Array;
  ends: Int32Array;
  /** Number of fields in the current record. */
  count = 0;
  /** 1-based physical line on which the current record starts. */
  line = 0;
  /** Why the current record is malformed, or null. */
  error: string | null = null;

  /** Size of the file when opened, in bytes. */
  readonly fileSize: number;
  private readonly fd: number;
  private readonly maxRecordBytes: number;
  /** File offset of buf[0]. */
  private base = 0;
  private view: Buffer;
  private pos = 0;
  private len = 0;
  private eof = false;
  private nextLine = 1;
  /** Position of the next `"` at or after pos, or len when none is buffered (-1 = unknown). */
  private quotePos = -1;
  private started = false;
  private closed = false;

  constructor(path: string, options: CsvScannerOptions = {}) {
    this.fd = openSync(path, 'r');
    try {
      this.fileSize = fstatSync(this.fd).size;
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
    this.buf = Buffer.allocUnsafe(Math.max(1, options.chunkSize ?? 1 << 20));
    this.view = this.buf.subarray(0, 0);
    this.maxRecordBytes = options.maxRecordBytes ?? 64 << 20;
    this.starts = new Int32Array(64);
    this.ends = new Int32Array(64);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  /** Bytes of the file consumed so far (through the current record). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The current record's field `i` as a UTF-8 string. */
  field(i: number): string {
    return this.buf.toString('utf8', this.starts[i]!, this.ends[i]!);
  }

  /** All fields of the current record as strings (for headers and error paths). */
  fields(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.field(i));
    return out;
  }

  /** Advances to the next record; false at end of file. */
  next(): boolean {
    if (!this.started) this.start();
    for (;;) {
      const pos = this.pos;
      if (pos >= this.len) {
        if (this.eof) return false;
        this.refill();
        continue;
      }
      let nl = this.view.indexOf(LF, pos);
      if (nl === -1 && !this.eof) {
        this.refill();
        continue;
      }
      const lineEnd = nl === -1 ? this.len : nl;
      if (this.quotePos < pos) {
        const q = this.view.indexOf(QUOTE, pos);
        this.quotePos = q === -1 ? this.len : q;
      }
      this.error = null;
      if (this.quotePos >= lineEnd) {
        // Fast path: a line without quotes is one record; split on commas.
        let end = lineEnd;
        if (end > pos && this.buf[end - 1] === CR) end--;
        this.line = this.nextLine++;
        this.pos = nl === -1 ? this.len : nl + 1;
        this.splitUnquoted(pos, end);
        if (this.count === 1 && end === pos) continue; // blank line
        return true;
      }
      nl = this.parseRecord(pos);
      if (nl === NEED_MORE) {
        this.refill();
        continue;
      }
      return true;
    }
  }

  private start(): void {
    this.started = true;
    while (this.len < 3 && !this.eof) this.refill();
    const b = this.buf;
    if (this.len >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.pos = 3;
  }

  private ensureFieldCapacity(n: number): void {
    if (n < this.starts.length) return;
    const starts = new Int32Array(this.starts.length * 2);
    const ends = new Int32Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }

  private splitUnquoted(start: number, end: number): void {
    const buf = this.buf;
    let starts = this.starts;
    let ends = this.ends;
    let count = 0;
    let fieldStart = start;
    for (let i = start; i < end; i++) {
      if (buf[i] === COMMA) {
        if (count + 1 >= starts.length) {
          this.ensureFieldCapacity(count + 1);
          starts = this.starts;
          ends = this.ends;
        }
        starts[count] = fieldStart;
        ends[count] = i;
        count++;
        fieldStart = i + 1;
      }
    }
    starts[count] = fieldStart;
    ends[count] = end;
    this.count = count + 1;
  }

  /**
   * Parses one record containing quotes starting at `start`. Returns NEED_MORE when the buffered
   * bytes end before the record does (the caller refills and retries from the same start);
   * otherwise consumes the record and returns its end position.
   */
  private parseRecord(start: number): number {
    const buf = this.buf;
    const limit = this.len;
    const eof = this.eof;
    let error: string | null = null;
    let count = 0;
    let i = start;
    let escapedMask: number[] | null = null; // field indexes holding "" escapes
    for (;;) {
      this.ensureFieldCapacity(count + 1);
      let fieldStart: number;
      let fieldEnd: number;
      if (i < limit && buf[i] === QUOTE) {
        fieldStart = i + 1;
        let j = fieldStart;
        let escaped = false;
        for (;;) {
          const q = this.view.indexOf(QUOTE, j);
          if (q === -1) {
            if (!eof) return NEED_MORE;
            // Unterminated: the field runs to the end of the file.
            error ??= 'unterminated quoted field (a " is never closed)';
            fieldEnd = limit;
            i = limit;
            break;
          }
          if (q + 1 >= limit && !eof) return NEED_MORE; // can't tell `"` from `""` yet
          if (buf[q + 1] === QUOTE && q + 1 < limit) {
            escaped = true;
            j = q + 2;
            continue;
          }
          fieldEnd = q;
          i = q + 1;
          break;
        }
        if (escaped) (escapedMask ??= []).push(count);
        // After the closing quote: a separator, a line end, or the end of the file.
        // (Bytes at or past `limit` are stale, so every look-ahead checks the limit first.)
        if (i < limit) {
          const c = buf[i];
          let stray = c !== COMMA && c !== LF && c !== CR;
          if (c === CR && i + 1 < limit && buf[i + 1] !== LF) stray = true;
          if (c === CR && i + 1 >= limit && !eof) return NEED_MORE;
          if (stray) {
            error ??= 'unexpected text after a closing quote';
            while (i < limit && buf[i] !== COMMA && buf[i] !== LF) i++;
            if (i === limit && !eof) return NEED_MORE;
          }
        }
      } else {
        fieldStart = i;
        while (i < limit && buf[i] !== COMMA && buf[i] !== LF) {
          if (buf[i] === QUOTE)
            error ??= 'unexpected " inside an unquoted field (quote the whole field)';
          i++;
        }
        if (i === limit && !eof) return NEED_MORE;
        fieldEnd = i < limit && buf[i] === LF && i > fieldStart && buf[i - 1] === CR ? i - 1 : i;
        if (i === limit && fieldEnd > fieldStart && buf[fieldEnd - 1] === CR) fieldEnd--;
      }
      this.starts[count] = fieldStart;
      this.ends[count] = fieldEnd;
      count++;
      if (i < limit && buf[i] === CR) i++; // CR of a CRLF after a quoted field
      if (i >= limit || buf[i] === LF) break;
      i++; // comma
    }
    const recordEnd = i < limit ? i + 1 : limit;

    // The record is complete: now it is safe to rewrite escaped fields in place.
    if (escapedMask) {
      for (const f of escapedMask) {
        let w = this.starts[f]!;
        const end = this.ends[f]!;
        for (let r = w; r < end; r++) {
          buf[w++] = buf[r]!;
          if (buf[r] === QUOTE) r++;
        }
        this.ends[f] = w;
      }
    }
    this.count = count;
    this.error = error;
    this.line = this.nextLine;
    let lines = 0;
    for (let k = start; k < recordEnd; k++) if (buf[k] === LF) lines++;
    // A record that ends at EOF without a line break still occupies its last line.
    if (recordEnd === limit && (recordEnd === start || buf[recordEnd - 1] !== LF)) lines++;
    this.nextLine += lines;
    this.pos = recordEnd;
    return recordEnd;
  }

  private refill(): void {
    if (this.eof) return;
    if (this.pos > 0) {
      this.base += this.pos;
      this.buf.copy(this.buf, 0, this.pos, this.len);
      this.len -= this.pos;
      this.pos = 0;
    }
    if (this.len === this.buf.length) {
      if (this.buf.length >= this.maxRecordBytes) {
        throw new CsvFatalError(
          this.nextLine,
          `record starting on line ${this.nextLine} is longer than ${this.maxRecordBytes} bytes (an unclosed quote?)`,
        );
      }
      const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.maxRecordBytes));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, null);
    if (n === 0) this.eof = true;
    this.len += n;
    this.view = this.buf.subarray(0, this.len);
    this.quotePos = -1;
  }
}

/**
 * An exact set of byte strings with dense indexes (0, 1, 2 … in order of first appearance), keyed
 * by the bytes themselves, so a hot loop can de-duplicate a million ids without creating a million
 * JS strings (a Set<string> of 1M ids costs ~75 MB and ~0.4 s; this ~30 MB and a fraction).
 * Open addressing with linear probing on a 32-bit hash; equal hashes are confirmed byte by byte.
 * Hash and entry share one array (and offset and length another) so a probe touches one cache line.
 */
export class ByteInterner {
  /** Number of distinct byte strings seen. */
  size = 0;
  private mask: number;
  /** Per slot: [hash, entry index + 1] (0 = empty). */
  private slots: Int32Array;
  /** Per entry: [arena offset, length]. */
  private entries: Uint32Array;
  private arena: Uint8Array;
  private arenaUsed = 0;

  constructor(initialCapacity = 1024) {
    let slots = 16;
    while (slots < initialCapacity * 2) slots *= 2;
    this.mask = slots - 1;
    this.slots = new Int32Array(slots * 2);
    this.entries = new Uint32Array(slots);
    this.arena = new Uint8Array(slots * 8);
  }

  /**
   * The index of `buf[start..end)`: an existing entry's, or a new one (then the result equals the
   * previous `size`, which is how callers tell "seen before" from "new").
   */
  intern(buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let h = 0x811c9dc5 | 0; // FNV-1a …
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 16; // … then murmur3's finaliser so the low bits used for slots are well mixed
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const mask = this.mask;
    const slots = this.slots;
    let slot = h & mask;
    for (;;) {
      const entry = slots[2 * slot + 1]!;
      if (entry === 0) break;
      if (slots[2 * slot] === h && this.entries[2 * entry - 1] === length) {
        const offset = this.entries[2 * entry - 2]!;
        const arena = this.arena;
        let i = 0;
        while (i < length && arena[offset + i] === buf[start + i]) i++;
        if (i === length) return entry - 1;
      }
      slot = (slot + 1) & mask;
    }
    const index = this.size++;
    if (this.arenaUsed + length > this.arena.length) this.growArena(length);
    if (2 * index + 1 >= this.entries.length) this.growEntries();
    const arena = this.arena;
    const at = this.arenaUsed;
    for (let i = 0; i < length; i++) arena[at + i] = buf[start + i]!;
    this.entries[2 * index] = at;
    this.entries[2 * index + 1] = length;
    this.arenaUsed = at + length;
    slots[2 * slot] = h;
    slots[2 * slot + 1] = index + 1;
    if (this.size * 2 > mask) this.rehash();
    return index;
  }

  private growArena(extra: number): void {
    let capacity = this.arena.length * 2;
    while (capacity < this.arenaUsed + extra) capacity *= 2;
    if (capacity > 0xffffffff) throw new RangeError('ByteInterner: more than 4 GiB of keys');
    const arena = new Uint8Array(capacity);
    arena.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = arena;
  }

  private growEntries(): void {
    const entries = new Uint32Array(this.entries.length * 2);
    entries.set(this.entries);
    this.entries = entries;
  }

  private rehash(): void {
    const old = this.slots;
    const mask = this.mask * 2 + 1;
    const slots = new Int32Array((mask + 1) * 2);
    for (let s = 0; s < old.length; s += 2) {
      const entry = old[s + 1]!;
      if (entry === 0) continue;
      const h = old[s]!;
      let slot = h & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = h;
      slots[2 * slot + 1] = entry;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * A set of 52-bit fingerprints of byte strings: one 8-byte slot per key, no key storage, so a
 * million transaction ids cost 16 MB and one memory access each. A repeated fingerprint means
 * "probably the same key" — callers confirm candidates exactly (the reader re-reads the ids on its
 * error path), so a fingerprint collision can never turn into a wrong answer.
 */
export class FingerprintSet {
  size = 0;
  private mask = (1 << 16) - 1;
  private table = new Float64Array(1 << 16);

  /** Fingerprint of `buf[start..end)`: 1 … 2^52, never 0 (0 marks an empty slot). */
  static of(buf: Uint8Array, start: number, end: number): number {
    let h1 = 0x811c9dc5 | 0; // FNV-1a
    let h2 = (0x9747b28c ^ (end - start)) | 0; // an independent multiplicative hash
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 ^= h1 >>> 16; // murmur3's finaliser: the low bits of h1 pick the slot
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0xc2b2ae35);
    h1 ^= h1 >>> 16;
    return (h1 >>> 0) * 1048576 + (h2 >>> 12) + 1;
  }

  /**
   * Makes room for `count` fingerprints in one step (capped at 4M slots = 32 MB), instead of
   * doubling repeatedly as a large file streams in.
   */
  reserve(count: number): void {
    const wanted = Math.min(count, 1 << 21);
    let mask = this.mask;
    while (wanted * 2 > mask) mask = mask * 2 + 1;
    // One table of the final size: doubling step by step would allocate (and page in) as much
    // again in tables that are garbage at once, and keep them in RSS until a collection.
    if (mask !== this.mask) this.grow(mask);
  }

  /** Adds a fingerprint; false when it was already present. */
  add(fingerprint: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let slot = Math.floor((fingerprint - 1) / 1048576) & mask;
    for (;;) {
      const value = table[slot]!;
      if (value === 0) break;
      if (value === fingerprint) return false;
      slot = (slot + 1) & mask;
    }
    table[slot] = fingerprint;
    if (++this.size * 2 > mask) this.grow();
    return true;
  }

  private grow(mask = this.mask * 2 + 1): void {
    const old = this.table;
    const table = new Float64Array(mask + 1);
    for (let i = 0; i < old.length; i++) {
      const value = old[i]!;
      if (value === 0) continue;
      let slot = Math.floor((value - 1) / 1048576) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = value;
    }
    this.table = table;
    this.mask = mask;
  }
}
