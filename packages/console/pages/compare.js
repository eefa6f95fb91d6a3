import { formatSeconds, h, playable } from '../dom.js';
import { peaksOf, waveform } from '../waveform.js';

/**
 * Before and after of a replace-section on one waveform: the source in grey, the result in
 * colour, the replaced range shaded. The A/B switch hands the playback position from one
 * player to the other, so the same bar can be heard both ways.
 */
export async function beforeAfter({ beforeUrl, afterUrl, range, signal }) {
  const before = h('audio', { controls: true, preload: 'auto', src: beforeUrl, 'aria-label': 'Before: the source' });
  const after = h('audio', { controls: true, preload: 'auto', src: afterUrl, 'aria-label': 'After: the result' });
  const players = { A: before, B: after };
  let active = 'B';
  const position = h('span', { class: 'mono', 'aria-live': 'off' }, '0.00 s');
  const peaksNote = h('div');

  const switchTo = (side) => {
    if (side === active) return;
    const from = players[active];
    const to = players[side];
    const playing = !from.paused;
    to.currentTime = Math.min(from.currentTime, Number.isFinite(to.duration) ? to.duration : from.currentTime);
    from.pause();
    if (playing) to.play().catch(() => {});
    active = side;
    for (const button of switcher.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.side === side));
  };
  const switcher = h(
    'div',
    { class: 'ab', role: 'group', 'aria-label': 'Listen to' },
    h('button', { type: 'button', 'data-side': 'A', 'aria-pressed': 'false', onclick: () => switchTo('A') }, 'A: before'),
    h('button', { type: 'button', 'data-side': 'B', 'aria-pressed': 'true', onclick: () => switchTo('B') }, 'B: after'),
  );

  let wave = null;
  try {
    const [beforePeaks, afterPeaks] = await Promise.all([peaksOf(beforeUrl), peaksOf(afterUrl)]);
    const duration = Math.max(beforePeaks.duration, afterPeaks.duration);
    wave = waveform({
      duration,
      layers: [
        { peaks: beforePeaks, colour: 'rgba(120, 124, 134, 0.55)' },
        { peaks: afterPeaks, colour: 'rgba(36, 89, 199, 0.75)' },
      ],
      range,
      label: `Waveform of before (grey) and after (blue)${range ? `, seconds ${range.start} to ${range.end} replaced` : ''}; arrow keys move the playback position`,
      onSeek: (seconds) => {
        players[active].currentTime = seconds;
        wave.setCursor(seconds);
      },
    });
  } catch (error) {
    if (signal.aborted) return h('div');
    peaksNote.append(h('p', { class: 'message error', role: 'alert' }, `The waveform could not be drawn: ${error.message}`));
  }
  for (const [side, player] of Object.entries(players)) {
    player.addEventListener('timeupdate', () => {
      if (side !== active) return;
      position.textContent = formatSeconds(player.currentTime);
      wave?.setCursor(player.currentTime);
    });
    // Pressing play on the other player makes it the active side, at its own position.
    player.addEventListener('play', () => {
      if (side === active) return;
      players[active].pause();
      active = side;
      for (const button of switcher.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.side === side));
    });
  }
  signal.addEventListener('abort', () => {
    before.pause();
    after.pause();
  });

  return h(
    'section',
    { class: 'panel', 'aria-label': 'Before and after' },
    h('h2', {}, 'Before and after'),
    range ? h('p', {}, `Replaced: ${formatSeconds(range.start)} – ${formatSeconds(range.end)} (shaded).`) : null,
    wave?.element,
    peaksNote,
    h('p', { class: 'row' }, switcher, h('span', {}, 'Position: ', position)),
    h(
      'div',
      { class: 'players' },
      h('figure', {}, h('figcaption', {}, 'A: before (the source)'), playable(before, 'The source')),
      h('figure', {}, h('figcaption', {}, 'B: after (the result)'), playable(after, 'The result')),
    ),
  );
}
