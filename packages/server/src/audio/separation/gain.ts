/**
 * What a stage of a render did to each sample, as a gain: the stage's output over its input,
 * sample by sample. Every stage that turns reprise's raw mix into a track (normalisation, soft
 * clip, loudness, limiter, fades) acts on each sample alone or through a gain curve, so parts
 * that went through it together each take their share of the output by this gain.
 */

/**
 * A running `output / input`: where the input is exactly zero the ratio says nothing, and the
 * gain of the sample before is held there (1 before any), which is what a gain curve does between
 * two samples. Output and input come from the same render, so the ratio is as exact as their
 * floats: no sample is near zero by a rounding of the other. One per channel, fed in order.
 */
export function heldRatio(): (output: number, input: number) => number {
  let held = 1;
  let seen = false;
  return (output, input) => {
    if (input !== 0) {
      held = output / input;
      seen = true;
    }
    return seen ? held : 1;
  };
}

/** `output[c][i] / input[c][i]` (see `heldRatio`), written into `into` (which may be `input` or `output` itself). */
export function stageGain(output: readonly Float32Array[], input: readonly Float32Array[], into: readonly Float32Array[]): void {
  for (const [c, out] of output.entries()) {
    const source = input[c]!;
    const gain = into[c]!;
    // Before the first non-zero input, the first gain there is.
    let first = 0;
    while (first < out.length && source[first] === 0) first++;
    const ratio = heldRatio();
    if (first < out.length) ratio(out[first]!, source[first]!);
    for (let i = 0; i < out.length; i++) gain[i] = ratio(out[i]!, source[i]!);
  }
}

/** `into[c][i] = a[c][i] × b[c][i]`. */
export function multiplyInto(a: readonly Float32Array[], b: readonly Float32Array[], into: readonly Float32Array[]): void {
  for (const [c, left] of a.entries()) {
    const right = b[c]!;
    const out = into[c]!;
    for (let i = 0; i < out.length; i++) out[i] = left[i]! * right[i]!;
  }
}
