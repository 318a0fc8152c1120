import { describe, expect, it } from 'vitest';
import { BatchCopies } from '../../shared/route/batch-copies.js';

describe('BatchCopies: copies of one event in one queued batch', () => {
  it('gives a later copy only the queues no earlier copy claimed, and a copy with none left nothing', () => {
    const copies = new BatchCopies('m1');
    expect(copies.claim('e1', ['a', 'b'])).toEqual(['a', 'b']);
    expect(copies.claim('e1', ['b', 'c'])).toEqual(['c']);
    expect(copies.claim('e1', ['a', 'c'])).toEqual([]);
  });

  it('keeps the claims of different events apart', () => {
    const copies = new BatchCopies('m1');
    expect(copies.claim('e1', ['a'])).toEqual(['a']);
    expect(copies.claim('e2', ['a'])).toEqual(['a']);
  });

  it("names one de-duplication owner per event of the message, whichever copy asks, another message's another", () => {
    expect(new BatchCopies('m1').owner('e1')).toBe('m1@e1');
    expect(new BatchCopies('m1').owner('e1')).not.toBe(new BatchCopies('m1').owner('e2'));
    expect(new BatchCopies('m2').owner('e1')).not.toBe(new BatchCopies('m1').owner('e1'));
  });
});
