/**
 * Word matching for the style chooser: whole words, case- and punctuation-
 * insensitive, with the common English endings ("jazzy", "drums", "rocking"),
 * and phrases matched longest first so "electric piano" is not also "piano".
 */

/** Lower case, words separated by one space, clauses (commas, full stops…) by " ; " so no phrase spans two. */
export function normalise(text: string): string {
  const clauses = text
    .toLowerCase()
    .split(/[,.;:!?\n\r/|()[\]{}]+/)
    .map((clause) =>
      clause
        .replace(/[^a-z0-9&]+/g, ' ')
        .trim()
        .split(' ')
        .filter(Boolean)
        .join(' '),
    )
    .filter(Boolean);
  return ` ${clauses.join(' ; ')} `;
}

const ENDINGS = '(?:s|es|y|ey|ish|ic|al|ing|er|ers|ed|d)?';
const patterns = new Map<string, RegExp>();

function patternOf(phrase: string): RegExp {
  let pattern = patterns.get(phrase);
  if (!pattern) {
    const escaped = normalise(phrase)
      .trim()
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(` ${escaped}${ENDINGS}(?= )`, 'g');
    patterns.set(phrase, pattern);
  }
  return pattern;
}

export interface PhraseHit {
  /** The phrase as listed in the table. */
  phrase: string;
  /** Offset of the first occurrence in the normalised text (earlier mentions win ties). */
  at: number;
}

/** Whether a phrase occurs, and where first. */
export function find(text: string, phrase: string): PhraseHit | null {
  const pattern = patternOf(phrase);
  pattern.lastIndex = 0;
  const match = pattern.exec(text);
  return match ? { phrase, at: match.index } : null;
}

/**
 * Finds every listed phrase, longest first, blanking each match so a shorter
 * phrase inside it cannot match again. Returns the hits per owner (the table
 * row a phrase belongs to) and the text with the matches blanked.
 */
export function consume<T>(text: string, owners: readonly { owner: T; phrases: readonly string[] }[]): { hits: Map<T, PhraseHit[]>; rest: string } {
  const all = owners.flatMap(({ owner, phrases }) => phrases.map((phrase) => ({ owner, phrase })));
  // Longest first; equal lengths keep table order, so the result never depends on sort stability quirks.
  all.sort((a, b) => normalise(b.phrase).length - normalise(a.phrase).length);
  const hits = new Map<T, PhraseHit[]>();
  let rest = text;
  for (const { owner, phrase } of all) {
    const pattern = patternOf(phrase);
    pattern.lastIndex = 0;
    let first: number | null = null;
    rest = rest.replace(pattern, (match, offset: number) => {
      first ??= offset;
      return ` ${' '.repeat(match.length - 1)}`;
    });
    if (first !== null) {
      const list = hits.get(owner) ?? [];
      list.push({ phrase, at: first });
      hits.set(owner, list);
    }
  }
  return { hits, rest };
}

/**
 * Splits "no drums, with piano" into what is asked for ("with piano") and
 * what is refused ("drums"): a negator covers up to three following words of
 * its clause, stopping at words like "and" or "with".
 */
export function splitNegations(text: string, negators: readonly string[], stops: readonly string[]): { positive: string; negative: string } {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const clause of normalise(text).split(' ; ')) {
    const words = clause.trim().split(' ').filter(Boolean);
    const kept: string[] = [];
    for (let i = 0; i < words.length; i++) {
      if (!negators.includes(words[i]!)) {
        kept.push(words[i]!);
        continue;
      }
      const refused: string[] = [];
      let j = i + 1;
      for (; j < words.length && refused.length < 3 && !stops.includes(words[j]!); j++) refused.push(words[j]!);
      if (refused.length) negative.push(refused.join(' '));
      i = j - 1;
    }
    if (kept.length) positive.push(kept.join(' '));
  }
  return { positive: positive.join(', '), negative: negative.join(', ') };
}
