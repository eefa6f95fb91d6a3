/**
 * The form of a song from its bars: where a section starts (the chords of a
 * phrase stop repeating those before it, or the level jumps), which sections
 * are the same material coming back (the same chords), and how much energy
 * each carries (its level against the loudest section). Bars are grouped in
 * phrases of four counted from the first bar, the length almost all popular
 * music builds its sections from; a song whose sections start off that grid is
 * read at phrase resolution.
 */

export type FormName = 'intro' | 'verse' | 'chorus' | 'bridge' | 'outro';

export interface FormSection {
  name: FormName;
  /** Sections with the same letter have the same chords (A, B, C … in order of first appearance). */
  label: string;
  firstBar: number;
  bars: number;
  /** Mean level in dB against the song's average. */
  levelDb: number;
  /** 0..1: how loud the section is against the loudest one (1). */
  energy: number;
}

export interface FormBar {
  /** The bar's chord symbol, or null for a silent bar. */
  chord: string | null;
  /** Level in dB (against any fixed reference; −Infinity for silence). */
  levelDb: number;
}

export interface FormOptions {
  /** Bars per phrase (default 4; 2 for songs under 16 bars). */
  phraseBars?: number;
}

/** Share of a phrase's bars that must keep their chord for it to continue the section (or repeat one). */
const SAME_CHORDS = 0.75;
/** A level change larger than this between phrases starts a new section, chords or not. */
const LEVEL_STEP_DB = 2.5;
/**
 * dB below the loudest section at which the energy reaches its floor. Level is
 * a coarse reading of energy: on songs rendered by reprise (planned energies
 * 0.4 intro, 0.65 verse, 1 chorus, 0.75 bridge, 0.5 outro), intros measured
 * 7–16 dB under the loudest section, bridges 2–3 dB, outros 3–4 dB, but verses
 * only 0.3–1 dB under their choruses: the order comes through, the verse's
 * lighter arrangement mostly does not.
 */
const ENERGY_RANGE_DB = 8;
const MIN_ENERGY = 0.3;

/** The mean level of bars in dB, averaged as power; silent bars count as silence. */
function meanDb(levels: readonly number[]): number {
  const power = levels.reduce((sum, db) => sum + (Number.isFinite(db) ? 10 ** (db / 10) : 0), 0) / Math.max(1, levels.length);
  return power > 0 ? 10 * Math.log10(power) : Number.NEGATIVE_INFINITY;
}

/** Share of positions where two chord runs agree (a silent bar agrees with nothing). */
function chordAgreement(a: readonly (string | null)[], b: readonly (string | null)[]): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] !== null && a[i] === b[i]) same++;
  return same / n;
}

interface Run {
  firstBar: number;
  bars: number;
  /** Chords of its first phrase: what a later section is compared with. */
  head: (string | null)[];
  levels: number[];
}

export function findForm(bars: readonly FormBar[], options: FormOptions = {}): FormSection[] {
  if (bars.length === 0) return [];
  const phrase = options.phraseBars ?? (bars.length < 16 ? 2 : 4);
  const runs: Run[] = [];
  for (let first = 0; first < bars.length; first += phrase) {
    const slice = bars.slice(first, first + phrase);
    const chords = slice.map((b) => b.chord);
    const levels = slice.map((b) => b.levelDb);
    const current = runs[runs.length - 1];
    if (current) {
      const previous = bars.slice(first - phrase, first).map((b) => b.chord);
      // A short last phrase (the song ends mid-phrase) joins what it follows: it is too short to be a section.
      const continues =
        slice.length < phrase ||
        (Math.max(chordAgreement(chords, previous), chordAgreement(chords, current.head)) >= SAME_CHORDS &&
          Math.abs(meanDb(levels) - meanDb(current.levels.slice(-phrase))) <= LEVEL_STEP_DB);
      if (continues) {
        current.bars += slice.length;
        current.levels.push(...levels);
        continue;
      }
    }
    runs.push({ firstBar: first, bars: slice.length, head: chords, levels: [...levels] });
  }
  // Same chords, same letter: a chorus coming back is recognised as the chorus.
  const labels: string[] = [];
  const heads: (string | null)[][] = [];
  for (const run of runs) {
    let index = heads.findIndex((head) => chordAgreement(run.head, head) >= SAME_CHORDS);
    if (index < 0) {
      index = heads.length;
      heads.push(run.head);
    }
    labels.push(String.fromCharCode(65 + (index % 26)));
  }
  const levels = runs.map((run) => meanDb(run.levels));
  const loudest = Math.max(...levels.filter(Number.isFinite), Number.NEGATIVE_INFINITY);
  const energies = levels.map((db) =>
    Number.isFinite(db) && Number.isFinite(loudest)
      ? Math.round(Math.max(MIN_ENERGY, Math.min(1, 1 + (db - loudest) / ENERGY_RANGE_DB)) * 100) / 100
      : MIN_ENERGY,
  );
  const names = nameSections(labels, energies);
  return runs.map((run, i) => ({ name: names[i]!, label: labels[i]!, firstBar: run.firstBar, bars: run.bars, levelDb: levels[i]!, energy: energies[i]! }));
}

/**
 * Names from the form's shape: the chorus is the loudest material that comes
 * back (the loudest of all where nothing does), every return of it too; a
 * quieter first section is the intro and a quieter last one the outro;
 * material heard once, after the chorus has been, is a bridge; the rest are
 * verses.
 */
function nameSections(labels: readonly string[], energies: readonly number[]): FormName[] {
  const n = labels.length;
  const count = (label: string) => labels.filter((l) => l === label).length;
  const meanEnergy = (label: string) => labels.reduce((s, l, i) => s + (l === label ? energies[i]! : 0), 0) / count(label);
  const distinct = [...new Set(labels)];
  const recurring = distinct.filter((label) => count(label) > 1);
  const candidates = recurring.length > 0 ? recurring : distinct;
  const chorus = n > 1 ? candidates.reduce((best, label) => (meanEnergy(label) > meanEnergy(best) ? label : best)) : null;
  const firstChorus = labels.indexOf(chorus ?? '');
  return labels.map((label, i): FormName => {
    if (n === 1) return 'verse';
    if (i === 0 && label !== chorus && energies[0]! < energies[1]!) return 'intro';
    if (i === n - 1 && label !== chorus && energies[i]! < energies[i - 1]!) return 'outro';
    if (label === chorus) return 'chorus';
    return recurring.length > 0 && count(label) === 1 && i > firstChorus && i < n - 1 ? 'bridge' : 'verse';
  });
}
