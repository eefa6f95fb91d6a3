/**
 * A waveform for display (KIE's `waveformData`): the loudest sample of each of `points` equal
 * stretches of the audio, across channels, as a share of the loudest sample of the whole track,
 * so the peak of the song reads 1 and silence 0. Peaks rather than RMS because a display draws
 * the envelope a listener sees in an editor; four decimals are finer than any screen.
 */
export function waveformPeaks(channels: readonly Float32Array[], points: number): number[] {
  const length = channels[0]?.length ?? 0;
  const count = Math.max(0, Math.min(Math.floor(points), length));
  const peaks = new Array<number>(count).fill(0);
  let loudest = 0;
  for (let b = 0; b < count; b++) {
    const from = Math.floor((b * length) / count);
    const to = Math.floor(((b + 1) * length) / count);
    let peak = 0;
    for (const channel of channels) {
      for (let i = from; i < to; i++) {
        const v = Math.abs(channel[i]!);
        if (v > peak) peak = v;
      }
    }
    peaks[b] = peak;
    if (peak > loudest) loudest = peak;
  }
  if (!(loudest > 0)) return peaks;
  return peaks.map((peak) => Math.round((peak / loudest) * 10_000) / 10_000);
}
